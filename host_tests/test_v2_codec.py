# OVMS v2 codec: protocol §12 worked example byte for byte, crypto primitives,
# welcome checks, paranoid wrapping, line splitting. Both runtimes.
# Licence: MIT (this project).
import binascii

from ovms.v2 import codec, crypto, login

VID = "TWIZY42"
NETPASS = "NETPASS42"
MODPASS = "OVMS"
CTOKEN = "3kR9xLq2ZpW7vNc5TbHf0A"
STOKEN = "Yd8Qm1Jt6sGe4Ua0Lw2Rnz"
PTOKEN = "Pq7Wm2Xk9Rt4Zs1Vb6Nc3D"
SERVER_WELCOME = "MP-S 0 Yd8Qm1Jt6sGe4Ua0Lw2Rnz w1XWTJCgOgw/NniefQ/5sA=="
S_LINE = "MP-0 S81,K,230,10,done,standard,80,72,0,0,0,0,0,4,0,0,0,-1"
H_LINE = "MP-0 HRT-GPS-Log,43210,86400,52.522468,13.409012,46,90,30,1,120,17"
CAR_WIRE = (
    (S_LINE, "W+IjaF8EK/mQXbidzvaR3k4rH9DWcuLzVJ5uBs7o5CgWw2v5olDEQLSwvWKZdcE5ZB9kw52qhb53+A=="),
    (
        H_LINE,
        "CcOVPsXM6J6a+4w5tBKM4ofMOzm9cI1JLFpo+Mo3gD0KvBjUuFXhGccnLfchXpspWihtoaX8krSZWQgBofBgmQoW",
    ),
    ("MP-0 a", "srnS/dLJ"),
)
WRAPPED_DATA = "UfMp9WtxKRdssAvT8Ofs3tYyDBYZZGeQAG6Y0BWRONeKfRtRe2snKiMxwz4yRXKO5bTgRw=="


def _hex(b):
    return binascii.hexlify(b).decode()


def _key():
    return login.session_key(NETPASS, STOKEN, CTOKEN)


# ---- §12 vectors -------------------------------------------------------------------
def test_handshake_digests():
    assert _hex(login.hmac_md5(NETPASS, CTOKEN)) == "7577a0ca2da7fa8e0ad7e0d80d3555fc"
    assert _hex(login.hmac_md5(NETPASS, STOKEN)) == "c355d64c90a03a0c3f36789e7d0ff9b0"
    assert login.digest(NETPASS, CTOKEN) == "dXegyi2n+o4K1+DYDTVV/A=="


def test_car_welcome_line():
    line = login.car_welcome(CTOKEN, NETPASS, VID)
    assert line == "MP-C 0 3kR9xLq2ZpW7vNc5TbHf0A dXegyi2n+o4K1+DYDTVV/A== TWIZY42"


def test_token_from_stubbed_random():
    # a random source returning the indices of the §12 car token gives it back
    idx = bytes([login.ALPHABET.index(c) for c in CTOKEN])
    assert login.make_token(lambda n: idx[:n]) == CTOKEN
    # high bits are ignored: every byte maps into the alphabet
    t = login.make_token(lambda n: bytes([255 - i for i in range(n)]))
    assert len(t) == 22 and all(c in login.ALPHABET for c in t)


def test_server_welcome_accepted():
    assert login.server_welcome(STOKEN, NETPASS) == SERVER_WELCOME
    assert login.check_server_welcome(SERVER_WELCOME, CTOKEN, NETPASS) == STOKEN
    # padding stripped (as Perl clients send it) is still accepted
    assert login.check_server_welcome(SERVER_WELCOME[:-2], CTOKEN, NETPASS) == STOKEN


def test_session_key():
    assert _hex(_key()) == "b5a801866cb11b8424d1e4dd8fe5e34e"


