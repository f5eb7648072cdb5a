# Settings values are checked (issue 8 §3, D39; both runtimes): no control
# character reaches an AT command, over-long values are refused with an error
# reply (not clipped), RANGE/CA/FEATURE values have caps. Nothing changes on a
# refusal; values that pass still get the spec's byte-exact replies.
from sms_fixtures import OWNER, PW, make, snapshot

from ovms.config import Config, check_feature, check_param

TOO_LONG = "Error: parameter %d is longer than 31 characters"
BAD_CHARS = "Error: parameter %d contains characters that are not allowed"
BAD_FEATURE = "Error: feature %d must be a number from 0 to %d"


def _refused(fw, cfg, text, reply):
    before = snapshot(cfg)
    saves = cfg.store.saves
    assert fw.handle(OWNER, text) == [reply], text
    assert snapshot(cfg) == before, text
    assert cfg.store.saves == saves, text


def test_control_characters_never_reach_an_at_command():
    fw, cfg, hooks = make()
    for ch in ("\x00", "\x1a", "\x1b", "\x7f", "\x85", '"'):
        _refused(fw, cfg, "GPRS apn" + ch, BAD_CHARS % 5)
        _refused(fw, cfg, "GPRS apn user" + ch + "x", BAD_CHARS % 6)
        _refused(fw, cfg, "GPRS apn user pass" + ch, BAD_CHARS % 7)
        _refused(fw, cfg, "SERVER host" + ch, BAD_CHARS % 4)
        _refused(fw, cfg, "GSMLOCK op" + ch, BAD_CHARS % 13)
        _refused(fw, cfg, "MODULE id" + ch, BAD_CHARS % 8)
        _refused(fw, cfg, "PARAMS K SMS srv" + ch, BAD_CHARS % 4)
        _refused(fw, cfg, "AP %s %s %s K SMS - apn%s" % (PW, OWNER, PW, ch), BAD_CHARS % 5)
    assert hooks.calls == []  # no reconnect either
    # the server address: a host name or an address, nothing else
    for bad in ("host;x", "h\u00e9st", "a,b", "x=1", "h@st"):
        _refused(fw, cfg, "SERVER " + bad, BAD_CHARS % 4)
    assert fw.handle(OWNER, "SERVER ovms.dexters-web.de:6867 pw P")[0].startswith(
        "Server:\r\n IP:ovms.dexters-web.de:6867\r\n"
    )
    assert fw.handle(OWNER, "GPRS internet.t-d1.de t-mobile tm")[0].startswith(
        "GPRS:\r\n APN:internet.t-d1.de\r\n User:t-mobile\r\n Password:tm\r\n"
    )


def test_config_drops_control_characters_from_at_slots_on_every_path():
    # paths that do not check (server C4, old settings files) still never pass one on
    cfg = Config({5: 'ap\x1an"x', 4: "h\x00ost", 9: "n\x01pw"})
    assert cfg.params[5] == "apnx" and cfg.params[4] == "host"
    assert cfg.params[9] == "n\x01pw"  # not an AT slot: stored as given
    for n in (4, 5, 6, 7, 8, 13, 18):  # the AT slots (D39)
        cfg.set_param(n, 'a\rb\nc\x1a\x1b"d\x9fe', save=False)
        assert cfg.params[n] == "abcde", n


def test_over_long_values_are_refused_not_clipped():
    fw, cfg, _ = make()
    v32 = "x" * 32
    _refused(fw, cfg, "GPRS " + v32, TOO_LONG % 5)
    _refused(fw, cfg, "SERVER a.b " + v32, TOO_LONG % 9)
    _refused(fw, cfg, "MODULE " + v32, TOO_LONG % 8)
    _refused(fw, cfg, "GSMLOCK " + v32, TOO_LONG % 13)
    _refused(fw, cfg, "PARAMS K " + v32, TOO_LONG % 3)
    _refused(fw, cfg, "AP %s %s %s K %s" % (PW, OWNER, PW, v32), TOO_LONG % 3)
    _refused(fw, cfg, "PASS " + v32, TOO_LONG % 1)
    # 31 characters are fine
    assert fw.handle(OWNER, "GPRS " + "y" * 31)[0].startswith("GPRS:\r\n APN:" + "y" * 31)


