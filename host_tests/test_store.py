# Crash-safe parameter store: reboot, torn writes at every byte, corruption (both runtimes).
from support import LogCapture, rmtree, tmpdir

from ovms import store as store_mod
from ovms.config import Config
from ovms.sms import ERR_NOT_SAVED, SmsInterpreter
from ovms.store import Store

OWNER = "+4915100000000"


def _write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def _read(name):
    with open(name, "rb") as f:
        return f.read()


def _exists(name):
    import os

    try:
        os.stat(name)
        return True
    except OSError:
        return False


def test_fresh_store_gives_defaults():
    d = tmpdir("store")
    try:
        cfg = Store(d + "/ovms.cfg").load()
        assert cfg.params[0] == "NOPHONE"
        assert cfg.params[1] == ""  # no factory password (D35)
        assert cfg.params[2] == "K"
        assert cfg.features == [0] * 16
        assert cfg.store is not None
    finally:
        rmtree(d)


def test_settings_survive_a_reboot():
    d = tmpdir("store")
    try:
        path = d + "/ovms.cfg"
        cfg = Store(path).load()
        fw = SmsInterpreter(cfg)
        cfg.params[1] = "first1"  # no factory password (D35)
        assert fw.handle(OWNER, "REGISTER first1") == [
            "Your phone has been registered as the owner."
        ]
        assert fw.handle(OWNER, "MODULE TWIZY42 M SMSIP RT")[0].startswith("Module:")
        assert fw.handle(OWNER, "FEATURE 12 80") == ["Feature has been set."]
        assert fw.handle(OWNER, "FEATURE 3 7") == ["Feature has been set."]
        assert fw.handle(OWNER, "PASS s3cret") == ["Module password has been changed."]
        # reboot: a new Store on the same path
        cfg2 = Store(path).load()
        assert cfg2.params[0] == OWNER
        assert cfg2.params[1] == "s3cret"
        assert cfg2.params[2] == "M"
        assert cfg2.params[3] == "SMSIP"
        assert cfg2.params[8] == "TWIZY42"
        assert cfg2.params[14] == "RT"
        assert cfg2.params[28] == "80"
        assert cfg2.features[12] == 80
        assert cfg2.features[3] == 0  # features 0-7 are volatile
        assert cfg2.params == cfg.params
    finally:
        rmtree(d)


def test_saves_alternate_between_two_slots():
    d = tmpdir("store")
    try:
        path = d + "/ovms.cfg"
        st = Store(path)
        cfg = st.load()
        cfg.set_param(4, "one")
        assert st.last_written == path + ".a"
        cfg.set_param(4, "two")
        assert st.last_written == path + ".b"
        cfg.set_param(4, "three")
        assert st.last_written == path + ".a"
        assert Store(path).load().params[4] == "three"
        # after a reboot the next save goes to the older slot again
        st2 = Store(path)
        cfg2 = st2.load()
        cfg2.set_param(4, "four")
        assert st2.last_written == path + ".b"
        assert Store(path).load().params[4] == "four"
    finally:
        rmtree(d)


def test_save_without_load_finds_the_older_slot():
    d = tmpdir("store")
    try:
        path = d + "/ovms.cfg"
        Store(path).save(Config({4: "one"}))
        Store(path).save(Config({4: "two"}))
        Store(path).save(Config({4: "three"}))
        assert Store(path).load().params[4] == "three"
    finally:
        rmtree(d)


def _torn_case(d, first_save):
    # Settings "old" are saved (acknowledged); the save of "new" is torn at
    # every byte offset; each reboot must come up with "old".
    path = d + "/ovms.cfg"
    st = Store(path)
    cfg = st.load()
    old = None
    if first_save:
        cfg.set_param(0, OWNER, save=False)
        cfg.set_feature(12, "80", save=False)
        cfg.set_param(4, "ovms.example.org")
        old = list(cfg.params)
    cfg.set_param(4, "new.example.org", save=False)
    cfg.set_param(9, "n€tpass\\x\ny", save=False)
    cfg.set_feature(14, "2")
    new = list(cfg.params)
    name = st.last_written
    full = _read(name)
    assert len(full) > 50
    for n in range(len(full)):
        _write(name, full[:n])
        cap = LogCapture("store")
        try:
            got = Store(path).load()
        finally:
            cap.release()
        if old is None:
            assert cap.levels() == ["warning", "error"], n
        else:
            assert cap.levels() == ["warning", "warning"], n
            assert cap.got[1][1].startswith("using the last good copy ")
        if old is None:
            assert got.params == Config().params, n  # nothing ever saved: defaults
        else:
            assert got.params == old, n
            assert got.features[12] == 80 and got.features[14] == 0
    _write(name, full)
    got = Store(path).load()
    assert got.params == new
    assert got.features[14] == 2
    return path


def test_torn_write_at_every_offset():
    d = tmpdir("store")
    try:
        _torn_case(d, True)
    finally:
        rmtree(d)


def test_torn_first_write_boots_with_defaults():
    d = tmpdir("store")
    try:
        _torn_case(d, False)
    finally:
        rmtree(d)


