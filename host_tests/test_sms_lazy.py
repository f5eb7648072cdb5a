# The framework SMS command bodies are loaded per command and unloaded after it (D98,
# ovms.lazy, ovms.sms._framework); a failed load gets a reply, never an exception
# (both runtimes).
import sys

from sms_fixtures import DENIED, OWNER, PW, STRANGER, make, snapshot
from support import ROOT, LogCapture

import ovms
from ovms import lazy
from ovms.sms_table import ERR_NOT_LOADED, TABLE

_CMDS = "ovms.sms_cmds"
_PARAMS = ["Params:\n0:%s\n1:%s\n2:K" % (OWNER, PW)]


_RUN = "ovms.sms_run"
_GUARD = "ovms.sms_guard"


def _loaded(name=_CMDS):
    return name in sys.modules or hasattr(ovms, name[5:])


def _unload_all():
    for name in (_CMDS, _RUN, _GUARD):
        lazy.unload(name)


def _per_sms_loaded():
    # the SMS handling code (D123) or the command bodies (D98) still loaded
    return _loaded() or _loaded(_RUN) or _loaded(_GUARD)


class _FailingLoad:
    # stands in for lazy.load: raises `err` for module `target` (others load as usual);
    # with half=True it first really imports the module, as an import that ran out of
    # memory half way may leave it behind
    def __init__(self, err, half=False, target=_CMDS):
        self.err = err
        self.half = half
        self.target = target
        self.calls = 0
        self.real = lazy.load

    def __call__(self, name):
        if name != self.target:
            return self.real(name)
        self.calls += 1
        if self.half:
            self.real(name)
        raise self.err

    def __enter__(self):
        lazy.load = self
        return self

    def __exit__(self, *exc):
        lazy.load = self.real


def _counting_loads():
    # lazy.load noting each name it loads -> (the names, the real load to put back)
    loads = []
    real = lazy.load

    def counting(name):
        loads.append(name)
        return real(name)

    lazy.load = counting
    return loads, real


def test_command_unloads_its_code_and_the_next_one_loads_it_again():
    fw, _cfg, _ = make()
    loads, real = _counting_loads()
    try:
        assert fw.handle(OWNER, "PARAMS?") == _PARAMS
        assert not _per_sms_loaded()  # neither in sys.modules nor on the ovms package
        assert fw.handle(OWNER, "PARAMS?") == _PARAMS
        assert not _per_sms_loaded()
        assert fw.handle(OWNER, "VERSION") == ["OVMS Firmware version: 3.0.0/RT2.5/VHOST"]
        assert not _per_sms_loaded()
    finally:
        lazy.load = real
    assert loads == [_RUN, _CMDS] * 3  # one load per command (and the SMS code, D123)


def test_setting_command_unloads_too():
    fw, cfg, hooks = make()
    assert fw.handle(OWNER, "PARAMS M") == ["Parameters have been set."]
    assert cfg.params[2] == "M"
    assert hooks.calls == ["reinit", "net"]
    assert not _per_sms_loaded()


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
    assert not _per_sms_loaded()
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


class _NoRoomLog:
    # a log with no heap left: every line raises (D96)
    def error(self, *args):
        raise MemoryError


def test_no_memory_for_the_log_line_either_still_replies():
    # logging allocates too: when the log line fails as well (D96) the owner still gets
    # the reply, and no exception leaves handle()
    fw, _cfg, _ = make()

    real, fw._log = fw._log, _NoRoomLog()
    try:
        with _FailingLoad(MemoryError()):
            assert fw.handle(OWNER, "PARAMS?") == [ERR_NOT_LOADED]
    finally:
        fw._log = real
    assert not _per_sms_loaded()


def test_half_done_import_is_unloaded():
    fw, _cfg, _ = make()
    cap = LogCapture("sms")
    try:
        with _FailingLoad(MemoryError(), half=True):
            assert fw.handle(OWNER, "MODULE?") == [ERR_NOT_LOADED]
    finally:
        cap.release()
    assert not _per_sms_loaded()


def test_every_table_entry_has_its_handler():
    # the table (resident, ovms.sms_table) and the bodies (ovms.sms_cmds) are two files
    cmds = lazy.load(_CMDS)
    try:
        missing = [e[2] for e in TABLE if not callable(getattr(cmds, e[2], None))]
    finally:
        _unload_all()  # sms_cmds imports the per-SMS code too
    assert missing == []
    assert not _per_sms_loaded()


def test_importing_the_interpreter_does_not_load_the_commands():
    saved = sys.modules["ovms.sms"]
    lazy.unload("ovms.sms")
    _unload_all()
    try:
        fresh = lazy.load("ovms.sms")
        assert fresh is not saved  # really imported again
        assert not _per_sms_loaded()
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
        _unload_all()
    assert not _per_sms_loaded()
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


# ---- D123: the handling code (ovms.sms_run, ovms.sms_guard) is loaded per SMS --------
def test_every_sms_unloads_the_handling_code():
    # a command, a denied stranger, a forwarded text, an empty SMS: each loads the code
    # once and leaves nothing loaded
    fw, _cfg, _ = make()
    fw.net.server_ok = True
    loads, real = _counting_loads()
    try:
        assert fw.handle(OWNER, "PARAMS?") == _PARAMS
        assert not _per_sms_loaded()
        assert fw.handle(STRANGER, "PARAMS?") == DENIED
        assert not _per_sms_loaded()
        assert fw.handle(STRANGER, "hello there") == []
        assert fw.outbox == ["MP-0 PASMS FROM: %s - MSG: hello there" % STRANGER]
        assert not _per_sms_loaded()
        assert fw.handle(OWNER, "  ") == []
        assert not _per_sms_loaded()
    finally:
        lazy.load = real
    assert loads == [_RUN, _CMDS, _RUN, _RUN, _RUN]


