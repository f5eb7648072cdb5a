# SMS interpreter: the vehicle table, parsing, forwarding, the authorisation matrix, rate limits
# and saving (both runtimes).
from sms_fixtures import DENIED, MODULE_EMPTY, OWNER, PW, REGISTERED_OK, STRANGER, make, snapshot

from ovms.sms import NetStatus
from ovms.sms_table import ERR_NOT_SAVED, NOT_SUPPORTED, PERMISSION_DENIED

# ---- vehicle table ----------------------------------------------------------------


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
        with_pw = text.split(" ")[0] + " S3cretPw " + " ".join(text.split(" ")[1:])
        assert fw.handle(STRANGER, with_pw, now_s=t + 1) == DENIED, with_pw
    assert NOT_SUPPORTED == "Not supported by this vehicle (Renault Twizy)"
    assert fw.handle(OWNER, "CHARGEMODE turbo") == []  # unknown mode: no reply
    assert fw.handle(OWNER, "LOCK") == []  # no pin: not a command
    assert cfg.store.saves == 0


def test_vehicle_commands_after_the_framework_table():
    fw, cfg, _ = make()
    assert fw.handle(OWNER, "RANGE 80") == ["Max ideal range: 80 km"]
    assert cfg.features[12] == 80 and cfg.store.saves == 1
    assert fw.handle(OWNER, "RANGE?") == ["Max ideal range: 80 km"]
    # the password is removed before the vehicle sees the arguments
    assert fw.handle(STRANGER, "RANGE S3cretPw 50") == ["Max ideal range: 50 km"]
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
    assert fw.handle(OWNER, "PASS xyz123")[0].startswith("Module password")  # mode 2
    assert fw.handle(OWNER, "REGISTER xyz123") == REGISTERED_OK
    # the owner's "password" argument is not removed (registered path)
    assert fw.handle(OWNER, "RANGE x 80") == ["Max ideal range: UNSET"]


def test_auth_password_sender():
    fw, cfg, _ = make()
    assert fw.handle(STRANGER, "MODULE? S3cretPw") == [MODULE_EMPTY]
    assert fw.handle(STRANGER, "MODULE? S3cretPwextra") == [MODULE_EMPTY]  # prefix form
    assert fw.handle(STRANGER, "PASS S3cretPw x") == DENIED  # mode 2
    assert fw.handle(STRANGER, "FEATURE S3cretPw 9 5") == DENIED
    assert cfg.params[1] == "S3cretPw" and cfg.features[9] == 0


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
    out = fw.handle(STRANGER, "STAT S3cretPw")
    assert len(out) == 1 and PERMISSION_DENIED not in out


def test_auth_registered_number_is_exact_after_normalisation():
    # D36 (was a prefix match: OWNER + "1" counted as the owner)
    fw, _cfg, _ = make()
    assert fw.handle(OWNER + "1", "VERSION") == DENIED
    assert fw.handle(OWNER[:-1], "VERSION", now_s=1000) == DENIED
    for same in ("+49 151 0000 0000", "004915100000000", "+49-151-(0000)/0000"):
        assert fw.handle(same, "VERSION")[0].startswith("OVMS Firmware"), same


def test_auth_empty_or_default_config_lets_nobody_in():
    for p0 in ("", "NOPHONE"):
        fw, cfg, _ = make({0: p0})
        before = snapshot(cfg)
        for sender in (STRANGER, "", "NOPHONE", "NOPHONE123"):
            assert fw.handle(sender, "STAT", now_s=0) == DENIED
            assert fw.handle(sender, "STAT S3cretPw", now_s=1000) == DENIED  # only REGISTER
            assert fw.handle(sender, "AP S3cretPw +49 x", now_s=2000) == DENIED
            assert fw.handle(sender, "REGISTER wrong", now_s=3000) == DENIED
        assert snapshot(cfg) == before
        assert fw.handle(STRANGER, "REGISTER S3cretPw", now_s=4000)[0].startswith("Your phone")
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
    assert fw2.handle("", "PASS newpass", trusted=True) == ["Module password has been changed."]


