# The virtual Twizy's long runs through the module's core (CPython only: millions of
# frames): a whole charge (CC, CV, done) and the whole day (top-ups, the commute over
# the hill with GPS, the charge with one unplug), each frame cross-checked against the
# model where the decoder reads it. Licence: MIT (this project).

from test_vtwizy import _cross_check
from twizy_helpers import Link, fresh

from tools import vtwizy
from tools.replay_run import Replayer
from tools.vtwizy.route import HOME_ALT_M, HOME_LAT_E6, HOME_LON_E6


def test_whole_charge_cc_cv_done():
    n, v, sc = _cross_check("charge", 4 * 3600)
    st = v.st
    m = sc.model
    assert sc.end_us is None or sc.end_us <= 4 * 3600 * 1_000_000
    # charged to 100 %: the core saw it and says Done; CV came before the end
    assert m.charge_done and m.cv and st.soc_max == 10000
    assert st.car_chargestate == 4
    assert n["charging"] > 90_000 and n["cells"] > 9000
    ev = [e[1] for e in sc.events]
    assert ev == ["plug in", "charge done", "12 V top-up"]
    t_done = [e[0] for e in sc.events if e[1] == "charge done"][0]
    # 30 -> 100 %: CC 33 A to 94 % (~2.2 h) then CV (~40 min)
    assert 2.6 * 3600_000 < t_done < 3.3 * 3600_000, t_done


def test_whole_day_through_the_core():
    sc = vtwizy.scenario("day", 1)
    v = fresh(params={0: "+4915100000000", 3: "SMS,IP"})
    link = Link()
    rp = Replayer(v, link, skip_idle=False)
    st = v.st
    g = 0
    top_alt = 0
    climbed = 0
    for t, i, d in sc:
        rows = sc.gps_rows
        while g < len(rows) and rows[g][0] * 1000 <= t:
            rp.fix(rows[g][0] * 1000, rows[g])
            top_alt = max(top_alt, rows[g][3])
            g += 1
        rp.frame(t, i, d)
        if i == 0x5D7:
            assert st.odo == sc.model.odo_10m()
            climbed = max(climbed, st.levelpwr[0])  # reset at the charge start (D24)
    rp.finish(24 * 3600 * 1_000_000 - rp.t0)
    assert sc.end_us == 24 * 3600 * 1_000_000
    ev = [e[1] for e in sc.events]
    assert ev == [
        "12 V top-up",
        "key on",
        "drive",
        "parked",
        "key off",
        "plug in",
        "unplug",
        "plug in",
        "charge done",
        "12 V top-up",
    ]
    times = dict([(e[1], e[0]) for e in sc.events])
    drive_min = (times["parked"] - times["drive"]) / 60000
    assert 22 <= drive_min <= 28, drive_min
    # the GPS track: home, over the hill (+64 m), to work
    rows = sc.gps_rows
    assert rows[0][1:4] == (HOME_LAT_E6, HOME_LON_E6, HOME_ALT_M)
    assert top_alt >= HOME_ALT_M + 80 and rows[-1][1] != HOME_LAT_E6
    assert climbed >= 50, climbed  # the UP section's metres, from the GPS altitude
    # what the module said: the trip's power report, the unplug, the resume, done
    sms = link.sms
    kinds = [s.split("\n")[0] for s in sms]
    assert kinds.count("Charging Stopped") == 1 and kinds.count("Charging Done") == 1
    k = kinds.index("Charging Stopped")
    assert "Charging" in kinds[k + 1 :] and kinds.index("Charging Done") > k
    assert any(s.startswith("Power -") for s in sms)
    m = sc.model
    assert st.soc == m.soc_raw() >> 2 and st.soc > 9900  # after the last top-up
    assert st.car_chargestate == 4 and m.charge_done
    # the car's odometer moved by the route, 15.75 km
    assert abs(m.trip_mm // 1000 - 15750) < 60
