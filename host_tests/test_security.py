# No stranger in (issue 8 §3): every takeover path found, closed (both runtimes).
# Each test here failed on the interpreter before D35-D39 (see the report of that
# change): the factory password, REGISTER on a fresh module, the prefix owner
# match, rotating senders, the settings loss (test_security_boot.py).
from sms_fixtures import DENIED, OWNER, PW, REGISTERED_OK, STRANGER, make, snapshot

from ovms.config import Config
from ovms.sms import SmsInterpreter
from ovms.twizy.vehicle import Twizy


def _fresh_module():
    # a module as it leaves the factory, settings in RAM only
    cfg = Config()
    return SmsInterpreter(cfg, Twizy(cfg)), cfg


# ---- the factory password "OVMS" (D35) ----------------------------------------------


def test_factory_password_does_not_register_a_fresh_module():
    fw, cfg = _fresh_module()
    before = snapshot(cfg)
    t = 0
    for text in (
        "REGISTER OVMS",
        "REGISTER ovms",
        "REGISTER",
        "REGISTER -",
        "AP OVMS " + STRANGER,
    ):
        t += 1000
        assert fw.handle(STRANGER, text, now_s=t) == DENIED, text
    assert snapshot(cfg) == before
    assert cfg.params[0] == "NOPHONE" and cfg.params[1] == ""


def test_factory_password_opens_nothing_on_a_registered_module():
    # a module registered but whose password was never changed
    cfg = Config({0: OWNER})
    fw = SmsInterpreter(cfg, Twizy(cfg))
    before = snapshot(cfg)
    t = 0
    for text in ("STAT OVMS", "PASS? OVMS", "REGISTER OVMS", "AP OVMS " + STRANGER, "GPS OVMS"):
        t += 1000
        assert fw.handle(STRANGER, text, now_s=t) == DENIED, text
    assert snapshot(cfg) == before


def test_old_settings_with_the_factory_password_still_refuse_it_by_sms_pass():
    # the owner cannot set a guessable password either
    fw, cfg, _ = make()
    assert fw.handle(OWNER, "PASS OVMS") == ["Error: the password needs at least 6 characters"]
    assert fw.handle(OWNER, "AP " + PW + " " + OWNER + " OVMS") == [
        "Error: the password needs at least 6 characters"
    ]
    assert cfg.params[1] == PW


def test_register_stays_closed_without_a_password_until_the_console_sets_one():
    fw, cfg = _fresh_module()
    for t, guess in enumerate(("", "x", "OVMS", "NOPHONE", "-", "\u00a0")):
        assert fw.handle(STRANGER, "REGISTER " + guess, now_s=1000 * t) == DENIED
    assert cfg.params[0] == "NOPHONE"
    # the owner at the DIAG console (trusted)
    assert fw.handle("", "PASS Tw1zyOwner", trusted=True) == ["Module password has been changed."]
    assert fw.handle(OWNER, "REGISTER Tw1zyOwner", now_s=9000) == REGISTERED_OK
    assert cfg.params[0] == OWNER


# ---- exact owner match (D36) ----------------------------------------------------------


def test_owner_number_with_a_suffix_is_a_stranger():
    fw, cfg, _ = make()
    before = snapshot(cfg)
    t = 0
    for sender in (OWNER + "9999", OWNER + "0", OWNER + "#", OWNER + " 1", "+" + OWNER[1:] + "00"):
        for text in ("STAT", "PASS hacked99", "PARAMS M", "REGISTER?", "FEATURE 14 4"):
            t += 1000
            assert fw.handle(sender, text, now_s=t) == DENIED, (sender, text)
    assert snapshot(cfg) == before
    assert fw.handle(OWNER, "STAT")[0].startswith("Not charging")


