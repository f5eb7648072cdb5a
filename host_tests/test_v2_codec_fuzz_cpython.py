# Hypothesis fuzz of the OVMS v2 line codec (ovms.v2.codec), CPython only:
# welcomes, base64, the RC4 session, paranoid wrapping and the line splitter.
# Garbage gives the codec's own errors (ProtocolError/AuthError/ValueError),
# never anything else, moves the receive stream by exactly the bytes of a
# base64 line (a sender in step still gets through), and every encoder
# round-trips exactly.
# FUZZ_EXAMPLES sets the number of examples (see fuzzing.py).
# Licence: MIT (this project).
from fuzzing import fuzz
from hypothesis import given
from hypothesis import strategies as st

from ovms.v2 import codec, login
from ovms.v2.crypto import b64decode, b64encode

# text without lone surrogates: MicroPython strings cannot hold them
utext = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200)
b64ish = st.text(alphabet=login.ALPHABET + "=\r\n *-_.", max_size=80)
tokens = st.text(alphabet=login.ALPHABET, min_size=1, max_size=30)
netpasses = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)


def _raises(fn, *args, exc=ValueError):
    try:
        return fn(*args)
    except exc:
        return exc


@fuzz()
@given(st.one_of(b64ish, st.text(max_size=60), st.binary(max_size=60)))
def test_fuzz_b64decode_garbage(text):
    r = _raises(b64decode, text)
    assert r is ValueError or isinstance(r, bytes)


@fuzz()
@given(st.binary(max_size=300))
def test_fuzz_b64_round_trip(raw):
    s = b64encode(raw)
    assert "\n" not in s and len(s) % 4 == 0
    assert b64decode(s) == raw
    assert b64decode(s.rstrip("=")) == raw  # missing padding tolerated


@fuzz()
@given(st.binary(min_size=16, max_size=16), st.lists(utext, min_size=1, max_size=6))
def test_fuzz_session_round_trip(key, messages):
    car = codec.Session(key)
    server = codec.Session(key)
    lines = codec.LineBuffer().feed(car.encode_lines([codec.PREFIX + m for m in messages]))
    assert len(lines) == len(messages)
    for m, line in zip(messages, lines, strict=True):
        assert server.decode(line) == codec.PREFIX + m


@fuzz()
@given(st.binary(min_size=16, max_size=16), st.lists(st.one_of(b64ish, st.binary(max_size=80))))
def test_fuzz_session_garbage(key, lines):
    sess = codec.Session(key)
    peer = codec.Session(key)  # the sender's RC4 stream, kept in step by hand
    for line in lines:
        r = _raises(sess.decode, line, exc=codec.ProtocolError)
        assert r is codec.ProtocolError or (isinstance(r, str) and r.startswith(codec.PREFIX))
        raw = _raises(b64decode, line)
        if raw is ValueError:
            assert r is codec.ProtocolError  # not base64: the stream does not move
        else:
            clear = codec.text(peer.tx.crypt(raw))  # base64: it moves by its bytes
            assert r == (clear if clear.startswith(codec.PREFIX) else codec.ProtocolError)
    # after any garbage, a genuine line of a sender in step still decodes
    assert sess.decode(peer.encode(codec.PREFIX + "A")) == codec.PREFIX + "A"


@fuzz()
@given(
    st.binary(min_size=16, max_size=16),
    st.sampled_from([c for c in "CDFLSWTZcfdsp7" if c not in codec.NO_WRAP]),
    utext,
)
def test_fuzz_paranoid_round_trip(pdigest, code, data):
    clear = codec.PREFIX + code + data
    wrapped = codec.wrap(clear, pdigest)
    assert wrapped.startswith("MP-0 EM" + code)
    assert codec.unwrap(wrapped, pdigest) == clear
    for exempt in codec.NO_WRAP:
        c = codec.PREFIX + exempt + data
        assert codec.wrap(c, pdigest) == c


@fuzz()
@given(st.binary(min_size=16, max_size=16), st.one_of(b64ish, utext).map(lambda s: "MP-0 EM" + s))
def test_fuzz_unwrap_garbage(pdigest, clear):
    r = _raises(codec.unwrap, clear, pdigest, exc=codec.ProtocolError)
    assert r is codec.ProtocolError or (isinstance(r, str) and r.startswith(codec.PREFIX))


@fuzz()
@given(tokens, tokens, netpasses, netpasses, st.one_of(st.text(max_size=80), b64ish))
def test_fuzz_welcomes(ctoken, stoken, netpass, other_pass, garbage):
    # the genuine server welcome gives its token; a wrong password, a replayed
    # token or garbage is an AuthError, nothing else
    good = login.server_welcome(stoken, netpass)
    if stoken != ctoken:
        assert login.check_server_welcome(good, ctoken, netpass) == stoken
    else:
        assert _raises(login.check_server_welcome, good, ctoken, netpass, exc=codec.AuthError)
    if other_pass != netpass:
        bad = login.server_welcome(stoken, other_pass)
        r = _raises(login.check_server_welcome, bad, ctoken + "x", netpass, exc=codec.AuthError)
        assert r is codec.AuthError
    for line in (garbage, "MP-S 0 " + garbage, "MP-S 0 %s %s" % (stoken, garbage)):
        r = _raises(login.check_server_welcome, line, ctoken, netpass, exc=codec.AuthError)
        assert r is codec.AuthError or r == stoken
    # the server side of the same handshake (tools.ovms_v2_server)
    vid = "TWIZY"
    car = login.car_welcome(ctoken, netpass, vid)
    assert login.parse_car_welcome(car, lambda v: netpass if v == vid else None) == (ctoken, vid)
    for line in (garbage, "MP-C 0 " + garbage):
        r = _raises(login.parse_car_welcome, line, lambda v: netpass, exc=codec.AuthError)
        assert r is codec.AuthError or (isinstance(r, tuple) and len(r) == 2)


@fuzz()
@given(st.lists(st.binary(max_size=40), max_size=20), st.integers(8, 64))
def test_fuzz_line_buffer(chunks, limit):
    # the lines that come out are the LF-separated non-empty lines of the
    # stream (one CR before the LF cut), until a line outgrows the limit
    lb = codec.LineBuffer(limit)
    got = []
    stream = b""
    for c in chunks:
        stream += c
        try:
            got.extend(lb.feed(c))
        except codec.ProtocolError:
            assert len(stream) - (stream.rfind(b"\n") + 1) > limit
            return
        assert len(lb.buf) <= limit
    want = []
    for line in stream.split(b"\n")[:-1]:
        if line.endswith(b"\r"):
            line = line[:-1]
        if line:
            want.append(line)
    assert got == want


@fuzz()
@given(st.binary(max_size=200))
def test_fuzz_text_never_raises(raw):
    s = codec.text(raw)
    assert isinstance(s, str)
    try:
        assert s == raw.decode()
    except UnicodeDecodeError:
        assert s == raw.decode("latin-1")
