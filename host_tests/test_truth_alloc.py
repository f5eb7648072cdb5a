# The owner decisions D65-D68 (exact=False) keep the frame path and the per-second
# tick allocation-free: proven on the unix port (and the emulated Cortex-M) with
# micropython.heap_lock(). Under CPython the same paths run for behaviour only.
from support import MICROPYTHON, frame

from ovms.config import Config
from ovms.twizy import debug_chunks
from ovms.twizy.vehicle import Twizy

try:
    import micropython
except ImportError:
    micropython = None

_KEY_ON = frame("00 95 21 41 29 00 01 35")
_CHARGING = frame("20 A4 03 B1 29 00 01 64")
_OFFLINE = frame("20 E4 03 D1 2F 00 01 4E")  # one offline frame in a charge (D67)
_SOC = frame("07 97 C7 54 97 98 00 73")  # 97.02 %
_RANGE = frame("00 00 0D 80 FF 46 00 00")  # 70 km


def _battery_frames():
    out = []
    for can_id, data in debug_chunks.frames(10):
        slot = bytearray(8)
        slot[: len(data)] = data
        out.append((can_id, slot, len(data)))
    return out


def _second(v, status, battery):
    # one second of bus: status, SOC, range, a battery set
    v.frame(0x597, status[0], status[1])
    v.frame(0x155, _SOC[0], _SOC[1])
    v.frame(0x599, _RANGE[0], _RANGE[1])
    for can_id, slot, dlc in battery:
        v.frame(can_id, slot, dlc)


def _run(v, statuses, battery, seconds):
    # statuses[k % len]: the status frame of second k
    n = len(statuses)
    for k in range(seconds):
        _second(v, statuses[k % n], battery)
        v.tick()


def test_owner_tick_allocates_nothing():
    cfg = Config({2: "K"})
    cfg.set_feature(9, "99", save=False)  # minimum-SOC check armed
    v = Twizy(cfg, exact=False)
    battery = _battery_frames()
    st = v.st
    drive = [_KEY_ON]
    flicker = [_CHARGING, _CHARGING, _CHARGING, _CHARGING, _OFFLINE]
    # warm-up outside the lock: one of each path, tables and small ints settled
    _run(v, drive, battery, 2)
    _run(v, flicker, battery, 5)
    if MICROPYTHON:
        micropython.heap_lock()
        try:
            _run(v, drive, battery, 20)  # key on: switch-on reset (D66), ranges (D65)
            _run(v, flicker, battery, 70)  # charge with a flicker every 5 s (D67)
            _run(v, drive, battery, 40)  # charge end, switch-on, minute work (D68)
        finally:
            micropython.heap_unlock()
    else:
        _run(v, drive, battery, 20)
        _run(v, flicker, battery, 70)
        _run(v, drive, battery, 40)
    assert st.tick == 137
    assert st.soc_announced and st.soc_min_range == 70 and st.car_estrange == 44
    assert st.car_chargestate == 4 and st.car_doors1 == 0x80  # switch-on after the charge
    assert st.car_tbattery == 11
