# The owner at boot (issue 8 §3, D35, D38): unique password for a fresh module,
# the owner kept through a settings loss (told by SMS, REGISTER not reopened), the
# owner copy crash-safe and written only on a change (both runtimes).
from sms_fixtures import DENIED, OWNER, REGISTERED_OK, STRANGER, fake_random
from support import LogCapture, rmtree, tmpdir

from ovms.config import Config
from ovms.owner import LEGACY_TEXT, LOST_TEXT, owner_copy, secure_boot
from ovms.sms import SmsInterpreter
from ovms.sms_auth import fresh_password
from ovms.store import Store, load_copy, sync_copy
from ovms.twizy.vehicle import Twizy

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _boot(path, seed=1, uid=b"\x01\x02\x03\x04", defaults=None):
    # what the firmware does at power-on -> (framework, config, notices, log text)
    cap = LogCapture("owner")
    quiet = LogCapture("store")
    try:
        store = Store(path)
        cfg = store.load()
        rnd = fake_random(seed) if seed is not None else None
        notices = secure_boot(cfg, store, owner_copy(path + ".owner"), defaults, uid, rnd)
    finally:
        cap.release()
        quiet.release()
    return SmsInterpreter(cfg, Twizy(cfg)), cfg, notices, cap.text()


def _corrupt(path):
    for suffix in (".a", ".b"):
        try:
            with open(path + suffix, "r+b") as f:
                f.seek(20)
                f.write(b"\xff\xff\xff")
        except OSError:
            pass


def test_fresh_module_gets_a_unique_password_shown_on_the_console():
    d = tmpdir("sec")
    try:
        fw, cfg, notices, logged = _boot(d + "/a.cfg", seed=7)
        pw = cfg.params[1]
        assert len(pw) == 8 and all([c in _ALPHABET for c in pw])
        assert pw in logged  # the boot log goes to the DIAG console
        assert notices == []  # nobody to tell
        assert fw.handle("", "PASS?", trusted=True) == ["Module password: " + pw]
        assert fw.handle(STRANGER, "REGISTER OVMS") == DENIED
        assert fw.handle(OWNER, "REGISTER " + pw, now_s=1000) == REGISTERED_OK
        # saved: the next boot keeps the password and the owner
        _fw2, cfg2, notices2, logged2 = _boot(d + "/a.cfg", seed=8)
        assert cfg2.params[:2] == [OWNER, pw] and notices2 == [] and pw not in logged2
        # another board: another password
        _fw3, cfg3, _, _ = _boot(d + "/b.cfg", seed=7, uid=b"\x01\x02\x03\x05")
        assert cfg3.params[1] != pw
    finally:
        rmtree(d)


def test_passwords_differ_per_board_and_per_random_draw():
    seen = set()
    for seed in range(50):
        for uid in (b"", b"\x00" * 12, b"board-2"):
            seen.add(fresh_password(uid, fake_random(seed)))
    assert len(seen) == 150


def test_without_a_random_source_register_stays_closed():
    # e.g. the emulated Cortex-M without os.urandom
    d = tmpdir("sec")
    try:
        fw, cfg, notices, logged = _boot(d + "/a.cfg", seed=None, uid=None)
        assert cfg.params[1] == "" and notices == []
        assert "REGISTER is closed" in logged
        for t, guess in enumerate(("", "OVMS", "x")):
            assert fw.handle(STRANGER, "REGISTER " + guess, now_s=1000 * t) == DENIED
        assert fw.handle("", "PASS Own3rPass", trusted=True) == [
            "Module password has been changed."
        ]
        assert fw.handle(OWNER, "REGISTER Own3rPass", now_s=5000) == REGISTERED_OK
        assert fresh_password(b"x", lambda n: b"") == ""
    finally:
        rmtree(d)


