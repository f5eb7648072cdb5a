# SMS command interpreter: every framework command with its exact reply, the
# authorisation matrix, rate limit, vehicle hooks, forwarding (both runtimes).
from ovms.config import Config
from ovms.sms import (
    ERR_NOT_SAVED,
    HELP_TEXT,
    NOT_SUPPORTED,
    PERMISSION_DENIED,
    Framework,
    NetStatus,
)
from ovms.twizy.vehicle import HELP_SUFFIX, Twizy

OWNER = "+4915100000000"
STRANGER = "+4917099999999"
DENIED = [PERMISSION_DENIED]

# the framework list exactly as ovms-v2-sms.md §5 gives it
SPEC_HELP = (
    "Commands: REGISTER? REGISTER PASS? PASS  GPS STAT PARAMS? PARAMS  AP  MODULE? MODULE  "
    "GPRS? GPRS  GSMLOCK? GSMLOCK SERVER? SERVER  DIAG FEATURES? FEATURE  HOMELINK  LOCK  "
    "UNLOCK  VALET  UNVALET  CHARGEMODE  CHARGESTART CHARGESTOP VERSION RESET HELP"
)


class Hooks:
    def __init__(self):
        self.calls = []

    def reset(self):
        self.calls.append("reset")

    def reinit(self):
        self.calls.append("reinit")

    def net(self):
        self.calls.append("net")


class CountingStore:
    def __init__(self):
        self.saves = 0

    def save(self, config):
        self.saves += 1


def make(params=None, vehicle=True, net=None, **kw):
    p = {0: OWNER}
    if params:
        p.update(params)
    cfg = Config(p, CountingStore())
    v = Twizy(cfg) if vehicle else None
    hooks = Hooks()
    fw = Framework(
        cfg,
        v,
        net=net,
        on_reset=hooks.reset,
        on_vehicle_reinit=hooks.reinit,
        on_net_change=hooks.net,
        **kw,
    )
    return fw, cfg, hooks


def snapshot(cfg):
    return (list(cfg.params), list(cfg.features))


# ---- every framework command, table order -------------------------------------


def test_register_query():
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "REGISTER?") == ["Registered number: " + OWNER]
    assert fw.handle(STRANGER, "REGISTER? OVMS") == ["Registered number: " + OWNER]


def test_register_moves_the_owner():
    fw, cfg, _ = make()
    assert fw.handle(STRANGER, "REGISTER OVMS") == ["Your phone has been registered as the owner."]
    assert cfg.params[0] == STRANGER
    assert cfg.store.saves == 1
    assert fw.handle(OWNER, "STAT") == DENIED  # the old phone is no longer the owner
    assert fw.handle(STRANGER, "REGISTER?") == ["Registered number: " + STRANGER]


def test_register_is_mode_1_even_for_the_owner():
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "REGISTER") == DENIED
    assert fw.handle(OWNER, "REGISTER wrong") == DENIED
    assert fw.handle(OWNER, "REGISTERED OVMS") == ["Your phone has been registered as the owner."]


def test_register_cuts_long_numbers_and_prefix_still_matches():
    fw, cfg, _ = make()
    long_sender = "+49" + "1" * 40
    assert fw.handle(long_sender, "REGISTER OVMS")[0].startswith("Your phone")
    assert cfg.params[0] == long_sender[:31]
    assert fw.handle(long_sender, "REGISTER?") == ["Registered number: " + long_sender[:31]]


def test_pass():
    fw, cfg, _ = make()
    assert fw.handle(OWNER, "PASS?") == ["Module password: OVMS"]
    assert fw.handle(OWNER, "pass NewPw") == ["Module password has been changed."]
    assert cfg.params[1] == "NewPw"  # arguments keep their case
    assert fw.handle(STRANGER, "PASS? NewPw") == ["Module password: NewPw"]
    assert fw.handle(STRANGER, "PASS? OVMS") == DENIED
    assert fw.handle(STRANGER, "PASS NewPw other") == DENIED  # mode 2


def test_pass_without_argument_is_not_a_command():
    net = NetStatus()
    net.server_ok = True
    fw, cfg, _ = make(net=net)
    assert fw.handle(OWNER, "PASS") == []
    assert fw.handle(OWNER, "PASS   ") == []
    assert cfg.params[1] == "OVMS"
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
    assert fw.handle(STRANGER, "STAT OVMS") == want
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
    fw2 = Framework(cfg2, _Generic())
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
    assert fw.handle(OWNER, "PARAMS?") == ["Params:\n0:%s\n1:OVMS\n2:K\n9:secret" % OWNER]
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
    assert fw.handle(STRANGER, "PARAMS OVMS K") == DENIED  # mode 2
    assert cfg.params[2] == "M"


