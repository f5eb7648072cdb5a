# D68 on the real traces: before the car sent a value, the texts say so and no S
# record goes out.
#
# Init-Drv's switch-on phase: for its first 0.81 s the car sends 0x155 with b3 0x94
# (no valid SOC), 0x597 offline, no battery set. The 2013 module answered STAT with
# its power-on placeholders (SOC 50.00 %, range 50 km), BATT V with "P:0.00V", sent
# an S record with 50 % at login and, with a minimum SOC of 60 % (feature 9), raised
# a minimum-SOC alert for the placeholder 50 %.
from truth_helpers import run

from ovms.twizy import texts
from ovms.v2.handler import Handler


def first_set_s(v):
    # the S record of a fresh server session's first status set (ovms/v2/periodic.py)
    h = Handler(v.cfg, v)
    h.connected(0)
    return [x for x in h.periodic(10) if x.startswith("MP-0 S")]  # 10 s after login (§6.10)


VALID_SOC_US = 11385000  # the first 0x155 with b3 0x54 (Init-Drv's clock)
NO_DATA = "No data from the car yet (switch it on or plug it in)"
NO_BATTERY = "No battery data yet (switch the car on or plug it in)"


def test_switch_on_phase_says_no_data_yet():
    v, link = run(("Init-Drv",), exact=False, stop_us=VALID_SOC_US)
    assert v.st.tick == 1 and v.st.frames == 147
    assert texts.NO_DATA == NO_DATA and texts.NO_BATTERY_DATA == NO_BATTERY
    assert v.sms("STAT", []) == [NO_DATA]
    for form in ([], ["V"], ["VD"], ["T"], ["TD"]):
        assert v.sms("BATT", form) == [NO_BATTERY], form
    assert v.sms("CA", ["80%"]) == ["Charge Alert: 80%\n " + NO_DATA]
    assert first_set_s(v) == []
    assert v.server_command(206, "") == ["MP-0 c206,1," + NO_BATTERY]
    assert v.server_command(6, "")[0] == "MP-0 PA" + NO_DATA
    assert link.lines == [] and link.sms == []


def test_the_2013_module_showed_placeholders():
    v, _ = run(("Init-Drv",), exact=True, stop_us=VALID_SOC_US)
    assert v.sms("STAT", []) == [
        "Not charging\n Full charge: 124 min.\n Range: 50 - 50 km\n"
        " SOC: 50.00% (100.00%..0.00%)\n ODO: 42206 km"
    ]
    assert v.sms("BATT", ["V"])[0].startswith("P:0.00V 1:0.000V 2:0.000V ")
    assert v.sms("BATT", []) == ["Volts: OK Temps: OK "]
    assert first_set_s(v) == ["MP-0 S50,K,230,10,done,standard,50,50,0,0,0,0,0,4,0,0,0,-1"]


def test_no_alert_and_no_status_from_the_placeholder_soc():
    # the bus goes silent after the switch-on phase; two minutes of ticks follow
    v, link = run(("Init-Drv",), False, 130, VALID_SOC_US, None, ("--feature", "9=60"))
    assert link.sms == [] and link.pushes() == [] and link.status() == []
    kinds = [x.split(",")[0] for _, x in link.lines]
    assert kinds == ["MP-0 HRT-PWR-UsageStats", "MP-0 HRT-GPS-Log"]  # real zeros, once
    old, old_link = run(("Init-Drv",), True, 130, VALID_SOC_US, None, ("--feature", "9=60"))
    assert [(t, s.split("\n")[0]) for t, s in old_link.sms] == [(60, "Not charging")]
    assert old_link.status() == [
        (60, "MP-0 S50,K,230,10,done,standard,50,50,0,0,0,0,0,4,0,0,0,-1")
    ]


def test_first_real_status_goes_out_at_once():
    # the whole Init-Drv: the first tick with a valid SOC and the car online (0x95 at
    # 11.900 s, tick 2) sends the S record; STAT and BATT show the car's values
    v, link = run(("Init-Drv",), exact=False, until_s=10)
    assert link.status() == [(2, "MP-0 S96,K,230,10,done,standard,46,46,0,0,0,0,0,4,0,0,0,-1")]
    assert first_set_s(v) == []  # already sent, unchanged
    assert v.sms("STAT", [])[0].startswith(
        "Not charging\n Full charge: 26 min.\n Range: 46 - 46 km"
    )
    assert v.sms("BATT", ["T"]) == ["P:7C (7C..8C) 1:8C 2:7C 3:7C 4:7C 5:7C 6:7C 7:7C "]
    v.sent.forget()
    assert first_set_s(v) == [link.status()[0][1]]


def test_charge_seen_before_any_valid_soc():
    # Init-Chg's own frames, the charging 0x597 before the first valid 0x155: the
    # charge start must not take the 50 % placeholder as the SOC maximum
    from support import frame

    from ovms.config import Config
    from ovms.twizy.vehicle import Twizy

    v = Twizy(Config({2: "K"}), exact=False)
    v.frame(0x597, *frame("20A403B12F00014E"))
    v.tick()
    assert v.st.car_chargestate == 1 and v.st.soc_max == 0
    assert v.sms("STAT", []) == [NO_DATA]
    v.frame(0x155, *frame("0797CF5499480073"))
    v.tick()
    assert v.st.soc_max == 9810 and v.stat_text().startswith("Charging")
    assert " SOC: 98.10% (98.10%..98.10%)" in v.stat_text()


def _server(v):
    # the OVMS v2 car side on this vehicle (as host_tests/test_v2_server.py builds it)
    from ovms.sms import SmsInterpreter
    from ovms.v2.handler import Handler

    h = Handler(v.cfg, v, SmsInterpreter(v.cfg, v), randbytes=lambda n: bytes(n))
    h.connected(0)
    return h


def test_server_status_set_waits_for_real_data():
    v, _ = run(("Init-Drv",), exact=False, stop_us=VALID_SOC_US)
    h = _server(v)
    assert [m[:6] for m in h.periodic(10)] == ["MP-0 L", "MP-0 W", "MP-0 D", "MP-0 V"]
    assert [m[:6] for m in h.handle("MP-0 Z1")] == ["MP-0 L", "MP-0 W", "MP-0 F", "MP-0 D"]
    old, _ = run(("Init-Drv",), exact=True, stop_us=VALID_SOC_US)
    assert _server(old).periodic(10)[0] == (
        "MP-0 S50,K,230,10,done,standard,50,50,0,0,0,0,0,4,0,0,0,-1"
    )
    v, link = run(("Init-Drv",), exact=False)
    s96 = "MP-0 S96,K,230,10,done,standard,46,46,0,0,0,0,0,4,0,0,0,-1"
    # D94: one send-on-change memory: the S the notification pass sent is not
    # repeated unchanged by the periodic set; once forgotten it is sent again
    assert link.status()[-1][1] == s96
    assert [m[:6] for m in _server(v).periodic(10)] == ["MP-0 L", "MP-0 W", "MP-0 D", "MP-0 V"]
    v.sent.forget()
    assert _server(v).periodic(10)[0] == (
        "MP-0 S96,K,230,10,done,standard,46,46,0,0,0,0,0,4,0,0,0,-1"
    )