def test_trusted_console_passes_every_check():
    fw, cfg, _ = make({0: "", 1: ""})
    assert fw.handle("", "MODULE?", trusted=True) == [MODULE_EMPTY]
    assert fw.handle("", "FEATURE 9 5", trusted=True) == ["Feature has been set."]
    # mode 1: the password position is still taken, not checked
    assert fw.handle("", "AP - +4916012345678 NewPw1", trusted=True) == []
    assert cfg.params[:2] == ["+4916012345678", "NewPw1"]


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
    assert fw.handle(STRANGER, "STAT S3cretPw", now_s=221) == []
    assert fw.handle(STRANGER, "REGISTER S3cretPw", now_s=819) == []
    assert fw.handle(STRANGER, "hello", now_s=500) == []
    assert fw.outbox == []  # not forwarded either
    assert cfg.params[0] == OWNER
    # other senders and the owner are not affected
    assert fw.handle("+4900", "STAT S3cretPw", now_s=300)[0].startswith("Not charging")
    assert fw.handle(OWNER, "STAT", now_s=300)[0].startswith("Not charging")
    # block over
    assert fw.handle(STRANGER, "STAT S3cretPw", now_s=820)[0].startswith("Not charging")
    assert fw.handle(STRANGER, "STAT x", now_s=830) == DENIED


def test_rate_limit_window():
    fw, _cfg, _ = make()
    assert fw.handle(STRANGER, "STAT a", now_s=0) == DENIED
    assert fw.handle(STRANGER, "STAT b", now_s=300) == DENIED
    assert fw.handle(STRANGER, "STAT c", now_s=700) == DENIED  # window restarts
    assert fw.handle(STRANGER, "STAT d", now_s=800) == DENIED
    assert fw.handle(STRANGER, "STAT S3cretPw", now_s=850)[0].startswith("Not charging")
    assert fw.handle(STRANGER, "STAT e", now_s=900) == DENIED  # third in window
    assert fw.handle(STRANGER, "STAT S3cretPw", now_s=901) == []


def test_rate_limit_without_time_uses_the_last_time():
    fw, _cfg, _ = make()
    fw.handle(STRANGER, "STAT a", now_s=50)
    fw.handle(STRANGER, "STAT b")
    fw.handle(STRANGER, "STAT c")
    assert fw.handle(STRANGER, "STAT S3cretPw") == []
    assert fw.handle(STRANGER, "STAT S3cretPw", now_s=649) == []
    assert fw.handle(STRANGER, "STAT S3cretPw", now_s=650) != []


def test_rate_limit_reads_the_one_clock():
    # D92: with a clock, the time every caller passes (SMS link, console, server C7,
    # MQTT: each had its own origin) is ignored; the limits see one time line
    t = [100]
    fw, _cfg, _ = make(clock=lambda: t[0])
    assert fw.handle(STRANGER, "STAT a", now_s=5000) == DENIED
    assert fw.handle(STRANGER, "STAT b", now_s=0) == DENIED
    assert fw.handle(STRANGER, "STAT c") == DENIED  # the third within 10 min: blocked
    t[0] = 699
    assert fw.handle(STRANGER, "STAT S3cretPw", now_s=100000) == []  # still blocked
    t[0] = 700
    assert fw.handle(STRANGER, "STAT S3cretPw", now_s=0)[0].startswith("Not charging")
    assert fw.now_s == 700


def test_rate_limit_never_blocks_the_owner():
    fw, _cfg, _ = make()
    for i in range(5):
        assert fw.handle(OWNER, "REGISTER wrong", now_s=i) == DENIED
    assert fw.handle(OWNER, "STAT", now_s=10)[0].startswith("Not charging")
    assert fw.handle(OWNER, "REGISTER S3cretPw", now_s=11)[0].startswith("Your phone")


def test_rate_limit_table_is_bounded():
    # mode-2 failures (no password compared): only the per-sender table counts
    fw, _cfg, _ = make()
    for i in range(50):
        fw.handle("+49%d" % (100 + i), "PARAMS M", now_s=i)
        assert len(fw.guard.fails) <= 8
    for i in range(3):
        fw.handle("+4999", "PARAMS M", now_s=100 + i)
    assert fw.guard.guesses == 10  # no password was guessed
    assert fw.handle("+4999", "STAT " + PW, now_s=110) == []  # blocked
    assert fw.handle("+4998", "STAT " + PW, now_s=110)[0].startswith("Not charging")


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
            "PASS S3cretPw",
            "PARAMS K",
            "MODULE X",
            "GPRS a",
            "GSMLOCK",
            "SERVER s",
            "FEATURE 9 1",
            "REGISTER S3cretPw",
            "AP S3cretPw " + OWNER,
        ),
        1,
    ):
        fw.handle(OWNER, text)
        assert cfg.store.saves == n, text


def test_error_text():
    assert ERR_NOT_SAVED == "Error: settings could not be saved"
