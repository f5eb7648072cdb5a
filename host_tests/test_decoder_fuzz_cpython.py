# Hypothesis fuzz of the frame decoder and tick: random IDs, lengths and bytes.
# No exception, every table stays in its range, every frame is counted, and
# frames of IDs the module does not use change nothing. CPython only.
# FUZZ_EXAMPLES sets the number of examples (see fuzzing.py).
from fuzzing import fuzz
from hypothesis import given
from hypothesis import strategies as st_
from twizy_helpers import fresh

from ovms.twizy.frames import USED_IDS
from tools.replay_run import snapshot

frames = st_.lists(
    st_.tuples(
        st_.one_of(
            st_.sampled_from(USED_IDS), st_.integers(0, 0x7FF), st_.integers(0, 0x1FFFFFFF)
        ),
        st_.binary(min_size=0, max_size=8),
        st_.booleans(),  # run a tick after this frame
    ),
    max_size=40,
)


def _check(v):
    st = v.st
    assert 0 <= st.soc <= 10000
    assert 0 <= st.soc_min <= 10000 and 0 <= st.soc_max <= 10000
    assert st.range_km >= 0
    assert 0 <= st.speed <= 0xFFFE
    assert -2000 < st.power <= 2000
    assert 0 <= st.odo < 1 << 28
    assert 0 <= st.status <= 255
    assert st.car_chargestate in (1, 2, 4, 21)
    assert 0 <= st.sensor_state <= 5
    assert all(0 <= c <= 0xFFF for c in st.cell_act)
    assert all(0 <= t <= 255 for t in st.temp_act)
    assert 0 <= st.pack_act <= 0xFFF
    assert 0 <= st.volt_alerts < 1 << 14 and 0 <= st.volt_watches < 1 << 14
    assert 0 <= st.temp_alerts < 1 << 7 and 0 <= st.temp_watches < 1 << 7
    assert all(v >= 0 for v in st.speedpwr) and all(
        v >= 0 for i, v in enumerate(st.levelpwr) if i % 3
    )
    assert -40 <= st.car_tpem < 200 and 0 <= st.car_tmotor < 200
    vin = st.vin_text()
    assert vin is None or (len(vin) == 7 and all(c in "0123456789ABCDEF" for c in vin))
    # every text output still renders
    for word, args in (
        ("STAT", []),
        ("BATT", []),
        ("BATT", ["V"]),
        ("BATT", ["TD"]),
        ("POWER", []),
        ("CA?", []),
    ):
        for part in v.sms(word, args):
            assert isinstance(part, str)


def _run(seq):
    v = fresh()
    slot = bytearray(8)
    for can_id, data, tick in seq:
        slot[: len(data)] = data
        v.frame(can_id, slot, len(data))
        if tick:
            v.tick()
    return v


@fuzz()
@given(frames)
def test_fuzz_decoder(seq):
    v = _run(seq)
    _check(v)
    st = v.st
    assert st.frames == len(seq)
    assert sum(st.dropped) <= st.frames
    assert st.tick == len([x for x in seq if x[2]])


_UNUSED = st_.one_of(
    st_.integers(0, 0x154),
    st_.integers(0x156, 0x553),
    st_.integers(0x554, 0x69F),
    st_.integers(0x6A0, 0x1FFFFFFF),
).filter(lambda i: i not in USED_IDS)


@fuzz()
@given(frames, st_.lists(st_.tuples(_UNUSED, st_.binary(max_size=8)), min_size=1, max_size=8))
def test_fuzz_unused_ids_change_nothing(seq, noise):
    # the same frames with unused IDs mixed in: the same state (frame counter aside)
    a = _run(seq)
    mixed = []
    for k, item in enumerate(seq):
        mixed.append(item)
        if k < len(noise):
            mixed.append((noise[k][0], noise[k][1], False))
    mixed.extend([(i, d, False) for i, d in noise[len(seq) :]])
    b = _run(mixed)
    assert b.st.frames == a.st.frames + len(noise)
    b.st.frames = a.st.frames
    assert snapshot(a) == snapshot(b)