def test_owner_prefix_and_non_numbers_are_strangers():
    t = 0
    for p0 in (OWNER, "+49", "0049151"):
        fw, cfg, _ = make({0: p0})
        before = snapshot(cfg)
        for sender in (OWNER[:-1], OWNER[:3], "NOPHONE", "", "+", "Vodafone", p0 + "x"):
            t += 1000
            if sender == p0:
                continue
            assert fw.handle(sender, "PARAMS M", now_s=t) == DENIED, (p0, sender)
        assert snapshot(cfg) == before


def test_alphanumeric_sender_cannot_register_even_with_the_password():
    fw, cfg = _fresh_module()
    cfg.set_param(1, PW, save=False)
    assert fw.handle("Vodafone", "REGISTER " + PW) == [
        "Error: this sender is not a phone number that can be registered"
    ]
    assert fw.handle("+49" + "1" * 40, "REGISTER " + PW) == [
        "Error: this sender is not a phone number that can be registered"
    ]
    assert cfg.params[0] == "NOPHONE"


# ---- rotating senders (D37) ------------------------------------------------------------


def test_rotating_senders_get_ten_guesses_not_six_hundred():
    fw, cfg, _ = make()
    before = snapshot(cfg)
    checked = 0
    # 600 senders, one wrong password each, all within 10 minutes
    for i in range(600):
        out = fw.handle("+4917%09d" % i, "STAT guess%d" % i, now_s=i)
        assert out in ([], DENIED)
        checked += out == DENIED
    assert checked <= 11  # 10 at once, one more after 6 min
    assert fw.guard.wrong == checked
    # now even the right password from a new sender is dropped, unanswered
    assert fw.handle("+4916000000001", "STAT " + PW, now_s=600) == []
    assert fw.handle("+4916000000001", "REGISTER " + PW, now_s=601) == []
    assert snapshot(cfg) == before
    # the owner's phone is never locked out
    assert fw.handle(OWNER, "STAT", now_s=602)[0].startswith("Not charging")
    assert fw.handle(OWNER, "REGISTER wrong", now_s=603) == DENIED
    assert fw.handle(OWNER, "REGISTER " + PW, now_s=604) == REGISTERED_OK


def test_rotating_senders_over_a_day():
    fw, cfg, _ = make()
    checked = 0
    for i in range(24 * 60):  # one guess a minute from a new number, for 24 h
        out = fw.handle("+4917%09d" % i, "PASS? guess%d" % i, now_s=60 * i)
        checked += out == DENIED
    assert checked <= 10 + 24 * 10  # 250 a day at most
    assert cfg.params[1] == PW


def test_global_limit_refills_one_guess_every_six_minutes():
    fw, _cfg, _ = make()
    for i in range(10):
        assert fw.handle("+4917%09d" % i, "STAT bad", now_s=i) == DENIED
    assert fw.handle("+4916000000001", "STAT " + PW, now_s=20) == []
    assert fw.handle("+4916000000001", "STAT " + PW, now_s=365)[0].startswith("Not charging")
    assert fw.handle("+4916000000002", "STAT bad", now_s=366) == DENIED
    assert fw.handle("+4916000000003", "STAT " + PW, now_s=367) == []
    assert fw.guard.dropped == 2


def test_non_guesses_do_not_use_up_the_global_limit():
    # strangers texting commands without a password (mode 2, no argument)
    fw, _cfg, _ = make()
    for i in range(100):
        assert fw.handle("+4917%09d" % i, "STAT", now_s=i) == DENIED
        assert fw.handle("+4918%09d" % i, "PARAMS M", now_s=i) == DENIED
    assert fw.guard.guesses == 10
    assert fw.handle("+4916000000001", "STAT " + PW, now_s=200)[0].startswith("Not charging")


def test_sender_spellings_share_one_block():
    fw, _cfg, _ = make()
    for i, spelling in enumerate((STRANGER, "00" + STRANGER[1:], "+49 170 999 99999")):
        assert fw.handle(spelling, "STAT bad%d" % i, now_s=i) == DENIED
    assert fw.handle("+49-170-99999999", "STAT " + PW, now_s=10) == []  # blocked