def test_settings_lost_keeps_the_owner_and_tells_him():
    d = tmpdir("sec")
    path = d + "/ovms.cfg"
    try:
        fw, cfg, _, _ = _boot(path)
        assert fw.handle(OWNER, "REGISTER " + cfg.params[1]) == REGISTERED_OK
        assert fw.handle(OWNER, "PASS MyOwnPass") == ["Module password has been changed."]
        assert fw.handle(OWNER, "MODULE TWIZY1 K SMS RT")[0].startswith("Module:")
        _corrupt(path)  # both settings slots broken
        fw2, cfg2, notices, logged = _boot(path, seed=99)
        assert cfg2.params[0] == OWNER  # the owner survived
        assert cfg2.params[8] == ""  # the rest is back to the defaults
        assert notices == [LOST_TEXT]
        assert "settings lost" in logged
        new_pw = cfg2.params[1]
        assert len(new_pw) == 8 and new_pw != "MyOwnPass"
        # REGISTER is not reopened: not with the factory, the old or no password
        t = 0
        for text in ("REGISTER OVMS", "REGISTER MyOwnPass", "REGISTER", "AP OVMS " + STRANGER):
            t += 1000
            assert fw2.handle(STRANGER, text, now_s=t) == DENIED, text
        assert cfg2.params[0] == OWNER
        assert fw2.handle(OWNER, "PASS?") == ["Module password: " + new_pw]
        # the restored settings were saved: the next boot is a normal one
        _fw3, cfg3, notices3, _ = _boot(path, seed=5)
        assert notices3 == [] and cfg3.params[:2] == [OWNER, new_pw]
    finally:
        rmtree(d)


def test_settings_files_deleted_is_a_loss_too_and_board_defaults_come_back():
    import os

    d = tmpdir("sec")
    path = d + "/ovms.cfg"
    try:
        fw, cfg, _, _ = _boot(path)
        fw.handle(OWNER, "REGISTER " + cfg.params[1])
        for suffix in (".a", ".b"):
            os.remove(path + suffix)
        defaults = {0: "+4915199999999", 3: "SMS,IP", 4: "127.0.0.1"}
        _fw2, cfg2, notices, _ = _boot(path, defaults=defaults)
        assert cfg2.params[0] == OWNER and cfg2.params[3:5] == ["SMS,IP", "127.0.0.1"]
        assert notices == [LOST_TEXT]
    finally:
        rmtree(d)


def test_owner_copy_follows_every_owner_change_and_only_then_writes():
    d = tmpdir("sec")
    path = d + "/ovms.cfg"
    try:
        fw, cfg, _, _ = _boot(path)
        copy = cfg.store.copy
        pw = cfg.params[1]
        assert copy.number is None and copy.writes == 0
        fw.handle(OWNER, "REGISTER " + pw)
        assert copy.number == OWNER and copy.writes == 1
        for text in ("PARAMS M", "FEATURE 9 20", "MODULE X", "PASS Another1"):
            fw.handle(OWNER, text)
        assert copy.writes == 1  # settings saved 5 times, the copy once
        fw.handle(OWNER, "AP Another1 " + STRANGER)  # a new owner by AP
        assert copy.number == STRANGER and copy.writes == 2
        assert load_copy(owner_copy(path + ".owner")) == STRANGER
        # the server (C4) writes parameter 0 through Config too
        cfg.set_param(0, "0049 151 0000 0000")
        assert copy.number == OWNER and copy.writes == 3
    finally:
        rmtree(d)


def test_owner_copy_torn_at_every_byte_keeps_the_last_good_owner():
    d = tmpdir("sec")
    name = d + "/c"
    try:
        quiet = LogCapture("store")
        try:
            copy = owner_copy(name)
            sync_copy(copy, OWNER)
            sync_copy(copy, STRANGER)  # the newest copy, torn below
        finally:
            quiet.release()
        newest = copy.last_written
        with open(newest, "rb") as f:
            full = f.read()
        cap = LogCapture("store")
        try:
            for cut in range(len(full)):
                with open(newest, "wb") as f:
                    f.write(full[:cut])
                assert load_copy(owner_copy(name)) == OWNER, cut
                del cap.got[:]  # quiet, and bounded in a board-sized heap
        finally:
            cap.release()
        with open(newest, "wb") as f:
            f.write(full)
        assert load_copy(owner_copy(name)) == STRANGER
    finally:
        rmtree(d)