def test_torn_write_then_next_save_overwrites_the_broken_slot():
    d = tmpdir("store")
    try:
        path = d + "/ovms.cfg"
        st = Store(path)
        cfg = st.load()
        cfg.set_param(4, "a")
        cfg.set_param(4, "b")
        broken = st.last_written
        _write(broken, _read(broken)[:20])  # torn
        st2 = Store(path)
        cfg2 = st2.load()
        assert cfg2.params[4] == "a"
        cfg2.set_param(4, "c")
        assert st2.last_written == broken  # the good copy "a" is kept
        assert Store(path).load().params[4] == "c"
    finally:
        rmtree(d)


def test_corrupt_bytes_are_detected():
    d = tmpdir("store")
    cap = LogCapture("store")
    try:
        path = d + "/ovms.cfg"
        st = Store(path)
        cfg = st.load()
        cfg.set_param(4, "good")
        cfg.set_param(4, "newer")
        name = st.last_written
        full = _read(name)
        for i in range(len(full)):
            bad = bytearray(full)
            bad[i] ^= 0x01
            _write(name, bytes(bad))
            assert Store(path).load().params[4] == "good", i
            del cap.got[:]  # only the last message is checked: a board-sized heap
        # garbage, an empty file, an oversize file, a future format
        for junk in (b"", b"\xff" * 300, b"x\n" * 5000, full.replace(b"OVMSCFG 1", b"OVMSCFG 2")):
            _write(name, junk)
            assert Store(path).load().params[4] == "good"
        # both slots broken: defaults, no exception
        _write(path + ".a", b"junk")
        _write(path + ".b", b"")
        assert Store(path).load().params == Config().params
        assert cap.got[-1] == ("error", "no valid settings in %s, using the defaults" % path)
    finally:
        cap.release()
        rmtree(d)


def test_encode_parse_round_trip():
    params = [""] * 32
    params[0] = OWNER
    params[5] = "a\\b\nc\rd e"
    params[9] = "äöü€°"
    params[31] = "-5"
    raw = store_mod.encode(params, 7)
    assert raw.startswith(b"OVMSCFG 1\nseq 7\n0 +4915100000000\n1 \n2 \n")
    seq, got = store_mod.parse(raw)
    assert seq == 7
    want = {}
    for k in range(32):
        want[k] = params[k]
    assert got == want
    assert got[5] == "a\\b\nc\rd e" and got[9] == "äöü€°"


def test_empty_slots_with_defaults_stay_empty():
    # an empty module password / phone / units must not come back as the
    # factory default after a reboot
    d = tmpdir("store")
    try:
        path = d + "/ovms.cfg"
        cfg = Store(path).load()
        cfg.set_param(0, "", save=False)
        cfg.set_param(1, "", save=False)
        cfg.set_param(2, "")
        got = Store(path).load()
        assert got.params[:3] == ["", "", ""]
        assert got.params == cfg.params
    finally:
        rmtree(d)


def test_missing_directory_save_fails_and_is_not_acknowledged():
    d = tmpdir("store")
    cap = LogCapture("sms")
    try:
        cfg = Store(d + "/no/such/dir/ovms.cfg").load()
        cfg.params[0] = OWNER
        cfg.params[1] = "OVMS"  # (no factory password any more: D35)
        before = list(cfg.params)
        fw = SmsInterpreter(cfg)
        assert fw.handle(OWNER, "PASS newpass") == [ERR_NOT_SAVED]
        assert fw.handle(OWNER, "PARAMS M") == [ERR_NOT_SAVED]
        assert fw.handle(OWNER, "FEATURE 9 5") == [ERR_NOT_SAVED]
        assert fw.handle(OWNER, "MODULE X") == [ERR_NOT_SAVED]
        assert fw.handle(OWNER, "GPRS apn") == [ERR_NOT_SAVED]
        assert fw.handle(OWNER, "SERVER s") == [ERR_NOT_SAVED]
        assert fw.handle(OWNER, "GSMLOCK") == [ERR_NOT_SAVED]
        assert fw.handle(OWNER, "REGISTER OVMS") == [ERR_NOT_SAVED]
        assert fw.handle(OWNER, "FEATURE 12 80") == [ERR_NOT_SAVED]
        assert not _exists(d + "/no")
        # nothing changed in RAM either
        assert cfg.params == before
        assert cfg.features[12] == 0
        assert fw.handle(OWNER, "PASS?") == ["Module password: OVMS"]
        assert cap.levels() == ["error"] * 9
    finally:
        cap.release()
        rmtree(d)


def test_vehicle_command_save_failure_is_reported():
    from ovms.twizy.vehicle import Twizy

    d = tmpdir("store")
    cap = LogCapture("sms")
    try:
        cfg = Store(d + "/no/such/dir/ovms.cfg").load()
        cfg.params[0] = OWNER
        fw = SmsInterpreter(cfg, Twizy(cfg))
        assert fw.handle(OWNER, "RANGE 80") == [ERR_NOT_SAVED]
        assert cfg.features[12] == 0 and cfg.params[28] == ""
        assert fw.handle(OWNER, "RANGE?") == ["Max ideal range: UNSET"]
    finally:
        cap.release()
        rmtree(d)
