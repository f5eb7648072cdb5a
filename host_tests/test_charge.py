# spec §4.1 charge time table, §9.3 charge state machine, §9.5 sufficient charge
from twizy_helpers import Link, chunk_tick, feed, fresh

from ovms.twizy.charge import chargetime
from ovms.twizy.state import REQ_CHARGE, REQ_STAT

TABLE = (
    # soc, full, to 80 %, to 95 %
    (0, 220, 153, 187),
    (2000, 182, 115, 149),
    (5000, 124, 57, 91),
    (7777, 71, 4, 38),
    (9000, 48, 0, 15),
    (9399, 40, 0, 7),
    (9400, 40, 0, 7),
    (9702, 20, 0, 0),
    (9738, 17, 0, 0),
    (9999, 0, 0, 0),
    (10000, 0, 0, 0),
)


def test_chargetime_table():
    for soc, full, to80, to95 in TABLE:
        assert chargetime(soc, 10000) == full, soc
        assert chargetime(soc, 8000) == to80, soc
        assert chargetime(soc, 9500) == to95, soc


def test_chargetime_clamps_d12():
    assert chargetime(5000, 40000) == 124
    assert chargetime(5000, -5) == 0


SOC_ODO = "\n SOC: 97.02%% (97.02%%..97.02%%)\n ODO: 0 km"
S_NOT = "Not charging\n Full charge: 20 min.\n Range: %d - %d km" + SOC_ODO
S_TAIL = "\n CHG: 0 Wh\n Full: 20 min.\n Range: %d - %d km" + SOC_ODO


def _step(v, chunk):
    v.st.requests = 0
    if chunk is not None:
        v.inject(chunk)
    v.tick()
    return v.st.requests


def test_fresh_stat_after_one_tick():
    v = fresh()
    v.tick()
    assert v.stat_text() == (
        "Not charging\n Full charge: 124 min.\n Range: 50 - 50 km\n"
        " SOC: 50.00% (100.00%..0.00%)\n ODO: 0 km"
    )


def test_sequence_9_3():
    v = fresh()
    st = v.st
    # 1: chunk 0 -> switch-on, not charging
    assert _step(v, 0) == 0
    assert st.vin_text() == "7378280" and st.car_tpem == 13 and st.car_tmotor == 9
    assert (st.soc, st.soc_min, st.soc_min_range, st.range_km) == (9702, 9702, 50, 70)
    assert (st.car_estrange, st.car_idealrange, st.car_doors1, st.car_chargestate) == (
        44,
        44,
        0x80,
        4,
    )
    assert v.stat_text() == S_NOT % (70, 70)
    c200 = v.server_command(200, "")
    assert c200[1] == "MP-0 c200,0,0095,0080,4,0,9,0,9702,9702,9702,70,50,44,44"
    # 2: chunk 1 -> charge starts
    assert _step(v, 1) == REQ_STAT
    assert (st.car_doors1, st.range_km, st.car_estrange, st.car_idealrange) == (0x14, 50, 31, 31)
    assert st.car_chargestate == 1 and st.soc_max == 9702
    assert v.stat_text() == "Charging" + S_TAIL % (50, 50)
    from ovms.twizy import records

    assert (
        records.status_s(st, "K")
        == "MP-0 S97,K,230,10,charging,standard,50,50,0,0,0,0,0,1,0,0,0,-1"
    )
    # 3: tick only -> topping off
    assert _step(v, None) == REQ_STAT
    assert st.car_chargestate == 2
    assert v.stat_text() == "Charging, Topping off" + S_TAIL % (50, 50)
    # 4: chunk 2 -> stopped
    assert _step(v, 2) == REQ_CHARGE | REQ_STAT
    assert st.car_doors1 == 0x04 and st.car_chargestate == 21
    assert v.stat_text() == "Charging Stopped" + S_TAIL % (50, 50)
    # 5: chunk 1 -> resumed
    assert _step(v, 1) == REQ_CHARGE | REQ_STAT
    assert st.car_chargestate == 1
    assert v.stat_text() == "Charging" + S_TAIL % (50, 50)
    # 6: chunk 2 -> stopped again
    assert _step(v, 2) == REQ_CHARGE | REQ_STAT
    assert st.car_chargestate == 21
    assert v.stat_text() == "Charging Stopped" + S_TAIL % (50, 50)
    # 7: chunk 0 -> switch-on with port bit set: clean-up
    assert _step(v, 0) == 0
    assert st.car_doors1 == 0x80 and st.car_chargestate == 4
    assert st.soc_min == 9702 and st.soc_min_range == 70
    assert v.stat_text() == S_NOT % (70, 70)
    # 8: chunk 1 -> charging, range from soc_min_range 70
    assert _step(v, 1) == REQ_STAT
    assert st.car_chargestate == 1 and st.range_km == 70
    assert v.stat_text() == "Charging" + S_TAIL % (70, 70)


def test_charge_end_with_key_on_cleans_up_next_tick():
    v = fresh()
    feed(v, "597: 20 B4 03 B1 29 00 01 64")  # charging, key on
    feed(v, "155: 07 98 5A 54 9C 40 00 00")  # soc 100.00
    v.tick()
    assert v.st.car_chargestate == 1
    feed(v, "597: 00 94 03 B1 29 00 01 64")  # charge ends, key still on
    v.st.requests = 0
    v.tick()
    assert v.st.car_chargestate == 4 and v.st.requests == REQ_CHARGE | REQ_STAT
    assert v.st.car_doors1 & 0x04
    v.tick()
    assert not v.st.car_doors1 & 0x04
    assert v.stat_text().startswith("Not charging\n Range:")


