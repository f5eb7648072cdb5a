# The economy data profile loses nothing the owner needs (issue 10 §4): against rt25 on
# the same frames, the same alerts (server and SMS, same texts, same order), every record
# type, the same final values on the server, and fewer repeats; a minute's records in
# one TCP send; no duplicate status on reconnect; the budget slows the cadence.
# tools/data_report.py runs both profiles side by side on one frame stream.
from support import trace

from ovms import datause
from ovms.config import Config
from ovms.twizy.vehicle import Twizy
from ovms.v2.handler import Handler
from ovms.v2.periodic import interval_s
from tools import data_report

_TRACES = [trace(n) for n in ("Init-Drv", "End-Drv", "Init-Chg", "End-Chg")]
# RT-GPS-Log fields after type and recno: lifetime, lat, lon, alt, dir, speed, fix; the
# staleness countdown and the GSM signal are left out (they tick while parked)
_GPS_FIELDS = 6


def _frames():
    from tools.replay_io import frames

    return frames(_TRACES)


def _same_outcome(rt25, eco):
    assert rt25.alerts and rt25.alerts == eco.alerts
    assert rt25.link.sms and rt25.link.sms == eco.link.sms
    assert sorted(rt25.last) == sorted(eco.last)  # every history record type
    for key in rt25.server:
        if key[0] == "RT-GPS-Log" or key[0] == "status":
            continue  # live D/L carry countdowns: rt25's last set may simply be older
        assert eco.server.get(key) == rt25.server[key], key
    g_r = rt25.last["RT-GPS-Log"]
    g_e = eco.last["RT-GPS-Log"]
    assert g_r[0] == g_e[0]  # recno: the odometer
    assert g_r[1].split(",")[:_GPS_FIELDS] == g_e[1].split(",")[:_GPS_FIELDS]
    assert rt25.server[("status", "S")] == eco.server[("status", "S")]


def test_real_traces_same_alerts_types_and_final_values():
    # key on, drive end (switch-off: the power report), charge start, charge end
    rt25, eco = data_report.run(_frames(), until_s=None)
    _same_outcome(rt25, eco)
    assert "RT-PWR-BattCell" in rt25.last and "RT-PWR-UsageStats" in rt25.last
    assert data_report.records(eco) <= data_report.records(rt25)
    # the cells of a flush in one TCP send (window 24)
    assert max(eco.writes) >= 15


def test_virtual_drive_fewer_repeats_same_outcome():
    # the virtual Twizy's drive scenario cut after 5 minutes on the road (the bus falls
    # silent there: a drive that ended); GPS through the scenario's fixes
    from tools import vtwizy

    sc = vtwizy.scenario("drive", 1)
    sc.stop_us = 7 * 60 * 1000000  # 1 min parked, key on, 20 s in N, then driving
    rt25, eco = data_report.run(sc, gps=data_report.GpsFeed(sc.gps_rows))
    assert sorted(rt25.last) == sorted(eco.last)
    for key in rt25.server:
        if key[0] != "RT-GPS-Log" and key[0] != "status":
            assert eco.server.get(key) == rt25.server[key], key
    assert eco.server[("status", "S")] == rt25.server[("status", "S")]
    assert rt25.last["RT-GPS-Log"][0] == eco.last["RT-GPS-Log"][0]
    assert rt25.alerts == eco.alerts and rt25.link.sms == eco.link.sms
    n_r = data_report.records(rt25)
    n_e = data_report.records(eco)
    assert n_e * 2 < n_r, (n_e, n_r)
    assert eco.du.total() * 2 < rt25.du.total(), (eco.du.total(), rt25.du.total())


def test_no_duplicate_status_on_reconnect():
    for profile, crash_records in (("rt25", 2), ("economy", 1)):
        cfg = Config({16: profile})
        v = Twizy(cfg)
        h = Handler(cfg, v, None, randbytes=lambda n: bytes(n))
        lines = h.connected(0) + h.connected(100)
        assert len([x for x in lines if "DebugCrash" in x]) == crash_records, profile
        # the periodic set: what did not change is not sent again after a reconnect
        h.connected(200)
        first = h.periodic(210)
        assert [x[5] for x in first] == ["S", "L", "W", "D", "V"]
        h.connected(300)
        assert h.periodic(310) == []


def test_budget_slows_the_cadence():
    assert interval_s(0, True, True, 0) == 1800  # economy, busy: 30 min (D70)
    assert interval_s(0, True, True, 1) == 3 * 1800
    assert interval_s(0, False, True, 0) == 6 * 3600  # economy, idle: 6 h
    assert interval_s(0, False, True, 2) == 3 * 6 * 3600
    assert interval_s(1, False, True, 2) == 60  # an app watching: 2013 cadence
    assert interval_s(0, True) == 600 and interval_s(0, False) == 3600  # rt25
    car = data_report.Car("rt25", "100")  # 100 KB a month
    car.now = 3600
    assert car.v.cadence.level == 0 and not car.v.cadence.economy()
    car.du.up = 50000  # far over pace on the 2nd of the month
    car.plan.minute()
    assert car.v.cadence.level == 1 and car.v.cadence.economy()  # rt25 slowed too
    car.du.up = 95000
    car.plan.minute()
    assert car.v.cadence.level == 2
    assert car.t.ping_ms == datause.ping_s(datause.NAT_TIMEOUT_S) * 1000