def test_guess_limits_survive_the_unloaded_code():
    # D37 is a security guarantee: the counters live on the interpreter (D124), not in
    # the unloaded module, so the third wrong password still blocks the sender
    fw, _cfg, _ = make()
    assert fw.guard is fw
    for _ in range(3):
        assert fw.handle(STRANGER, "PASS? wrongpw") == DENIED
        assert not _per_sms_loaded()
    assert fw.guard.wrong == 3
    assert fw.guard.guesses == 7
    assert fw.handle(STRANGER, "PASS? " + PW, now_s=1) == []  # blocked: not even the right one
    assert fw.guard.dropped == 1
    assert len(fw.guard.fails) == 1


def _no_run(err=None, half=False):
    return _FailingLoad(err or MemoryError(), half=half, target=_RUN)


def test_no_memory_for_the_handling_code_answers_only_the_owner():
    fw, cfg, hooks = make()
    fw.net.server_ok = True
    before = snapshot(cfg)
    cap = LogCapture("sms")
    try:
        with _no_run() as failing:
            assert fw.handle(OWNER, "PARAMS M") == [ERR_NOT_LOADED]
            assert fw.handle("+49 151 0000-0000", "anything") == [ERR_NOT_LOADED]  # D36 form
            assert fw.handle("", "MODULE?", trusted=True) == [ERR_NOT_LOADED]  # DIAG console
            # a stranger learns nothing, not even with the password; nothing forwarded
            assert fw.handle(STRANGER, "PASS? " + PW) == []
            assert fw.handle(STRANGER, "hello") == []
            assert fw.handle("NOPHONE", "REGISTER " + PW) == []
            assert fw.handle(OWNER, " \r\n") == []  # an empty SMS is still dropped
        assert failing.calls == 7
    finally:
        cap.release()
    assert snapshot(cfg) == before
    assert cfg.store.saves == 0
    assert hooks.calls == []
    assert fw.outbox == []
    assert (fw.guard.wrong, fw.guard.guesses, fw.guard.dropped, fw.guard.fails) == (0, 10, 0, {})
    assert fw.now_s == 0
    assert cap.levels() == ["error"] * 7
    assert "MemoryError" in cap.text()
    assert not _per_sms_loaded()
    assert fw.handle(OWNER, "PARAMS?") == _PARAMS  # memory back: works again


def test_no_memory_for_the_handling_code_honours_no_sms():
    # feature 14 bit 0x04: no SMS at all, also not this one
    fw, cfg, _ = make()
    cfg.set_feature(14, "4", save=False)
    with _no_run():
        assert fw.handle(OWNER, "PARAMS?") == []


def test_handling_code_import_error_and_half_done_import():
    fw, _cfg, _ = make()
    cap = LogCapture("sms")
    try:
        with _no_run(ImportError("no module named 'ovms.sms_run'")):
            assert fw.handle(OWNER, "HELP") == [ERR_NOT_LOADED]
        with _no_run(half=True):
            assert fw.handle(OWNER, "HELP") == [ERR_NOT_LOADED]
    finally:
        cap.release()
    assert "ImportError" in cap.text()
    assert not _per_sms_loaded()


def test_no_memory_for_the_handling_code_nor_the_log_line():
    fw, _cfg, _ = make()

    real, fw._log = fw._log, _NoRoomLog()
    try:
        with _no_run():
            assert fw.handle(OWNER, "PARAMS?") == [ERR_NOT_LOADED]
            assert fw.handle(STRANGER, "PARAMS?") == []
    finally:
        fw._log = real
    assert not _per_sms_loaded()


def test_is_command_loads_the_parser_and_unloads_it():
    from ovms import sms

    fw, _cfg, _ = make()
    assert sms.is_command("params?", fw.vehicle) is True
    assert sms.is_command("hello", fw.vehicle) is False
    assert sms.is_command("\r\n") is False
    assert not _per_sms_loaded()


def test_is_command_without_its_code_lets_handle_answer():
    # server command 7 / MQTT: "command not available now", not "Unknown command"
    from ovms import sms
    from ovms.mqtt import topics

    fw, cfg, _ = make()
    cap = LogCapture("sms")
    try:
        with _no_run():
            assert sms.is_command("hello", fw.vehicle) is True
            out = topics.run_command(fw, fw.vehicle, cfg.params[0], "hello", 5)
    finally:
        cap.release()
    assert out == ERR_NOT_LOADED
    assert not _per_sms_loaded()


def test_folded_copies_agree_with_their_homes():
    # ovms.sms folds a few numbers instead of importing them (a globals entry each)
    from ovms import config, sms, sms_guard

    fw, _cfg, _ = make()
    assert fw.guard.guesses == sms_guard.GLOBAL_GUESSES
    try:
        with open(ROOT + "/lib/ovms/sms.py") as f:
            src = f.read()
    except OSError:  # the emulated Cortex-M runs staged tests: no source tree beside them
        return  # (the source is the same file CPython and the unix port check)
    assert "_PARAM_REGPHONE = const(%d)" % config.PARAM_REGPHONE in src
    assert "_FEATURE_CARBITS = const(%d)" % config.FEATURE_CARBITS in src
    assert "_CARBITS_NO_SMS = const(0x%02x)" % config.CARBITS_NO_SMS in src
    assert "_GLOBAL_GUESSES = const(%d)" % sms_guard.GLOBAL_GUESSES in src
    assert sms.ERR_NOT_SAVED  # still re-exported (HELP_TEXT no more: ovms.sms_table's, D129)
    _unload_all()  # the test imported sms_guard
    assert not _per_sms_loaded()