def test_sufficient_charge_9_5():
    v = fresh()
    assert v.sms("RANGE", ["80"]) == ["Max ideal range: 80 km"]
    assert v.sms("CA", ["40", "80%"])[0].startswith("Charge Alert: 80% or 40 km")
    st = v.st
    feed(v, "597: 20 A4 03 B1 29 00 01 64")
    feed(v, "155: 07 98 5A 54 4E 1C 00 00")
    st.requests = 0
    v.tick()
    assert st.car_chargestate == 1 and st.requests == REQ_STAT
    assert st.car_idealrange == 24 and st.last_ideal_mi == 24 and st.last_soc_pct == 49
    feed(v, "155: 07 98 5A 54 4E 20 00 00", 163)
    st.requests = 0
    v.tick()
    assert st.car_chargestate == 2 and st.requests == REQ_CHARGE | REQ_STAT
    assert st.speedpwr[2] == 163 * 138
    assert st.range_km == 50
    assert v.stat_text() == (
        "Charging, Topping off\n CHG: 1 Wh\n Full: 124 min.\n Range: 50 - 40 km\n"
        " SOC: 50.00% (49.99%..50.00%)\n ODO: 0 km"
    )
    feed(v, "155: 07 98 5A 54 7D 00 00 00")
    st.requests = 0
    v.tick()
    assert st.car_chargestate == 2 and st.requests == REQ_CHARGE | REQ_STAT
    assert v.stat_text() == (
        "Charging, Topping off\n CHG: 1 Wh\n Full: 67 min.\n Range: 80 - 64 km\n"
        " SOC: 80.00% (49.99%..80.00%)\n ODO: 0 km"
    )
    # no repeat while the level stays above the threshold
    st.requests = 0
    v.tick()
    assert st.requests == 0


def test_threshold_already_exceeded_at_start_never_alerts():
    v = fresh(features={10: 50})
    feed(v, "597: 20 A4 03 B1 29 00 01 64")
    feed(v, "155: 07 98 5A 54 7D 00 00 00")  # 80 %
    v.tick()
    v.st.requests = 0
    v.tick()
    assert not v.st.requests & REQ_CHARGE


def test_offline_flicker_gives_stopped_then_resumed_d18():
    v = fresh()
    link = Link()
    v.cfg.set_param(3, "SMS", save=False)
    chunk_tick(v, 1)
    v.dispatch(link)
    feed(v, "597: 20 E4 03 B1 29 00 01 64")  # offline flag during the charge
    v.tick()
    v.dispatch(link)
    feed(v, "597: 20 A4 03 B1 29 00 01 64")
    v.tick()
    v.dispatch(link)
    assert [t.split("\n")[0] for t in link.sms] == ["Charging Stopped", "Charging"]


def test_charge_alert_dispatch_channels():
    v = fresh(params={3: "SMS,IP"})
    link = Link()
    chunk_tick(v, 1)
    chunk_tick(v, 2)
    v.dispatch(link)
    assert link.lines[0].startswith("MP-0 PACharging Stopped\r CHG: 0 Wh\r Full: ")
    assert link.lines[1] == "MP-0 S50,K,230,10,stopped,standard,50,50,0,0,0,0,0,21,0,0,0,-1"
    assert link.sms == [v.stat_text()]
    # the server part waits for the server; the SMS part goes at once
    v2 = fresh(params={3: "SMS,IP"})
    down = Link(server=False)
    chunk_tick(v2, 1)
    chunk_tick(v2, 2)
    v2.dispatch(down)
    assert down.lines == [] and len(down.sms) == 1
    down.server = True
    v2.dispatch(down)
    assert down.lines[0].startswith("MP-0 PACharging Stopped")
    assert len(down.sms) == 1


def test_sms_suppressed_by_feature_14():
    v = fresh(params={3: "SMS"}, features={14: 4})
    link = Link()
    chunk_tick(v, 1)
    chunk_tick(v, 2)
    v.dispatch(link)
    assert link.sms == []
    assert v.pending_flags() == 0


def test_min_soc_alert_once_per_crossing_d16():
    v = fresh(params={3: "SMS"}, features={9: 60})
    link = Link()
    feed(v, "155: 07 97 C7 54 4E 20 00 00")  # 50 %
    for _ in range(60):
        v.tick()
        v.dispatch(link)
    assert len(link.sms) == 1 and link.sms[0].startswith("Not charging")
    for _ in range(120):
        v.tick()
        v.dispatch(link)
    assert len(link.sms) == 1
    feed(v, "155: 07 97 C7 54 61 A8 00 00")  # 62.5 % > 60 + 2: re-armed
    for _ in range(60):
        v.tick()
    feed(v, "155: 07 97 C7 54 4E 20 00 00")
    for _ in range(60):
        v.tick()
        v.dispatch(link)
    assert len(link.sms) == 2


def test_critical_soc_alert_every_12h():
    v = fresh(params={3: "SMS,IP"})
    link = Link()
    feed(v, "155: 07 97 C7 54 07 D0 00 00")  # 5.00 % raw 2000 -> car_SOC 5: not below 5
    for _ in range(60):
        v.tick()
        v.dispatch(link)
    assert not [s for s in link.sms if s.startswith("ALERT")]
    feed(v, "155: 07 97 C7 54 06 40 00 00")  # 4.00 %
    for _ in range(60):
        v.tick()
        v.dispatch(link)
    assert link.sms.count("ALERT!!! CRITICAL SOC LEVEL APPROACHED (4% SOC)") == 1
    assert "MP-0 PAALERT!!! CRITICAL SOC LEVEL APPROACHED (4% SOC)" in link.lines
    for _ in range(12 * 3600):
        v.tick()
        v.dispatch(link)
    assert link.sms.count("ALERT!!! CRITICAL SOC LEVEL APPROACHED (4% SOC)") == 2
