# Hypothesis fuzz of the MQTT 3.1.1 decoder (lib/ovms/mqtt/codec.py), CPython only.
# Whatever the broker sends, cut anywhere: only ProtocolError (a malformed length, which
# ends the connection) ever leaves feed(), every complete packet is decoded, dropped as
# bad or skipped as too big, the buffer stays bounded, and valid packets between
# garbage still come out exactly. FUZZ_EXAMPLES sets the number of examples (fuzzing.py).
# Licence: MIT (this project).
from fuzzing import EXAMPLES, fuzz
from hypothesis import given
from hypothesis import strategies as st

from ovms.mqtt import codec

MAX = 300


def _feed(p, data, cuts):
    out = []
    i = 0
    for c in sorted(cuts):
        out.extend(p.feed(data[i:c]))
        i = c
    out.extend(p.feed(data[i:]))
    return out


topics = st.text(alphabet="abc/xyz09é", min_size=1, max_size=40)
valid = st.one_of(
    st.builds(
        lambda t, b, q, r: bytes(codec.publish(t, b, q, r, 7 if q else 0)),
        topics,
        st.binary(max_size=200),
        st.sampled_from([0, 1]),
        st.booleans(),
    ),  # fmt: skip
    st.integers(1, 65535).map(codec.puback),
    st.just(b"\xd0\x00"),
    st.just(b"\x20\x02\x00\x00"),
)


@fuzz(EXAMPLES)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=8))
def test_random_bytes_only_protocol_error(data, cuts):
    p = codec.Parser(max_packet=MAX)
    cuts = [c for c in cuts if c <= len(data)]
    try:
        _feed(p, data, cuts)
    except codec.ProtocolError:
        assert p.bad >= 1
    assert len(p._buf) <= MAX + 5 + 600


@fuzz(EXAMPLES)
@given(st.lists(st.tuples(st.booleans(), valid, st.binary(max_size=8)), max_size=6),
       st.lists(st.integers(0, 2000), max_size=8))  # fmt: skip
def test_valid_packets_survive_garbage_that_parses_as_whole_packets(items, cuts):
    # garbage framed as whole packets of a type a client never receives (here CONNECT,
    # type 1, with a random body): dropped and counted, the valid ones decoded exactly
    stream = b""
    want = []
    bad = 0
    for with_junk, pkt, junk in items:
        if with_junk:
            stream += b"\x10" + bytes((len(junk),)) + junk
            bad += 1
        stream += pkt
        want.extend(codec.Parser().feed(pkt))
    p = codec.Parser(max_packet=MAX)
    got = _feed(p, stream, [c for c in cuts if c <= len(stream)])
    assert got == want and p.bad == bad and p.too_big == 0