def test_keystream_bytes():
    r = crypto.RC4(_key())
    assert _hex(r.crypt(bytes(8))) == "efd322012dd35c76"
    r = crypto.rc4_drop(_key())
    assert _hex(r.crypt(bytes(16))) == "16b20e587f5713c8bc1694affdc6bdef"
    # skip() and crypt() advance the stream alike
    r2 = crypto.RC4(_key())
    r2.crypt(bytes(1024))
    assert _hex(r2.crypt(bytes(16))) == "16b20e587f5713c8bc1694affdc6bdef"


def test_server_lines_decrypt():
    s = codec.Session(_key())
    assert s.decode("W+IjaF8NIw==") == "MP-0 Z0"
    assert s.decode(b"hew7pI++9w==") == "MP-0 C1"


def test_car_lines_encrypt():
    s = codec.Session(_key())
    # the server lines come first on the wire; rx must not disturb tx
    s.decode("W+IjaF8NIw==")
    s.decode("hew7pI++9w==")
    for clear, wire in CAR_WIRE:
        assert s.encode(clear) == wire


def test_wire_is_the_line_without_crlf_encrypted_in_place():
    # the uplink writes wire(m) then CRLF: the spec's vectors, the same keystream as
    # crypt(), and a message with non-ASCII text (UTF-8 on the wire)
    s = codec.Session(_key())
    for clear, wire in CAR_WIRE:
        assert s.wire(clear) == wire.encode()
    a = crypto.rc4_drop(b"k" * 16)
    b = crypto.rc4_drop(b"k" * 16)
    buf = bytearray(b"MP-0 Dx\xc3\xa9y")
    assert a.crypt_in(buf) is buf and bytes(buf) == b.crypt(b"MP-0 Dx\xc3\xa9y")
    car = codec.Session(b"k" * 16)
    srv = codec.Session(b"k" * 16)
    assert srv.decode(car.wire("MP-0 D\u00e9t\u00e9")) == "MP-0 D\u00e9t\u00e9"


def test_encode_lines_crlf_and_server_view():
    car = codec.Session(_key())
    data = car.encode_lines([m for m, _ in CAR_WIRE])
    assert data == "".join([w + "\r\n" for _, w in CAR_WIRE]).encode()
    srv = codec.Session(_key())
    lb = codec.LineBuffer()
    got = [srv.decode(x) for x in lb.feed(data)]
    assert got == [m for m, _ in CAR_WIRE]


def test_paranoid_wrap_vector():
    pd = login.paranoid_digest(MODPASS, PTOKEN)
    assert _hex(pd) == "11c1e7c3938a075457bafc6dc9464a83"
    wrapped = codec.wrap(S_LINE, pd)
    assert wrapped == "MP-0 EMS" + WRAPPED_DATA
    # a fresh RC4 per message: wrapping twice gives the same text
    assert codec.wrap(S_LINE, pd) == wrapped
    assert codec.unwrap(wrapped, pd) == S_LINE


def test_paranoid_exempt_codes():
    pd = login.paranoid_digest(MODPASS, PTOKEN)
    for m in (H_LINE, "MP-0 ETabc", "MP-0 A", "MP-0 a", "MP-0 gGRP,1", "MP-0 PAhello"):
        assert codec.wrap(m, pd) == m
    assert codec.wrap("MP-0 c1,0", pd).startswith("MP-0 EMc")
    assert codec.unwrap("MP-0 C1", pd) == "MP-0 C1"
    c = codec.wrap("MP-0 C203", pd)
    assert codec.unwrap(c, pd) == "MP-0 C203"


# ---- bad server welcomes (§2.4) ----------------------------------------------------------
def _rejected(line, ctoken=CTOKEN, netpass=NETPASS):
    try:
        login.check_server_welcome(line, ctoken, netpass)
    except codec.AuthError:
        return True
    return False