def test_owner_copy_write_failure_is_logged_not_raised():
    d = tmpdir("sec")
    try:
        cfg = Config({0: OWNER})
        copy = owner_copy(d + "/no/such/dir/c")
        cap = LogCapture("owner")
        quiet = LogCapture("store")
        try:
            sync_copy(copy, OWNER)
        finally:
            cap.release()
            quiet.release()
        assert copy.errors == 1 and copy.number is None
        assert "not written" in cap.text()
        assert cfg.params[0] == OWNER
    finally:
        rmtree(d)


def test_legacy_factory_password_is_replaced_and_the_owner_told():
    d = tmpdir("sec")
    path = d + "/ovms.cfg"
    try:
        Store(path).save(Config({0: OWNER, 1: "OVMS"}))  # settings of the 2013 firmware
        fw, cfg, notices, logged = _boot(path, seed=3)
        assert cfg.params[0] == OWNER and cfg.params[1] not in ("OVMS", "")
        assert notices == [LEGACY_TEXT] and cfg.params[1] in logged
        assert fw.handle(STRANGER, "STAT OVMS") == DENIED
        assert load_copy(owner_copy(path + ".owner")) == OWNER
        # unregistered old module: replaced, nobody to tell
        Store(d + "/b.cfg").save(Config({1: "OVMS"}))
        _fw, cfg2, notices2, _ = _boot(d + "/b.cfg", seed=4)
        assert notices2 == [] and len(cfg2.params[1]) == 8
    finally:
        rmtree(d)


def test_boot_with_a_broken_flash_does_not_raise():
    d = tmpdir("sec")
    try:
        fw, cfg, notices, logged = _boot(d + "/no/such/dir/ovms.cfg")
        assert notices == [] and len(cfg.params[1]) == 8
        assert "not saved" in logged
        assert fw.handle("", "PASS?", trusted=True) == ["Module password: " + cfg.params[1]]
    finally:
        rmtree(d)


def test_password_derivation_is_the_same_in_every_runtime():
    # CPython, the unix port and the emulated Cortex-M (pure MD5) agree
    assert fresh_password(b"", lambda n: bytes(range(n))) == "5VNBDUKJ"


def test_password_derivation_leaves_no_hash_code_resident():
    # D105: HMAC-MD5 (ovms/v2/login.py) is loaded for the boot's one derivation and
    # dropped after it; RC4 and base64 (ovms/v2/crypto.py) stay for the uplink
    import sys

    from ovms import lazy

    lazy.unload("ovms.v2.login")
    assert fresh_password(b"", lambda n: bytes(range(n))) == "5VNBDUKJ"
    assert "ovms.v2.login" not in sys.modules
    import ovms.v2.crypto as crypto

    assert not hasattr(crypto, "hmac_md5") and not hasattr(crypto, "md5")


class _Board:
    def __init__(self, path, defaults=None):
        self.CFG_PATH = path
        if defaults is not None:
            self.DEFAULT_PARAMS = defaults


def test_device_boot_wiring():
    # firmware/parts.settings: the board's store, the owner copy beside it, os.urandom
    from firmware import parts

    d = tmpdir("sec")
    path = d + "/flash/ovms.cfg"
    cap = LogCapture("owner")
    quiet = LogCapture("store")
    try:
        cfg = parts.settings(_Board(path, {3: "SMS"}))
        # D35: a unique 8-character password where the port has os.urandom; the emulated
        # Cortex-M has none: the password stays empty and SMS REGISTER stays closed
        import os

        want = 8 if hasattr(os, "urandom") else 0
        assert len(cfg.params[1]) == want and cfg.params[3] == "SMS" and cfg.notices == []
        cfg.set_param(0, OWNER)  # registered later
        _corrupt(path)
        cfg2 = parts.settings(_Board(path))
        assert cfg2.params[0] == OWNER and cfg2.notices == [LOST_TEXT]
        if want:
            assert cfg2.params[1] not in ("", cfg.params[1])
        else:
            assert cfg2.params[1] == ""
    finally:
        cap.release()
        quiet.release()
        rmtree(d + "/flash")
        rmtree(d)
