# The settings' code is loaded per load/save and dropped after it (D116, ovms.lazy): after
# the boot only two Store records stay (ovms.config); a save that cannot load its code
# fails like a failed flash write: "could not be saved", RAM put back, nothing written
# (both runtimes).
import sys

from sms_fixtures import OWNER
from support import LogCapture, rmtree, tmpdir

import ovms
from ovms import lazy
from ovms.config import Store
from ovms.sms import ERR_NOT_SAVED, SmsInterpreter
from ovms.twizy.vehicle import Twizy

_CODE = ("ovms.store", "ovms.owner")


def _loaded(name):
    dot = name.rfind(".")
    return name in sys.modules or hasattr(ovms, name[dot + 1 :])


class _Board:
    def __init__(self, path):
        self.CFG_PATH = path
        # a module password from the board's defaults: the emulated Cortex-M has no
        # os.urandom, and without a password REGISTER is closed (D35)
        self.DEFAULT_PARAMS = {1: "LAZYPASS9"}


def _boot(path):
    # firmware/parts.settings, as the boot runs it -> (interpreter, config)
    from firmware import parts

    quiet = [LogCapture("owner"), LogCapture("store")]
    try:
        cfg = parts.settings(_Board(path))
    finally:
        for c in quiet:
            c.release()
    return SmsInterpreter(cfg, Twizy(cfg)), cfg


def _files(path):
    out = []
    for name in (path + ".a", path + ".b", path + ".owner.a", path + ".owner.b"):
        try:
            with open(name, "rb") as f:
                out.append(f.read())
        except OSError:
            out.append(None)
    return out


class _NoRoom:
    # stands in for lazy.load: the settings' code finds no room (or is missing)
    def __init__(self, err):
        self.err = err
        self.real = lazy.load

    def __call__(self, name):
        if name in _CODE:
            raise self.err
        return self.real(name)

    def __enter__(self):
        lazy.load = self

    def __exit__(self, *exc):
        lazy.load = self.real


def test_after_the_boot_only_the_store_records_stay():
    d = tmpdir("setl")
    path = d + "/ovms.cfg"
    try:
        fw, cfg = _boot(path)
        for name in _CODE:
            assert not _loaded(name), name
        st = cfg.store
        assert type(st) is Store and type(st.copy) is Store and st.copy.copy is None
        pw = cfg.params[1]
        assert fw.handle(OWNER, "REGISTER " + pw) == [
            "Your phone has been registered as the owner."
        ]
        for name in _CODE:  # loaded for the save, dropped after it
            assert not _loaded(name), name
        assert st.seq == 2 and st.copy.number == OWNER and st.copy.writes == 1
        _fw2, cfg2 = _boot(path)  # the next boot reads what was saved
        assert cfg2.params[:2] == [OWNER, pw] and cfg2.store.copy.number == OWNER
    finally:
        rmtree(d)


def test_a_save_without_room_for_its_code_is_not_saved_and_rolled_back():
    d = tmpdir("setl")
    path = d + "/ovms.cfg"
    try:
        fw, cfg = _boot(path)
        pw = cfg.params[1]
        assert fw.handle(OWNER, "REGISTER " + pw)[0].startswith("Your phone")
        for err in (MemoryError(), ImportError("no module named 'ovms.store'")):
            before = list(cfg.params)
            flash = _files(path)
            seq = cfg.store.seq
            cap = LogCapture("sms")
            try:
                with _NoRoom(err):
                    assert fw.handle(OWNER, "PASS Another1") == [ERR_NOT_SAVED]
                    assert fw.handle(OWNER, "RANGE 80") == [ERR_NOT_SAVED]
                    assert fw.handle(OWNER, "FEATURE 9 20") == [ERR_NOT_SAVED]
            finally:
                cap.release()
            assert "saving settings failed" in cap.text()
            assert cfg.params == before and cfg.features[12] == 0 and cfg.features[9] == 0
            assert _files(path) == flash and cfg.store.seq == seq  # nothing written
            for name in _CODE:
                assert not _loaded(name), name
        # with room again the next save goes through
        assert fw.handle(OWNER, "PASS Another1") == ["Module password has been changed."]
        assert cfg.store.seq == seq + 1
    finally:
        rmtree(d)


def test_a_store_without_room_for_its_code_raises_oserror():
    # what every caller of Config.save() already handles (ovms.sms.save_or_rollback,
    # the server commands): OSError, never MemoryError or ImportError
    d = tmpdir("setl")
    try:
        st = Store(d + "/x.cfg")
        from ovms.config import Config

        with _NoRoom(MemoryError()):
            try:
                st.save(Config())
                raise AssertionError("saved without its code")
            except OSError:
                pass
        assert st.last_written is None and not _loaded("ovms.store")
    finally:
        rmtree(d)
