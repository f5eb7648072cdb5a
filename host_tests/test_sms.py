# SMS command interpreter: every framework command with its exact reply (both
# runtimes). The vehicle table, authorisation, rate limits, parsing and saving:
# test_sms_auth.py (also the commands the Twizy cannot carry out); takeover paths and
# value checks: test_security*.py.
from sms_fixtures import (
    DENIED,
    MODULE_EMPTY,
    OWNER,
    PW,
    REGISTERED_OK,
    SPEC_HELP,
    STRANGER,
    make,
    snapshot,
)

from ovms.config import Config
from ovms.sms import NetStatus, SmsInterpreter
from ovms.sms_table import HELP_TEXT, TABLE
from ovms.twizy.vehicle import HELP_SUFFIX

# ---- every framework command, table order -------------------------------------


def test_register_query():
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "REGISTER?") == ["Registered number: " + OWNER]
    assert fw.handle(STRANGER, "REGISTER? S3cretPw") == ["Registered number: " + OWNER]


def test_register_moves_the_owner():
    fw, cfg, _ = make()
    assert fw.handle(STRANGER, "REGISTER S3cretPw") == REGISTERED_OK
    assert cfg.params[0] == STRANGER
    assert cfg.store.saves == 1
    assert fw.handle(OWNER, "STAT") == DENIED  # the old phone is no longer the owner
    assert fw.handle(STRANGER, "REGISTER?") == ["Registered number: " + STRANGER]


def test_register_is_mode_1_even_for_the_owner():
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "REGISTER") == DENIED
    assert fw.handle(OWNER, "REGISTER wrong") == DENIED
    assert fw.handle(OWNER, "REGISTERED S3cretPw") == REGISTERED_OK


def test_register_stores_the_normalised_number():
    # D36 (was: a long number cut to 31 characters, then prefix-matched)
    fw, cfg, _ = make()
    assert fw.handle("0049 170 999-99999", "REGISTER " + PW) == REGISTERED_OK
    assert cfg.params[0] == STRANGER
    assert fw.handle(STRANGER, "REGISTER?") == ["Registered number: " + STRANGER]


def test_pass():
    fw, cfg, _ = make()
    assert fw.handle(OWNER, "PASS?") == ["Module password: S3cretPw"]
    assert fw.handle(OWNER, "pass NewPw1") == ["Module password has been changed."]
    assert cfg.params[1] == "NewPw1"  # arguments keep their case
    assert fw.handle(STRANGER, "PASS? NewPw1") == ["Module password: NewPw1"]
    assert fw.handle(STRANGER, "PASS? S3cretPw") == DENIED
    assert fw.handle(STRANGER, "PASS NewPw1 other") == DENIED  # mode 2


def test_pass_without_argument_is_not_a_command():
    net = NetStatus()
    net.server_ok = True
    fw, cfg, _ = make(net=net)
    assert fw.handle(OWNER, "PASS") == []
    assert fw.handle(OWNER, "PASS   ") == []
    assert cfg.params[1] == "S3cretPw"
    assert fw.outbox == [
        "MP-0 PASMS FROM: %s - MSG: PASS" % OWNER,
        "MP-0 PASMS FROM: %s - MSG: PASS" % OWNER,
    ]


def test_gps():
    fw, _cfg, _ = make()
    fw.vehicle.gps_fix(51257704, -1234567, 100, 90)
    want = ["Car location:\r\nhttps://maps.google.com/maps?q=51.257704,-1.234567"]
    assert fw.handle(OWNER, "GPS") == want
    assert fw.handle(OWNER, "GPS?") == want
    assert fw.handle(OWNER, "gpsx") == want
    fw2, _, _ = make(vehicle=False)
    assert fw2.handle(OWNER, "GPS") == [
        "Car location:\r\nhttps://maps.google.com/maps?q=0.000000,0.000000"
    ]


def test_stat_is_the_vehicle_text():
    fw, _cfg, _ = make()
    fw.vehicle.tick()
    want = [
        (
            "Not charging\n Full charge: 124 min.\n Range: 50 - 50 km"
            "\n SOC: 50.00% (100.00%..0.00%)\n ODO: 0 km"
        )
    ]
    assert fw.handle(OWNER, "STAT") == want
    assert fw.handle(OWNER, "STAT?") == want
    assert fw.handle(OWNER, "status") == want
    assert fw.handle(STRANGER, "STAT S3cretPw") == want
    assert fw.handle(STRANGER, "STAT") == DENIED