def test_bad_server_welcomes():
    assert _rejected(SERVER_WELCOME, netpass="WRONG")  # wrong digest
    bad = SERVER_WELCOME[:-24] + login.digest(NETPASS, CTOKEN)
    assert _rejected(bad)  # digest of another token
    assert _rejected(SERVER_WELCOME, ctoken=STOKEN)  # stoken == ctoken (replay)
    replay = login.server_welcome(CTOKEN, NETPASS)
    assert _rejected(replay)
    for junk in ("", "garbage", "MP-S 0", "MP-S 0 ", "MP-S 1 " + SERVER_WELCOME[7:],
                 "MP-C 0 " + SERVER_WELCOME[7:], "MP-S 0 " + STOKEN,
                 "MP-S 0 " + STOKEN + " !!!notbase64***", "MP-S 0  " + STOKEN):  # fmt: skip
        assert _rejected(junk), junk
    # the AuthError is a ProtocolError and a ValueError
    assert issubclass(codec.AuthError, codec.ProtocolError)
    assert issubclass(codec.ProtocolError, ValueError)


def test_car_welcome_parsed_by_server_side():
    line = login.car_welcome(CTOKEN, NETPASS, "twizy42")
    table = {"TWIZY42": NETPASS}
    assert login.parse_car_welcome(line, table.get) == (CTOKEN, "TWIZY42")
    for bad in (login.car_welcome(CTOKEN, "X", VID), login.car_welcome(CTOKEN, NETPASS, "NOPE")):
        try:
            login.parse_car_welcome(bad, table.get)
            raise AssertionError("accepted " + bad)
        except codec.AuthError:
            pass


def test_decode_rejects_broken_stream():
    s = codec.Session(_key())
    for bad in ("srnS/dLJ", "!!!", "QUJD"):  # wrong keystream / not base64 / not MP-0
        try:
            s.decode(bad)
            raise AssertionError("decoded " + bad)
        except codec.ProtocolError:
            pass


# ---- crypto primitives ----------------------------------------------------------------------
def test_md5_pure_matches():
    vectors = (
        (b"", "d41d8cd98f00b204e9800998ecf8427e"),
        (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
        (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (b"a" * 56, None),
        (b"x" * 64, None),
        (bytes(range(256)) * 3, None),
    )
    for data, want in vectors:
        got = login.md5_pure(data)
        if want is not None:
            assert _hex(got) == want
        assert got == login.md5(data)  # hashlib.md5 where present
    # HMAC with the fallback equals HMAC with hashlib
    assert login.hmac_md5(NETPASS, CTOKEN, login.md5_pure) == login.hmac_md5(NETPASS, CTOKEN)
    # RFC 2202 test case 2
    assert _hex(login.hmac_md5("Jefe", "what do ya want for nothing?")) == (
        "750c783e6ab0b503eaa86e310a5db738"
    )
    # long key (> 64 bytes) is hashed first (RFC 2202 test case 6)
    assert _hex(
        login.hmac_md5(b"\xaa" * 80, "Test Using Larger Than Block-Size Key - Hash Key First")
    ) == ("6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd")


def test_base64_helpers():
    assert crypto.b64encode(b"") == ""
    assert crypto.b64encode(b"\x00" * 40).find("\n") < 0  # one line, no wrap
    assert crypto.b64decode("YWJj") == b"abc"
    assert crypto.b64decode("YWI") == b"ab"  # missing padding tolerated
    for bad in ("Y", "YWJjZ"):
        try:
            crypto.b64decode(bad)
            raise AssertionError(bad)
        except ValueError:
            pass


# ---- line splitting (§1) -----------------------------------------------------------------------
def test_line_buffer():
    lb = codec.LineBuffer()
    assert lb.feed(b"abc") == []
    assert lb.feed(b"def\r\n\r\n\nxy") == [b"abcdef"]
    assert lb.feed(b"z\n") == [b"xyz"]
    assert lb.feed(b"\r\n") == []
    assert lb.feed(b"a\r\nb\nc\r") == [b"a", b"b"]
    assert lb.feed(b"\n") == [b"c"]
    assert lb.buf == b""
    small = codec.LineBuffer(limit=8)
    try:
        small.feed(b"0123456789")
        raise AssertionError("no limit")
    except codec.ProtocolError:
        pass
    assert small.feed(b"ok\n") == [b"ok"]


def test_text_decoding_never_raises():
    assert codec.text(b"MP-0 C7,STAT") == "MP-0 C7,STAT"
    assert codec.text(b"\xff\xfe") == "\xff\xfe"
