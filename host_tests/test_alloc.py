# The frame path and the per-second tick allocate nothing: proven on the unix
# port with micropython.heap_lock() (any allocation raises MemoryError there).
# Under CPython the same paths run for behaviour only.
from support import MICROPYTHON
from twizy_helpers import fresh

from ovms.twizy import debug_chunks

try:
    import micropython
except ImportError:
    micropython = None

# one frame of every used ID, with realistic data, plus unknown and short ones
_STREAM = (
    [(i, d) for i, d in debug_chunks.frames(0)]
    + [(i, d) for i, d in debug_chunks.frames(10)]
    + [
        (0x5D7, bytes.fromhex("00000406768000")),
        (0x556, bytes.fromhex("335333333333333A")),  # 10 Hz repeat
        (0x155, bytes.fromhex("0797C854961800")),  # DLC 7
        (0x155, bytes.fromhex("FF97D09400080072")),  # switch-on phase
        (0x080, bytes.fromhex("0102030405060708")),  # unknown IDs
        (0x196, bytes.fromhex("0102030405060708")),
        (0x423, bytes.fromhex("0300FFFF00E00024")),
        (0x597, bytes.fromhex("00E4")),  # short
        (0x55F, bytes.fromhex("FFFF73000023D23D")),  # real 0x55F (D25)
    ]
)


def _prepare():
    v = fresh()
    n = len(_STREAM)
    ids = [0] * n
    slots = [bytearray(8) for _ in range(n)]
    dlcs = [0] * n
    for k in range(n):
        ids[k] = _STREAM[k][0]
        d = _STREAM[k][1]
        slots[k][: len(d)] = d
        dlcs[k] = len(d)
    return v, ids, slots, dlcs


def _decode_all(frame, ids, slots, dlcs, rounds):
    n = len(ids)
    for _ in range(rounds):
        for k in range(n):
            frame(ids[k], slots[k], dlcs[k])


def _ticks(tick, count):
    for _ in range(count):
        tick()


def test_frame_path_allocates_nothing():
    v, ids, slots, dlcs = _prepare()
    frame = v.frame
    _decode_all(frame, ids, slots, dlcs, 1)  # VIN decoded once, tables warm
    if MICROPYTHON:
        micropython.heap_lock()
        try:
            _decode_all(frame, ids, slots, dlcs, 200)
        finally:
            micropython.heap_unlock()
    else:
        _decode_all(frame, ids, slots, dlcs, 200)
    st = v.st
    assert st.frames == len(ids) * 201
    assert st.soc == 9606 and st.vin_text() == "7378280"
    assert st.dropped[0] == 201  # the short 0x597 each round
    assert st.pack_act == 574


def test_tick_allocates_nothing():
    # every tick path: switch-on, battery collection with statistics, level
    # sections, charge state machine, minute work
    v, ids, slots, dlcs = _prepare()
    v.cfg.set_feature(8, "1", save=False)
    v.cfg.set_feature(10, "80", save=False)
    v.cfg.set_feature(12, "80", save=False)
    v.gps_fix(51000000, 7000000, 100, 90)
    _decode_all(v.frame, ids, slots, dlcs, 1)
    v.tick()
    tick = v.tick
    frame = v.frame
    if MICROPYTHON:
        micropython.heap_lock()
        try:
            for _ in range(130):
                _decode_all(frame, ids, slots, dlcs, 1)  # a new sensor set each second
                _ticks(tick, 1)
        finally:
            micropython.heap_unlock()
    else:
        for _ in range(130):
            _decode_all(frame, ids, slots, dlcs, 1)
            _ticks(tick, 1)
    assert v.st.tick == 131
    assert v.st.car_tbattery == 11
    assert v.st.volt_watches == 1