class _St:
    car_doors1 = 0x04
    car_chargemode = 3
    car_chargestate = 1
    car_estrange = 31  # miles
    car_idealrange = 62
    car_soc = 81
    car_odometer = 12345  # 1/10 mile
    lat_e6 = 0
    lon_e6 = 0


class _Generic:
    # a vehicle without STAT/HELP handlers
    def __init__(self):
        self.st = _St()

    def match(self, word):
        return None

    def sms(self, word, args):
        return None

    def version_text(self):
        return "XX1.0"


def test_stat_generic_text():
    fw, _cfg, _ = make(vehicle=False)
    assert fw.handle(OWNER, "STAT") == ["Not charging\n Range: 0 - 0 km\n SOC: 0%\n ODO: 0 km"]
    cfg2 = Config({0: OWNER})
    fw2 = SmsInterpreter(cfg2, _Generic())
    assert fw2.handle(OWNER, "STAT") == [
        "Range - Charging\n Range: 50 - 99 km\n SOC: 81%\n ODO: 1974 km"
    ]
    cfg2.set_param(2, "M", save=False)
    fw2.vehicle.st.car_chargemode = 2  # no mode text
    fw2.vehicle.st.car_chargestate = 21
    assert fw2.handle(OWNER, "STAT") == [
        "Charging Stopped\n Range: 31 - 62 mi\n SOC: 81%\n ODO: 1234 mi"
    ]
    assert fw2.handle(OWNER, "HELP") == [HELP_TEXT]
    assert fw2.handle(OWNER, "VERSION") == ["OVMS Firmware version: 3.0.0/XX1.0/VHOST"]


def test_params_query():
    fw, cfg, _ = make({9: "secret"})
    assert fw.handle(OWNER, "PARAMS?") == ["Params:\n0:%s\n1:S3cretPw\n2:K\n9:secret" % OWNER]
    assert cfg.store.saves == 0


def test_params_query_splits_properly():
    params = {}
    for k in range(3, 32):
        params[k] = ("v%02d" % k) * 10  # 30 characters each
    fw, cfg, _ = make(params)
    out = fw.handle(OWNER, "PARAMS?")
    assert len(out) == 8  # 4 long entries per SMS (7 + 4 * 34 characters)
    body = ""
    for part in out:
        assert part.startswith("Params:\n")
        assert len(part) <= 160
        body += part[len("Params:") :]
    want = "".join(["\n%d:%s" % (k, cfg.params[k]) for k in range(32)])
    assert body == want


def test_params_set():
    fw, cfg, hooks = make()
    reply = fw.handle(OWNER, "PARAMS M SMS,IP ovms.example.org - internet.apn")
    assert reply == ["Parameters have been set."]
    assert cfg.params[2:7] == ["M", "SMS,IP", "ovms.example.org", "", "internet.apn"]
    assert cfg.store.saves == 1
    assert hooks.calls == ["reinit", "net"]
    assert fw.handle(STRANGER, "PARAMS S3cretPw K") == DENIED  # mode 2
    assert cfg.params[2] == "M"


def test_params_set_stops_at_slot_31_and_sets_features():
    fw, cfg, _ = make()
    # slots 16 and 17 are checked (data profile and budget, ovms.datause D70/D74)
    vals = ["a%d" % n for n in range(2, 24)]
    vals[16 - 2 : 18 - 2] = ["economy", "500"]
    vals[21 - 2 : 23 - 2] = ["both", "on"]  # checked too (MQTT uplink, config._check_mqtt)
    args = " ".join(vals + ["1"] * 8 + ["x", "y"])
    assert fw.handle(OWNER, "PARAMS " + args) == ["Parameters have been set."]
    assert cfg.params[16:18] == ["economy", "500"]
    assert cfg.params[23] == "a23"
    assert cfg.params[24:] == ["1"] * 8
    assert cfg.features[8:] == [1] * 8


def test_ap_provisions_without_reply():
    fw, cfg, hooks = make()
    assert fw.handle(STRANGER, "AP S3cretPw +4916012345678 NewPw1 M SMS -") == []
    assert cfg.params[:6] == ["+4916012345678", "NewPw1", "M", "SMS", "", ""]
    assert cfg.store.saves == 1
    assert hooks.calls == ["reinit", "net"]
    assert fw.handle(STRANGER, "AP wrong 1 2") == DENIED
    assert fw.handle(OWNER, "AP NewPw1") == []  # password only: nothing to set
    assert cfg.params[0] == "+4916012345678"