def test_params_set_stops_at_slot_31_and_sets_features():
    fw, cfg, _ = make()
    args = " ".join(["a%d" % n for n in range(2, 24)] + ["1"] * 8 + ["x", "y"])
    assert fw.handle(OWNER, "PARAMS " + args) == ["Parameters have been set."]
    assert cfg.params[23] == "a23"
    assert cfg.params[24:] == ["1"] * 8
    assert cfg.features[8:] == [1] * 8


def test_ap_provisions_without_reply():
    fw, cfg, hooks = make()
    assert fw.handle(STRANGER, "AP OVMS +4916012345678 NewPw M SMS -") == []
    assert cfg.params[:6] == ["+4916012345678", "NewPw", "M", "SMS", "", ""]
    assert cfg.store.saves == 1
    assert hooks.calls == ["reinit", "net"]
    assert fw.handle(STRANGER, "AP wrong 1 2") == DENIED
    assert fw.handle(OWNER, "AP NewPw") == []  # password only: nothing to set
    assert cfg.params[0] == "+4916012345678"


MODULE_EMPTY = "Module:\r\n VehicleID:\r\n VehicleType:\r\n Units:K\r\n Notifications:"


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
    assert fw.handle(STRANGER, "MODULE? OVMS")[0].startswith("Module:\r\n VehicleID:A")


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
    assert fw.handle(STRANGER, "GSMLOCK? OVMS") == ["GSMLOCK: (none)\r\nCurrent: Vodafone"]
    assert fw.handle(STRANGER, "GSMLOCK OVMS") == DENIED


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
    # negative values count as 0 (D5) but the text is kept
    assert fw.handle(OWNER, "FEATURE 9 -5") == ["Feature has been set."]
    assert cfg.features[9] == 0 and cfg.params[25] == "-5"


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


def test_unsupported_vehicle_commands():
    fw, cfg, _ = make()
    t = 0
    for text in (
        "HOMELINK 1",
        "LOCK 1234",
        "UNLOCK 1234",
        "VALET 1234",
        "UNVALET 1234",
        "CHARGEMODE STANDARD",
        "chargemode storage 16",
        "CHARGEMODE Range",
        "CHARGEMODE perf 32",
        "CHARGESTART",
        "CHARGESTOP",
    ):
        t += 1000  # failures far apart: no rate limit
        assert fw.handle(OWNER, text) == [NOT_SUPPORTED], text
        assert fw.handle(STRANGER, text, now_s=t) == DENIED, text
        with_pw = text.split(" ")[0] + " OVMS " + " ".join(text.split(" ")[1:])
        assert fw.handle(STRANGER, with_pw, now_s=t + 1) == DENIED, with_pw
    assert NOT_SUPPORTED == "Not supported by this vehicle (Renault Twizy)"
    assert fw.handle(OWNER, "CHARGEMODE turbo") == []  # unknown mode: no reply
    assert fw.handle(OWNER, "LOCK") == []  # no pin: not a command
    assert cfg.store.saves == 0


def test_version():
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "VERSION") == ["OVMS Firmware version: 3.0.0/RT2.5/VHOST"]
    fw2, _, _ = make(version="3.1.4", hardware="ESP32")
    assert fw2.handle(STRANGER, "VERSION OVMS") == ["OVMS Firmware version: 3.1.4/RT2.5/VESP32"]
    fw3, _, _ = make({14: "RT"}, vehicle=False)
    assert fw3.handle(OWNER, "VERSION") == ["OVMS Firmware version: 3.0.0/RT/VHOST"]


def test_reset():
    fw, _cfg, hooks = make()
    assert fw.handle(OWNER, "RESET") == []
    assert hooks.calls == ["reset"]
    assert fw.handle(STRANGER, "RESET") == DENIED
    assert hooks.calls == ["reset"]
    fw2 = Framework(Config({0: OWNER}))
    assert fw2.handle(OWNER, "RESET") == []  # no hook: nothing happens


def test_help():
    assert HELP_TEXT == SPEC_HELP
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "HELP") == [SPEC_HELP + HELP_SUFFIX]
    assert HELP_SUFFIX == " \r\nTwizy Commands: DEBUG STAT RANGE CA HELP BATT POWER"
    assert fw.handle(STRANGER, "help OVMS") == [SPEC_HELP + HELP_SUFFIX]
    fw2, _, _ = make(vehicle=False)
    assert fw2.handle(OWNER, "HELP") == [SPEC_HELP]


