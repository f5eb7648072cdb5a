# The framework SMS command bodies are loaded per command and unloaded after it (D98,
# ovms.lazy, ovms.sms._framework); a failed load gets a reply, never an exception
# (both runtimes).
import sys

from sms_fixtures import OWNER, PW, make, snapshot
from support import LogCapture

import ovms
from ovms import lazy
from ovms.sms import ERR_NOT_LOADED, TABLE

_CMDS = "ovms.sms_cmds"
_PARAMS = ["Params:\n0:%s\n1:%s\n2:K" % (OWNER, PW)]


def _loaded():
    return _CMDS in sys.modules or hasattr(ovms, "sms_cmds")


class _FailingLoad:
    # stands in for lazy.load: raises `err`; with half=True it first really imports
    # the module, as an import that ran out of memory half way may leave it behind
    def __init__(self, err, half=False):
        self.err = err
        self.half = half
        self.calls = 0
        self.real = lazy.load

    def __call__(self, name):
        self.calls += 1
        if self.half:
            self.real(name)
        raise self.err

    def __enter__(self):
        lazy.load = self
        return self

    def __exit__(self, *exc):
        lazy.load = self.real


def test_command_unloads_its_code_and_the_next_one_loads_it_again():
    fw, _cfg, _ = make()
    loads = []
    real = lazy.load

    def counting(name):
        loads.append(name)
        return real(name)

    lazy.load = counting
    try:
        assert fw.handle(OWNER, "PARAMS?") == _PARAMS
        assert not _loaded()  # neither in sys.modules nor on the ovms package
        assert fw.handle(OWNER, "PARAMS?") == _PARAMS
        assert not _loaded()
        assert fw.handle(OWNER, "VERSION") == ["OVMS Firmware version: 3.0.0/RT2.5/VHOST"]
        assert not _loaded()
    finally:
        lazy.load = real
    assert loads == [_CMDS, _CMDS, _CMDS]  # one load per command


def test_setting_command_unloads_too():
    fw, cfg, hooks = make()
    assert fw.handle(OWNER, "PARAMS M") == ["Parameters have been set."]
    assert cfg.params[2] == "M"
    assert hooks.calls == ["reinit", "net"]
    assert not _loaded()


def test_twizy_stat_needs_no_command_code():
    # the vehicle replaces STAT (VEHICLE_REPLACES): answered without loading anything
    fw, _cfg, _ = make()
    with _FailingLoad(MemoryError()) as failing:
        out = fw.handle(OWNER, "STAT")
    assert failing.calls == 0
    assert out and out[0] != ERR_NOT_LOADED


def test_no_memory_for_the_code_gets_a_reply_and_changes_nothing():
    fw, cfg, hooks = make()
    before = snapshot(cfg)
    cap = LogCapture("sms")
    try:
        with _FailingLoad(MemoryError()) as failing:
            assert fw.handle(OWNER, "PARAMS?") == [ERR_NOT_LOADED]
            assert fw.handle(OWNER, "PARAMS M") == [ERR_NOT_LOADED]
            assert fw.handle("+4917099999999", "PASS? " + PW) == [ERR_NOT_LOADED]
        assert failing.calls == 3
    finally:
        cap.release()
    assert snapshot(cfg) == before
    assert cfg.store.saves == 0
    assert hooks.calls == []
    assert cap.levels() == ["error", "error", "error"]
    assert "MemoryError" in cap.text()
    assert not _loaded()
    assert fw.handle(OWNER, "PARAMS?") == _PARAMS  # memory back: works again


def test_import_error_gets_the_same_reply():
    fw, _cfg, _ = make()
    cap = LogCapture("sms")
    try:
        with _FailingLoad(ImportError("no module named 'ovms.sms_cmds'")):
            assert fw.handle(OWNER, "HELP") == [ERR_NOT_LOADED]
    finally:
        cap.release()
    assert cap.levels() == ["error"]
    assert "ImportError" in cap.text()


def test_no_memory_for_the_log_line_either_still_replies():
    # logging allocates too: when the log line fails as well (D96) the owner still gets
    # the reply, and no exception leaves handle()
    fw, _cfg, _ = make()

    class NoRoomLog:
        def error(self, *args):
            raise MemoryError

    real, fw._log = fw._log, NoRoomLog()
    try:
        with _FailingLoad(MemoryError()):
            assert fw.handle(OWNER, "PARAMS?") == [ERR_NOT_LOADED]
    finally:
        fw._log = real
    assert not _loaded()


def test_half_done_import_is_unloaded():
    fw, _cfg, _ = make()
    cap = LogCapture("sms")
    try:
        with _FailingLoad(MemoryError(), half=True):
            assert fw.handle(OWNER, "MODULE?") == [ERR_NOT_LOADED]
    finally:
        cap.release()
    assert not _loaded()


def test_every_table_entry_has_its_handler():
    # the table (resident, ovms.sms_table) and the bodies (ovms.sms_cmds) are two files
    cmds = lazy.load(_CMDS)
    try:
        missing = [e[2] for e in TABLE if not callable(getattr(cmds, e[2], None))]
    finally:
        lazy.unload(_CMDS)
    assert missing == []
    assert not _loaded()


def test_importing_the_interpreter_does_not_load_the_commands():
    saved = sys.modules["ovms.sms"]
    lazy.unload("ovms.sms")
    lazy.unload(_CMDS)
    try:
        fresh = lazy.load("ovms.sms")
        assert fresh is not saved  # really imported again
        assert not _loaded()
    finally:
        sys.modules["ovms.sms"] = saved
        ovms.sms = saved


def test_lazy_load_returns_the_submodule_and_unload_forgets_it():
    m = lazy.load("ovms.sms_cmds")
    try:
        assert m is sys.modules[_CMDS]
        assert ovms.sms_cmds is m
        assert m.__name__ == _CMDS
    finally:
        lazy.unload(_CMDS)
    assert not _loaded()
    lazy.unload(_CMDS)  # not loaded: nothing happens
    lazy.unload("ovms.no_such_module")
    assert not _loaded()


def test_debug_chunk_table_unloaded_after_debug_n():
    # DEBUG <n> runs a canned CAN chunk through the decoders (D22); its table is loaded for
    # that command only (D99, ovms.twizy.vehicle.inject), the decoded values stay
    import ovms.twizy

    fw, _cfg, _ = make()
    soc_before = fw.vehicle.st.soc
    fw.handle(OWNER, "DEBUG 0")
    assert "ovms.twizy.debug_chunks" not in sys.modules
    assert not hasattr(ovms.twizy, "debug_chunks")
    assert fw.vehicle.st.soc != soc_before  # the chunk reached the decoders
    fw.handle(OWNER, "DEBUG 0")  # and loads again
    assert "ovms.twizy.debug_chunks" not in sys.modules