def test_module():
    fw, cfg, hooks = make()
    assert fw.handle(OWNER, "MODULE?") == [MODULE_EMPTY]
    assert fw.handle(OWNER, "MODULE TWIZY42 K SMSIP RT") == [
        "Module:\r\n VehicleID:TWIZY42\r\n VehicleType:RT\r\n Units:K\r\n Notifications:SMSIP"
    ]
    assert hooks.calls == ["reinit", "net"]
    assert fw.handle(OWNER, "MODULE OTHER") == [
        "Module:\r\n VehicleID:OTHER\r\n VehicleType:RT\r\n Units:K\r\n Notifications:SMSIP"
    ]
    assert fw.handle(OWNER, "MODULE A M") == [
        "Module:\r\n VehicleID:A\r\n VehicleType:RT\r\n Units:M\r\n Notifications:SMSIP"
    ]
    assert cfg.units() == "M"
    assert fw.handle(OWNER, "MODULE") == []  # no argument: not a command
    assert fw.handle(STRANGER, "MODULE? S3cretPw")[0].startswith("Module:\r\n VehicleID:A")


def test_gprs_query_in_every_network_state():
    net = NetStatus()
    net.operator = "Telekom.de"
    net.state = 0x21
    fw, _cfg, _ = make({5: "internet.t-d1.de", 6: "tm", 7: "pw"}, net=net)
    head = "GPRS:\r\n APN:internet.t-d1.de\r\n User:tm\r\n Password:pw\r\n GSM:Telekom.de"
    assert fw.handle(OWNER, "GPRS?") == [head + "\r\n GSM/GPRS: Not connected (0x0021)"]
    net.gprs_ok = True
    assert fw.handle(OWNER, "GPRS?") == [head + "\r\n GSM: OK\r\n Server: Not connected"]
    net.server_ok = True
    assert fw.handle(OWNER, "GPRS?") == [head + "\r\n GPRS: OK\r\n Server: Connected OK"]


def test_gprs_set():
    fw, cfg, hooks = make({6: "u", 7: "p"})
    want = (
        "GPRS:\r\n APN:apn1\r\n User:u\r\n Password:p\r\n GSM:"
        "\r\n GSM/GPRS: Not connected (0x0000)"
    )
    assert fw.handle(OWNER, "GPRS apn1") == [want]  # user/password unchanged
    assert fw.handle(OWNER, "GPRS apn2 user2")[0].startswith(
        "GPRS:\r\n APN:apn2\r\n User:user2\r\n Password:p\r\n"
    )
    assert fw.handle(OWNER, "GPRS apn3 - -")[0].startswith(
        "GPRS:\r\n APN:apn3\r\n User:\r\n Password:\r\n"
    )
    assert cfg.params[5:8] == ["apn3", "", ""]
    assert hooks.calls == ["net", "net", "net"]
    assert cfg.store.saves == 3


def test_gsmlock():
    net = NetStatus()
    net.operator = "Vodafone"
    fw, cfg, hooks = make(net=net)
    assert fw.handle(OWNER, "GSMLOCK?") == ["GSMLOCK: (none)\r\nCurrent: Vodafone"]
    assert fw.handle(OWNER, "GSMLOCK T-Mobile") == ["GSMLOCK: T-Mobile\r\nCurrent: Vodafone"]
    assert cfg.params[13] == "T-Mobile"
    assert fw.handle(OWNER, "GSMLOCK") == ["GSMLOCK: (none)\r\nCurrent: Vodafone"]
    assert cfg.params[13] == ""
    assert hooks.calls == ["net", "net"]
    assert fw.handle(STRANGER, "GSMLOCK? S3cretPw") == ["GSMLOCK: (none)\r\nCurrent: Vodafone"]
    assert fw.handle(STRANGER, "GSMLOCK S3cretPw") == DENIED


def test_server():
    fw, _cfg, hooks = make()
    assert fw.handle(OWNER, "SERVER?") == ["Server:\r\n IP:\r\n Password:\r\n Paranoid:"]
    assert fw.handle(OWNER, "SERVER tmc.openvehicles.com netpw P") == [
        "Server:\r\n IP:tmc.openvehicles.com\r\n Password:netpw\r\n Paranoid:P"
    ]
    assert fw.handle(OWNER, "SERVER other") == [
        "Server:\r\n IP:other\r\n Password:netpw\r\n Paranoid:P"
    ]
    assert hooks.calls == ["net", "net"]