# ---- vehicle table ----------------------------------------------------------------


def test_vehicle_commands_after_the_framework_table():
    fw, cfg, _ = make()
    assert fw.handle(OWNER, "RANGE 80") == ["Max ideal range: 80 km"]
    assert cfg.features[12] == 80 and cfg.store.saves == 1
    assert fw.handle(OWNER, "RANGE?") == ["Max ideal range: 80 km"]
    assert fw.handle(STRANGER, "RANGE OVMS 50") == ["Max ideal range: 50 km"]  # password removed
    assert fw.handle(STRANGER, "RANGE 60") == DENIED
    assert cfg.features[12] == 50
    assert fw.handle(OWNER, "CA 30 60%")[0].startswith("Charge Alert: 60% or 30 km")
    assert fw.handle(OWNER, "BATT R") == ["Battery monitor reset."]
    assert fw.handle(OWNER, "battery")[0].startswith("Volts: ")
    assert fw.handle(OWNER, "POWER")[0].startswith("Power -0 +0 Wh")
    assert fw.handle(OWNER, "DEBUG")[0].startswith(" STS=")
    assert fw.handle(STRANGER, "BATT R") == DENIED


# ---- parsing ------------------------------------------------------------------------


def test_parsing_rules():
    fw, cfg, _ = make()
    assert fw.handle(OWNER, "PARAMS\r\nM\nSMS") == ["Parameters have been set."]
    assert cfg.params[2:4] == ["M", "SMS"]
    assert fw.handle(OWNER, "  FEATURE   9\t\t5  ") == ["Feature has been set."]
    assert cfg.features[9] == 5
    assert fw.handle(OWNER, "") == []
    assert fw.handle(OWNER, " \r\n ") == []
    # only ASCII is upper-cased: "ſtat" is not STAT in either runtime
    assert fw.handle(OWNER, "ſtat") == []
    assert fw.handle(OWNER, "Stat")[0].startswith("Not charging")


def test_forwarding_unknown_texts():
    net = NetStatus()
    fw, _cfg, _ = make(net=net)
    assert fw.handle(STRANGER, "Hello there") == []
    assert fw.outbox == []  # no server: dropped
    net.server_ok = True
    assert fw.handle(STRANGER, "Hello\r\nthere") == []
    assert fw.outbox == ["MP-0 PASMS FROM: %s - MSG: Hello  there" % STRANGER]
    long_text = "x" * 300
    fw.handle(OWNER, long_text)
    assert fw.outbox[-1] == "MP-0 PASMS FROM: %s - MSG: %s" % (OWNER, "x" * 170)
    got = []
    fw.on_push = got.append
    fw.handle(OWNER, "FEATURES")
    assert got == ["MP-0 PASMS FROM: %s - MSG: FEATURES" % OWNER]
    fw.on_push = None
    for i in range(20):
        fw.handle(OWNER, "note %d" % i)
    assert len(fw.outbox) == 8 and fw.outbox[-1].endswith("MSG: note 19")


# ---- authorisation matrix ---------------------------------------------------------

# (text, mode) of one command per mode that changes nothing
_Q = (("REGISTER? ", 3), ("STAT ", 3), ("MODULE? ", 3), ("VERSION ", 3), ("RANGE? ", 3))


def test_auth_registered_owner():
    fw, _cfg, _ = make()
    assert fw.handle(OWNER, "MODULE?") == [MODULE_EMPTY]  # mode 3
    assert fw.handle(OWNER, "PASS x")[0].startswith("Module password")  # mode 2
    assert fw.handle(OWNER, "REGISTER x") == ["Your phone has been registered as the owner."]
    # the owner's "password" argument is not removed (registered path)
    assert fw.handle(OWNER, "RANGE x 80") == ["Max ideal range: UNSET"]


def test_auth_password_sender():
    fw, cfg, _ = make()
    assert fw.handle(STRANGER, "MODULE? OVMS") == [MODULE_EMPTY]
    assert fw.handle(STRANGER, "MODULE? OVMSextra") == [MODULE_EMPTY]  # prefix form
    assert fw.handle(STRANGER, "PASS OVMS x") == DENIED  # mode 2
    assert fw.handle(STRANGER, "FEATURE OVMS 9 5") == DENIED
    assert cfg.params[1] == "OVMS" and cfg.features[9] == 0