def test_feature_values_have_caps():
    fw, cfg, _ = make()
    _refused(fw, cfg, "FEATURE 9 101", BAD_FEATURE % (9, 100))
    _refused(fw, cfg, "FEATURE 10 -1", BAD_FEATURE % (10, 100))
    _refused(fw, cfg, "FEATURE 12 501", BAD_FEATURE % (12, 500))
    _refused(fw, cfg, "FEATURE 14 128", BAD_FEATURE % (14, 127))
    _refused(fw, cfg, "FEATURE 3 " + "9" * 30, BAD_FEATURE % (3, 127))
    _refused(fw, cfg, "FEATURE 8 1\x1b", BAD_FEATURE % (8, 127))
    _refused(
        fw,
        cfg,
        "PARAMS K SMS - - - - - - - - - - - - - - - - - - - - - 101",
        BAD_FEATURE % (9, 100),
    )
    assert fw.handle(OWNER, "FEATURE 9 100") == ["Feature has been set."]
    assert fw.handle(OWNER, "FEATURE 12 500") == ["Feature has been set."]
    assert cfg.features[9] == 100 and cfg.features[12] == 500


def test_range_and_ca_have_caps():
    fw, cfg, _ = make()
    _refused(fw, cfg, "RANGE 501", BAD_FEATURE % (12, 500))
    _refused(fw, cfg, "RANGE 99999999999999999999", BAD_FEATURE % (12, 500))
    _refused(fw, cfg, "RANGE -5", BAD_FEATURE % (12, 500))
    _refused(fw, cfg, "CA 101%", BAD_FEATURE % (10, 100))
    _refused(fw, cfg, "CA 50 101%", BAD_FEATURE % (10, 100))
    _refused(fw, cfg, "CA 600", BAD_FEATURE % (11, 500))
    _refused(fw, cfg, "CA 50 80% 90%", "Error: CA takes at most two values")
    # within the caps: the vehicle's replies as before
    assert fw.handle(OWNER, "RANGE 120") == ["Max ideal range: 120 km"]
    assert fw.handle(OWNER, "RANGE ?") == ["Max ideal range: 120 km"]
    assert fw.handle(OWNER, "RANGE?") == ["Max ideal range: 120 km"]
    assert fw.handle(OWNER, "CA 80 90%")[0].startswith("Charge Alert: 90% or 80 km")
    assert fw.handle(OWNER, "CA")[0].startswith("Charge Alert: OFF")
    assert fw.handle(OWNER, "RANGE") == ["Max ideal range: UNSET"]
    # the password path is checked the same way
    assert fw.handle("+4917099999999", "RANGE %s 900" % PW) == [BAD_FEATURE % (12, 500)]


def test_check_functions():
    assert check_param(2, "K") is None and check_param(9, "n\u20acpw") is None
    assert check_param(5, "\u00e4pn") == BAD_CHARS % 5  # AT slots: ASCII only
    assert check_param(3, "SMS\x00") == BAD_CHARS % 3  # no slot takes a control character
    assert check_param(28, "80") is None and check_param(28, "800") == BAD_FEATURE % (12, 500)
    assert check_feature(9, "") is None  # empty = 0 (off)
    assert check_feature(9, "80km") is None  # atoi rules (D5)
    assert check_feature(15, "1" + "0" * 5000) == TOO_LONG % 31


def test_new_passwords_are_checked():
    fw, cfg, _ = make()
    _refused(fw, cfg, "PASS short", "Error: the password needs at least 6 characters")
    _refused(
        fw,
        cfg,
        "PASS \u00e4\u00e4\u00e4\u00e4\u00e4\u00e4",
        "Error: the password may only use printable ASCII characters",
    )
    assert fw.handle(OWNER, "PASS Long3nough") == ["Module password has been changed."]
    # AP "-" still turns password access off
    assert fw.handle(OWNER, "AP Long3nough " + OWNER + " -") == []
    assert cfg.params[1] == ""