def test_diag():
    net = NetStatus()
    fw, _cfg, _ = make(net=net)
    assert fw.handle(OWNER, "DIAG") == [
        "DIAG:\n RED Led:0\n GRN Led:0\n NET State:0x0000\n Crashes:0"
    ]
    net.red_led = 1
    net.grn_led = 2
    net.state = 0x4A
    net.v12_dv = 124
    net.crashes = 3
    net.reset_causes = ("BOR", "TO")
    assert fw.handle(OWNER, "DIAG") == [
        (
            "DIAG:\n RED Led:1\n GRN Led:2\n NET State:0x004A\n 12V Line:12.4\n Crashes:3"
            "\n ..last: BOR TO"
        )
    ]
    net.outbox_dropped = 7  # the full outbox dropped the oldest entries (issue 8)
    assert fw.handle(OWNER, "DIAG")[0].endswith("..last: BOR TO\n Outbox lost:7")


def test_features():
    fw, cfg, hooks = make()
    assert fw.handle(OWNER, "FEATURES?") == ["Features:"]
    assert fw.handle(OWNER, "FEATURE 8 1") == ["Feature has been set."]
    assert fw.handle(OWNER, "FEATURE 12 80") == ["Feature has been set."]
    assert fw.handle(OWNER, "FEATURE 3 7") == ["Feature has been set."]
    assert cfg.params[24] == "1" and cfg.params[28] == "80"
    assert fw.handle(OWNER, "FEATURES?") == ["Features:\r\n 3:7\r\n 8:1\r\n 12:80"]
    assert hooks.calls == []
    assert fw.handle(OWNER, "FEATURE 15 1") == ["Feature has been set."]
    assert hooks.calls == ["reinit"]
    assert cfg.store.saves == 4
    # D39 (was: "-5" stored, counted as 0): out of the cap, refused
    assert fw.handle(OWNER, "FEATURE 9 -5") == ["Error: feature 9 must be a number from 0 to 100"]
    assert cfg.features[9] == 0 and cfg.params[25] == "" and cfg.store.saves == 4
    # atoi rules (D5) still apply to what passes
    assert fw.handle(OWNER, "FEATURE 9 20x") == ["Feature has been set."]
    assert cfg.features[9] == 20 and cfg.params[25] == "20x"


def test_feature_without_value_or_bad_slot_is_silent():
    fw, cfg, _ = make()
    before = snapshot(cfg)
    for text in ("FEATURE 8", "FEATURE 16 1", "FEATURE 99 1", "FEATURE x 1", "FEATURE -1 1"):
        assert fw.handle(OWNER, text) == [], text
    assert snapshot(cfg) == before
    assert cfg.store.saves == 0
    assert fw.handle(OWNER, "FEATURES") == []  # without "?": not a command


def test_features_query_splits():
    fw, cfg, _ = make()
    for k in range(16):
        if k != 14:  # would silence all replies
            cfg.set_feature(k, "9" * 20, save=False)
    out = fw.handle(OWNER, "FEATURES?")
    assert len(out) == 3
    for part in out:
        assert part.startswith("Features:\r\n ") and len(part) <= 160
    assert "".join([p[9:] for p in out]).count("\r\n") == 15


def test_version():
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "VERSION") == ["OVMS Firmware version: 3.0.0/RT2.5/VHOST"]
    fw2, _, _ = make(version="3.1.4", hardware="ESP32")
    want = ["OVMS Firmware version: 3.1.4/RT2.5/VESP32"]
    assert fw2.handle(STRANGER, "VERSION " + PW) == want
    fw3, _, _ = make({14: "RT"}, vehicle=False)
    assert fw3.handle(OWNER, "VERSION") == ["OVMS Firmware version: 3.0.0/RT/VHOST"]


def test_reset():
    fw, _cfg, hooks = make()
    assert fw.handle(OWNER, "RESET") == []
    assert hooks.calls == ["reset"]
    assert fw.handle(STRANGER, "RESET") == DENIED
    assert hooks.calls == ["reset"]
    fw2 = SmsInterpreter(Config({0: OWNER}))
    assert fw2.handle(OWNER, "RESET") == []  # no hook: nothing happens


def test_help():
    assert HELP_TEXT == SPEC_HELP
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "HELP") == [SPEC_HELP + HELP_SUFFIX]
    assert HELP_SUFFIX == " \r\nTwizy Commands: DEBUG STAT RANGE CA HELP BATT POWER"
    assert fw.handle(STRANGER, "help S3cretPw") == [SPEC_HELP + HELP_SUFFIX]
    fw2, _, _ = make(vehicle=False)
    assert fw2.handle(OWNER, "HELP") == [SPEC_HELP]


def test_help_lists_the_table():
    # HELP_TEXT is a literal (kept in flash): it names every entry in table order but the
    # last, DATA? (D71, not in the spec's text)
    assert TABLE[-1][0] == "DATA?"
    listed = "Commands:" + "".join([" " + e[0] for e in TABLE[:-1]])
    assert listed == HELP_TEXT