def test_auth_stranger():
    fw, cfg, _ = make()
    before = snapshot(cfg)
    t = 0
    for text in (
        "REGISTER",
        "REGISTER ovms",
        "REGISTER? x",
        "PASS? OVM",
        "PASS x",
        "GPS",
        "STAT",
        "PARAMS?",
        "PARAMS M",
        "AP OVM 1 2",
        "MODULE?",
        "MODULE X",
        "GPRS?",
        "GPRS a",
        "GSMLOCK?",
        "GSMLOCK",
        "SERVER?",
        "SERVER s",
        "DIAG",
        "FEATURES?",
        "FEATURE 9 5",
        "VERSION",
        "RESET",
        "HELP",
        "RANGE 80",
        "CA 50%",
        "BATT R",
        "DEBUG 10",
        "POWER",
    ):
        t += 1000  # failures far apart: no rate limit
        assert fw.handle(STRANGER, text, now_s=t) == DENIED, text
    assert snapshot(cfg) == before
    assert cfg.store.saves == 0


def test_auth_mode_3_denial_only_when_both_checks_fail():
    fw, _cfg, _ = make()
    out = fw.handle(STRANGER, "STAT OVMS")
    assert len(out) == 1 and PERMISSION_DENIED not in out


def test_auth_registered_number_is_a_prefix_match():
    fw, _cfg, _ = make()
    assert fw.handle(OWNER + "1", "VERSION")[0].startswith("OVMS Firmware")
    assert fw.handle(OWNER[:-1], "VERSION") == DENIED


def test_auth_empty_or_default_config_lets_nobody_in():
    for p0 in ("", "NOPHONE"):
        fw, cfg, _ = make({0: p0})
        before = snapshot(cfg)
        for sender in (STRANGER, "", "NOPHONE", "NOPHONE123"):
            assert fw.handle(sender, "STAT", now_s=0) == DENIED
            assert fw.handle(sender, "STAT OVMS", now_s=1000) == DENIED  # only REGISTER
            assert fw.handle(sender, "AP OVMS +49 x", now_s=2000) == DENIED
            assert fw.handle(sender, "REGISTER wrong", now_s=3000) == DENIED
        assert snapshot(cfg) == before
        assert fw.handle(STRANGER, "REGISTER OVMS", now_s=4000)[0].startswith("Your phone")
        assert cfg.params[0] == STRANGER
        assert fw.handle(STRANGER, "STAT")[0].startswith("Not charging")


def test_auth_empty_password_matches_nothing():
    fw, cfg, _ = make({1: ""})
    assert fw.handle(STRANGER, "STAT") == DENIED
    assert fw.handle(STRANGER, "STAT x", now_s=1000) == DENIED
    assert fw.handle(STRANGER, "REGISTER x", now_s=2000) == DENIED
    assert fw.handle(OWNER, "STAT")[0].startswith("Not charging")
    assert fw.handle(OWNER, "PASS?") == ["Module password: "]
    assert cfg.params[0] == OWNER
    # both empty: only the console gets in
    fw2, _cfg2, _ = make({0: "", 1: ""})
    assert fw2.handle(STRANGER, "REGISTER x") == DENIED
    assert fw2.handle(STRANGER, "REGISTER", now_s=1000) == DENIED
    assert fw2.handle("", "PASS new", trusted=True) == ["Module password has been changed."]


def test_trusted_console_passes_every_check():
    fw, cfg, _ = make({0: "", 1: ""})
    assert fw.handle("", "MODULE?", trusted=True) == [MODULE_EMPTY]
    assert fw.handle("", "FEATURE 9 5", trusted=True) == ["Feature has been set."]
    # mode 1: the password position is still taken, not checked
    assert fw.handle("", "AP - +4916012345678 NewPw", trusted=True) == []
    assert cfg.params[:2] == ["+4916012345678", "NewPw"]


def test_permission_denied_suppressed_by_feature_14_bit_2():
    fw, cfg, _ = make({30: "2"})
    assert cfg.features[14] == 2
    assert fw.handle(STRANGER, "STAT") == []
    assert fw.handle(OWNER, "STAT")[0].startswith("Not charging")


def test_feature_14_bit_4_suppresses_all_replies_but_settings_change():
    fw, cfg, hooks = make()
    assert fw.handle(OWNER, "FEATURE 14 4") == []  # already silent
    assert cfg.features[14] == 4
    assert fw.handle(OWNER, "STAT") == []
    assert fw.handle(STRANGER, "STAT") == []
    assert fw.handle(OWNER, "PARAMS M") == []
    assert cfg.params[2] == "M" and hooks.calls == ["reinit", "net"]
    assert fw.handle(OWNER, "RANGE 70") == []
    assert cfg.features[12] == 70
    assert fw.handle(OWNER, "FEATURE 14 0") == ["Feature has been set."]


