# The virtual Twizy (tools/vtwizy): seeded and lazy; the IDs, periods and battery
# bursts of the real traces; and the cross-check: its frames, decoded by our decoder
# (lib/ovms/twizy, the module's whole core ticking each second), give the model's own
# values. Both runtimes (the same stream byte for byte). Licence: MIT (this project).
# The long runs (a whole charge, the whole day) are in test_vtwizy_cpython.py.

import hashlib

from support import trace
from twizy_helpers import Link, fresh

from ovms.canlog import parse_line
from tools import vtwizy
from tools.replay_run import Replayer
from tools.vtwizy import encoder

TRACE_NAMES = ("Init-Drv", "End-Drv", "Init-Chg", "End-Chg", "Init-Trc", "End-Trc")
GROUP = (0x554, 0x556, 0x557, 0x55E, 0x55F)


def _digest(name, seed, n):
    h = hashlib.sha256()
    for k, (t, i, d) in enumerate(vtwizy.scenario(name, seed)):
        h.update(b"%d %d " % (t, i) + d)
        if k + 1 == n:
            break
    return h.digest()


def test_same_seed_same_frames_in_both_runtimes():
    a = _digest("drive", 3, 20000)
    assert a == _digest("drive", 3, 20000)
    assert a != _digest("drive", 4, 20000)
    # the same bytes under CPython and the unix port (integer model, IEEE doubles)
    assert a[:8] == bytes.fromhex("b217a5932b9ee9c5"), a[:8]


def test_unknown_scenario_is_a_clear_error():
    try:
        vtwizy.scenario("holiday")
        raise AssertionError("no error")
    except ValueError as e:
        assert "holiday" in str(e) and "day, charge, drive, parked" in str(e)


def _trace_ids(names):
    ids = set()
    for n in names:
        with open(trace(n)) as f:
            for line in f:
                ids.add(parse_line(line)[1])
    return ids


def _frames(name, seconds, start_s=0, ids=None):
    # the frames of a scenario between start_s and start_s + seconds of scenario time
    # (only those IDs), streamed
    for f in vtwizy.scenario(name, 1):
        t = f[0]
        if t >= (start_s + seconds) * 1_000_000:
            break
        if t >= start_s * 1_000_000 and (ids is None or f[1] in ids):
            yield f


def _take(name, seconds, start_s=0, ids=None, data=True):
    # _frames as a list (only those IDs: the unix port's 8 MB heap holds no minute of the
    # whole bus); without data: (t, id) pairs only
    return [f if data else f[:2] for f in _frames(name, seconds, start_s, ids)]


def _ids_seen(name, seconds, start_s):
    # (the set of IDs, the frame count) of _frames, kept as a set only: a list of a minute
    # of the bus needs a 128 KB block, which a long test run's fragmented heap on the unix
    # port could not place
    ids = set()
    n = 0
    for f in _frames(name, seconds, start_s):
        ids.add(f[1])
        n += 1
    return ids, n


