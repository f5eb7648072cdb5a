# spec §7, §8.8, §9.9: vehicle SMS commands and server commands
from twizy_helpers import Link, chunk_tick, feed, fresh

from ovms.twizy.vehicle import HELP_SUFFIX


def _ca_module(units="K"):
    # soc 5000, soc_min 5000, soc_min_range 35
    v = fresh(units)
    feed(v, "597: 00 95 21 41 29 00 01 35")
    feed(v, "599: 00 00 0D 80 FF 23 00 00")  # range 35 km
    feed(v, "155: 07 97 C7 54 4E 20 00 00")  # soc 5000
    return v


def test_range_command():
    v = fresh()
    assert v.sms("RANGE", ["80"]) == ["Max ideal range: 80 km"]
    assert v.cfg.features[12] == 80 and v.cfg.params[28] == "80"
    assert v.sms("RANGE?", []) == ["Max ideal range: 80 km"]
    assert v.sms("RANGE", ["?"]) == ["Max ideal range: 80 km"]  # D17
    assert v.sms("RANGE", []) == ["Max ideal range: UNSET"]
    assert v.cfg.features[12] == 0 and v.cfg.params[28] == ""
    assert v.sms("RANGE", ["300"]) == ["Max ideal range: 300 km"]  # D5: no 8-bit wrap
    assert v.sms("RANGE", ["-5"]) == ["Max ideal range: UNSET"]  # D5: negative -> 0
    m = fresh("M")
    m.sms("RANGE", ["50"])
    assert m.sms("RANGE?", []) == ["Max ideal range: 50 mi"]


def test_range_changes_ideal_9_9():
    v = fresh()
    assert v.sms("RANGE", ["80"]) == ["Max ideal range: 80 km"]
    chunk_tick(v, 0)
    assert v.st.car_idealrange == 48
    assert "\n Range: 70 - 77 km" in v.stat_text()


def test_ca_examples_7_3():
    v = _ca_module()
    assert v.sms("CA", ["30", "60%"]) == [
        "Charge Alert: 60% or 30 km\n Time: 19 min.\n Full charge: 124 min."
    ]
    assert (v.cfg.features[10], v.cfg.features[11], v.cfg.features[12]) == (60, 30, 0)
    v.cfg.set_feature(10, "", save=False)
    v.cfg.set_feature(11, "60", save=False)
    v.cfg.set_feature(12, "80", save=False)
    assert v.sms("CA?", []) == ["Charge Alert: 60 km\n Time: 48 min.\n Full charge: 124 min."]
    assert v.sms("CA", []) == ["Charge Alert: OFF\n Full charge: 124 min."]
    assert v.cfg.features[10] == 0 and v.cfg.features[11] == 0
    v.cfg.set_feature(12, "", save=False)
    assert v.sms("CA", ["30"]) == ["Charge Alert: 30 km\n Time: 0 min.\n Full charge: 124 min."]


def test_ca_miles():
    v = _ca_module("M")
    v.sms("RANGE", ["50"])
    assert v.sms("CA", ["30"]) == ["Charge Alert: 30 mi\n Time: 19 min.\n Full charge: 124 min."]


def test_stat_prefix_forms():
    v = fresh()
    v.tick()
    assert v.sms("STAT?", []) == v.sms("STATUS", []) == [v.stat_text()]
    assert v.sms("BATTERY", []) == ["Volts: OK Temps: OK "]
    assert v.sms("NOPE", []) is None


def test_setting_commands_need_the_exact_word_d26():
    v = fresh(features={10: 80, 12: 70})
    assert v.sms("CALL", ["me"]) is None
    assert v.sms("CASH", []) is None
    assert v.sms("RANGER", ["5"]) is None
    assert v.cfg.features[10] == 80 and v.cfg.features[12] == 70
    assert v.sms("CA?", [])[0].startswith("Charge Alert: 80%")


def test_help_suffix():
    assert HELP_SUFFIX == " \r\nTwizy Commands: DEBUG STAT RANGE CA HELP BATT POWER"
    assert fresh().sms("HELP", []) == [HELP_SUFFIX]


def test_debug_injects_chunk():
    v = fresh()
    out = v.sms("DEBUG", ["0"])[0]
    assert out.startswith(" STS=0095 DS1=0000 SQ=0 NET=L0/S0/A0 NTF=0000 MSP=0\n# vw=")
    assert v.st.vin_text() == "7378280"