# ---- rate limit -----------------------------------------------------------------------


def test_rate_limit_blocks_after_three_failures():
    net = NetStatus()
    net.server_ok = True
    fw, cfg, _ = make(net=net)
    assert fw.handle(STRANGER, "STAT guess1", now_s=100) == DENIED
    assert fw.handle(STRANGER, "STAT guess2", now_s=160) == DENIED
    assert fw.handle(STRANGER, "REGISTER guess3", now_s=220) == DENIED
    # blocked for 10 min from the third failure: even the right password
    assert fw.handle(STRANGER, "STAT OVMS", now_s=221) == []
    assert fw.handle(STRANGER, "REGISTER OVMS", now_s=819) == []
    assert fw.handle(STRANGER, "hello", now_s=500) == []
    assert fw.outbox == []  # not forwarded either
    assert cfg.params[0] == OWNER
    # other senders and the owner are not affected
    assert fw.handle("+4900", "STAT OVMS", now_s=300)[0].startswith("Not charging")
    assert fw.handle(OWNER, "STAT", now_s=300)[0].startswith("Not charging")
    # block over
    assert fw.handle(STRANGER, "STAT OVMS", now_s=820)[0].startswith("Not charging")
    assert fw.handle(STRANGER, "STAT x", now_s=830) == DENIED


def test_rate_limit_window():
    fw, _cfg, _ = make()
    assert fw.handle(STRANGER, "STAT a", now_s=0) == DENIED
    assert fw.handle(STRANGER, "STAT b", now_s=300) == DENIED
    assert fw.handle(STRANGER, "STAT c", now_s=700) == DENIED  # window restarts
    assert fw.handle(STRANGER, "STAT d", now_s=800) == DENIED
    assert fw.handle(STRANGER, "STAT OVMS", now_s=850)[0].startswith("Not charging")
    assert fw.handle(STRANGER, "STAT e", now_s=900) == DENIED  # third in window
    assert fw.handle(STRANGER, "STAT OVMS", now_s=901) == []


def test_rate_limit_without_time_uses_the_last_time():
    fw, _cfg, _ = make()
    fw.handle(STRANGER, "STAT a", now_s=50)
    fw.handle(STRANGER, "STAT b")
    fw.handle(STRANGER, "STAT c")
    assert fw.handle(STRANGER, "STAT OVMS") == []
    assert fw.handle(STRANGER, "STAT OVMS", now_s=649) == []
    assert fw.handle(STRANGER, "STAT OVMS", now_s=650) != []


def test_rate_limit_never_blocks_the_owner():
    fw, _cfg, _ = make()
    for i in range(5):
        assert fw.handle(OWNER, "REGISTER wrong", now_s=i) == DENIED
    assert fw.handle(OWNER, "STAT", now_s=10)[0].startswith("Not charging")
    assert fw.handle(OWNER, "REGISTER OVMS", now_s=11)[0].startswith("Your phone")


def test_rate_limit_table_is_bounded():
    fw, _cfg, _ = make()
    for i in range(50):
        fw.handle("+49%d" % i, "STAT x", now_s=i)
        assert len(fw._fails) <= 8
    for i in range(3):
        fw.handle("+4999", "STAT x", now_s=100 + i)
    assert fw.handle("+4999", "STAT OVMS", now_s=110) == []


# ---- saving ---------------------------------------------------------------------------


def test_each_setting_command_saves_once_and_queries_never():
    fw, cfg, _ = make()
    for text in (
        "REGISTER?",
        "PASS?",
        "GPS",
        "STAT",
        "PARAMS?",
        "MODULE?",
        "GPRS?",
        "GSMLOCK?",
        "SERVER?",
        "DIAG",
        "FEATURES?",
        "VERSION",
        "HELP",
        "RESET",
        "LOCK 1",
    ):
        fw.handle(OWNER, text)
    assert cfg.store.saves == 0
    for n, text in enumerate(
        (
            "PASS OVMS",
            "PARAMS K",
            "MODULE X",
            "GPRS a",
            "GSMLOCK",
            "SERVER s",
            "FEATURE 9 1",
            "REGISTER OVMS",
            "AP OVMS " + OWNER,
        ),
        1,
    ):
        fw.handle(OWNER, text)
        assert cfg.store.saves == n, text


def test_error_text():
    assert ERR_NOT_SAVED == "Error: settings could not be saved"