def test_every_id_of_the_traces_at_their_periods():
    # drive: 1 min parked, key on at 60 s; the steady bus from 90 s on
    drv = _take("drive", 10, 90, data=False)
    assert set([f[1] for f in drv]) == _trace_ids(("Init-Drv", "End-Drv"))
    rate = len(drv) / 10
    assert 400 <= rate <= 540, rate
    want = {0x155: 10, 0x196: 10, 0x19F: 10, 0x080: 20, 0x597: 100, 0x599: 100, 0x556: 100}
    for i in (0x423, 0x424, 0x425, 0x426, 0x436, 0x59B, 0x59E, 0x5D7, 0x627, 0x628, 0x629):
        want[i] = 100
    for i in (0x554, 0x557, 0x55E, 0x55F, 0x69F):
        want[i] = 1000
    want[0x659] = 3000
    want[0x701] = 500
    for i in want:
        ts = [f[0] for f in drv if f[1] == i]
        gaps = [ts[k + 1] - ts[k] for k in range(len(ts) - 1)]
        if i == 0x556:  # the burst's 0x556 sits 0.2 ms before its slot's usual place
            gaps = [g for g in gaps if abs(g - 100_000) > 1000] or gaps
        mean = sum(gaps) // len(gaps)
        assert abs(mean - want[i] * 1000) <= want[i] * 10, (hex(i), mean)
    # the battery group: once a second, in order, back to back within 1.2 ms
    for k in range(len(drv)):
        if drv[k][1] == 0x554:
            burst = drv[k : k + 5]
            assert [f[1] for f in burst] == list(GROUP)
            assert burst[4][0] - burst[0][0] <= 1200
    # charging (key off): the IDs of the charge traces only
    chg, n = _ids_seen("charge", 10, 30)
    assert chg == _trace_ids(("Init-Chg", "End-Chg"))
    assert 180 <= n / 10 <= 260
    # the 12 V top-up at 03:00 of the day: the IDs of the top-up traces
    top, _n = _ids_seen("day", 60, 3 * 3600)
    assert top == _trace_ids(("Init-Trc", "End-Trc"))


def test_switch_on_sequence_as_in_init_drv():
    # 0x597 b1 F0 -> F4 -> F5 -> 95; 0x155 b3 0x94 before 0x54; first burst all 0xFF
    frames = _take("drive", 4, 60)
    st = []
    for _, i, d in frames:
        if i == 0x597 and (not st or st[-1] != d[1]):
            st.append(d[1])
    assert st == [0xF0, 0xF4, 0xF5, 0x95]
    b3 = [d[3] for _, i, d in frames if i == 0x155]
    assert b3[0] == 0x94 and b3[-1] == 0x54 and b3 == sorted(b3, reverse=True)
    first = [d for _, i, d in frames if i == 0x554][0]
    assert first == encoder.FF_GROUP[0x554]


def _cross_check(name, seconds, start_s=0):
    # every frame into the module's core (ticking each second); after each frame the
    # decoded value must be the model's -> counts of comparisons per value
    sc = vtwizy.scenario(name, 1)
    v = fresh()
    rp = Replayer(v, Link(), skip_idle=False)
    st = v.st
    n = {}
    sets = 0
    stop = (start_s + seconds) * 1_000_000
    for t, i, d in sc:
        if t >= stop:
            break
        rp.frame(t, i, d)
        if t < start_s * 1_000_000:
            continue
        m = sc.model
        if i == 0x155 and d[3] == 0x54:
            _eq(n, "soc", st.soc, m.soc_raw() >> 2)
            _eq(n, "power", st.power, m.current_q())
        elif i == 0x597:
            _eq(n, "key", st.status & 0x10 != 0, m.key_on)
            if st.status & 0x40 == 0:
                _eq(n, "charging", st.status & 0x60 == 0x20, m.charging)
            _eq(n, "tpem", st.car_tpem, m.truth()["charger_c"])
        elif i == 0x599:
            if st.status & 0x40 == 0 and m.key_on:
                _eq(n, "speed", st.speed, m.speed_c)
            if st.status & 0x60 == 0 and d[5] != 0xFF:
                _eq(n, "range", st.range_km, m.range_km)
        elif i == 0x5D7:
            _eq(n, "odo", st.odo, m.odo_10m())
        elif i == 0x59E:
            tm = m.truth()["inverter_c"]
            _eq(n, "tmotor", st.car_tmotor, tm if tm > 0 else 0)
        elif i == 0x69F:
            _eq(n, "vin", bytes(st.vin).decode(), m.vin)
        elif i == 0x55F and st.sensor_sets > sets:
            sets = st.sensor_sets
            tr = m.truth()
            _eq(n, "cells", list(st.cell_act), tr["cells_5mv"])
            _eq(n, "temps", list(st.temp_act), tr["temps_raw"])
            _eq(n, "pack", st.pack_act, tr["pack_dv"])
    return n, v, sc