def test_server_203_204_8_8():
    v = _ca_module()
    v.cfg.set_feature(10, "60", save=False)
    v.cfg.set_feature(11, "30", save=False)
    assert v.server_command(203, "") == ["MP-0 c203,0,30,60,0,19,124"]
    assert v.server_command(204, "40,80") == ["MP-0 c204,0,40,80,14,57,124"]
    assert v.cfg.features[11] == 40 and v.cfg.features[10] == 80
    assert v.server_command(204, ",80") == ["MP-0 c204,0,0,80,0,57,124"]  # D10
    assert v.server_command(204, "") == ["MP-0 c204,0,0,0,0,0,124"]


def test_server_201_202():
    v = fresh()
    assert v.server_command(201, "") == ["MP-0 c201,0,0"]
    assert v.server_command(202, "80") == ["MP-0 c202,0,80"]
    assert v.server_command(201, "") == ["MP-0 c201,0,80"]
    assert v.server_command(202, "") == ["MP-0 c202,0,0"]


def test_server_200_debug():
    v = fresh()
    out = v.server_command(200, "0")
    assert out[0].startswith("MP-0 D")
    v.tick()
    out = v.server_command(200, "")
    assert out[0] == "MP-0 D128,0,0,13,9,0,0,0,0,0,-127,0,-1,-1,0.0,0"
    assert out[1] == "MP-0 c200,0,0095,0080,4,0,9,0,9702,9702,9702,70,50,44,44"


def test_server_6_and_205_206():
    v = fresh()
    chunk_tick(v, 12)
    out = v.server_command(6, "")
    assert out[0] == "MP-0 PA" + v.stat_text().replace("\n", "\r")
    assert out[1] == "MP-0 c6,0"
    assert v.server_command(205, "") == ["MP-0 PAVolts: !C5:-150mV Temps: !M2:+4C ", "MP-0 c205,0"]
    out = v.server_command(206, "")
    assert (
        len(out) == 16
        and out[0].startswith("MP-0 HRT-PWR-BattPack,1,")
        and out[-1] == "MP-0 c206,0"
    )
    # 206 updated the send-on-change memory: the queued BatteryStats sends nothing new
    v2 = fresh(params={3: ""})
    assert v2.server_command(205, "") == ["MP-0 c205,0"]
    link = Link()
    v.dispatch(link)
    assert [x for x in link.lines if "BattCell" in x] == []
    assert v.server_command(999, "") is None


def test_records_send_on_change_per_minute():
    v = fresh()
    link = Link()
    for _ in range(61):
        v.tick()
        v.dispatch(link)
    # no battery records before the first sensor set
    assert link.lines == [
        "MP-0 HRT-PWR-UsageStats,0,86400,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
        "MP-0 HRT-GPS-Log,0,86400,0.000000,0.000000,0,0,0,0,-1,0",
    ]
    v.inject(10)
    for _ in range(60):
        v.tick()
        v.dispatch(link)
    assert len(link.lines) == 2 + 15  # battery pack + 14 cells once
    assert link.lines[2].startswith("MP-0 HRT-PWR-BattPack,1,86400,14,1,2,1,5000,10000,0,5740,")
    for _ in range(120):
        v.tick()
        v.dispatch(link)
    assert len(link.lines) == 17  # nothing changed, nothing sent


def test_gps_log_format():
    v = fresh()
    feed(v, "5D7: 00 00 00 6C 53 40 00")
    v.gps_fix(51257704, -120000, 139, 242)
    v.st.net_sq = 20
    v.tick()
    from ovms import units
    from ovms.twizy import records

    assert (
        records.gps_log(v.st)
        == "MP-0 HRT-GPS-Log,27731,86400,51.257704,-0.120000,139,242,0,1,119,20"
    )
    assert units.degrees(-1) == "-0.000001"


def test_streaming_every_5s_while_moving():
    v = fresh(features={8: 1})
    link = Link()
    feed(v, "599: 00 00 0D 80 FF 46 1F B2")
    v.gps_fix(51000000, 7000000, 100, 90)
    for _ in range(10):
        v.gps_fix(51000000 + v.st.tick, 7000000, 100, 90)
        v.tick()
        v.dispatch(link)
    assert len([x for x in link.lines if "RT-GPS-Log" in x]) == 2