def _eq(n, what, got, want):
    assert got == want, (what, got, want)
    n[what] = n.get(what, 0) + 1


def test_drive_frames_decode_to_the_model():
    n, v, sc = _cross_check("drive", 240, 60)  # key on, 3.7 min of the commute
    assert n["soc"] > 20000 and n["power"] > 20000 and n["odo"] > 2000
    assert n["speed"] > 2000 and n["range"] > 2000 and n["tmotor"] > 2000
    assert n["cells"] >= 230 and n["temps"] >= 230 and n["pack"] >= 230 and n["vin"] > 200
    st = v.st
    # the car moved more than 1 km and is on (switch-on seen by the core's tick)
    assert sc.model.trip_mm > 1_000_000 and st.odo == sc.model.odo_10m()
    assert st.car_doors1 & 0x80


def test_charge_frames_decode_to_the_model():
    n, v, sc = _cross_check("charge", 200)
    assert n["charging"] > 1500 and n["soc"] > 15000 and n["cells"] >= 190
    st = v.st
    assert st.status & 0x60 == 0x20 and st.power == sc.model.current_q() == -132  # 33 A
    assert st.car_chargestate == 1


def _status_runs(frames):
    # 0x597 b1 with repeats removed
    out = []
    for f in frames:
        if f[1] == 0x597 and (not out or out[-1] != f[2][1]):
            out.append(f[2][1])
    return out


def _scenario_runs(name, a_s, b_s):
    # the same, straight from the stream (no frame list: on the unix port a list of
    # survivors spread through millions of short-lived frames fragments the heap)
    out = []
    for t, i, d in vtwizy.scenario(name, 1):
        if t >= b_s * 1_000_000:
            break
        if i == 0x597 and t >= a_s * 1_000_000 and (not out or out[-1] != d[1]):
            out.append(d[1])
    return out


def _trace_status(name):
    rows = []
    with open(trace(name)) as f:
        for line in f:
            t, i, d = parse_line(line)
            rows.append((t, i, d))
    return _status_runs(rows)


def test_key_charge_and_topup_sequences_as_in_the_traces():
    # every switch-on/-off of the day, as 0x597 b1 runs, equals the real trace's
    window = _scenario_runs

    drv = window("drive", 55, 90)
    assert drv == _trace_status("Init-Drv")  # F0 F4 F5 95
    end = window("drive", 1545, 1605)  # parked 30 s, key off, silent
    assert end[-5:] == _trace_status("End-Drv")  # 95 85 E5 E4 E0
    chg = window("charge", 0, 20)
    assert chg == _trace_status("Init-Chg")[: len(chg)] and chg[-1] == 0xA4
    top = window("day", 3 * 3600, 3 * 3600 + 300)
    assert top == _trace_status("Init-Trc") + _trace_status("End-Trc")[1:]
    # gear and GO (0x59B): N at key on, D with GO once moving
    frames = _take("drive", 40, 60, (0x59B,))
    gears = [(f[2][0], f[2][1] & 0x01) for f in frames if f[1] == 0x59B]
    assert gears[0] == (0x20, 0) and (0x80, 1) in gears


def test_truth_at_any_time_and_seeds_differ():
    sc = vtwizy.scenario("drive", 2)
    last = None
    for t, _, _ in sc:
        if t >= 120_000_000:
            break
        last = sc.truth()
    at = sc.truth_at(120_000_000)
    for k in last:
        if k != "t_us":
            assert at[k] == last[k], (k, at[k], last[k])
    assert at["t_us"] == 120_000_000 and at["key_on"] and at["speed_c"] > 0
    other = vtwizy.scenario("drive", 3).truth_at(0)
    assert other["vin"] != at["vin"] or other["cells_5mv"] != at["cells_5mv"]
    # the GPS at home before the drive, moving east along the first street after
    g0 = sc.gps_at(0)
    g1 = sc.gps_at(120_000)
    assert g0[1:4] == (48_137_000, 11_575_000, 520) and g1[2] > g0[2] and g1[5] == 90
