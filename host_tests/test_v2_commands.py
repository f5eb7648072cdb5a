# D99: the v2 server-command code (ovms/v2/commands.py) and the Twizy's own server
# commands (ovms/twizy/server_cmds.py) are imported while a command runs and unloaded
# after it (ovms/lazy.py); a command whose code cannot be loaded still gets its one c
# (D43). Both runtimes. Licence: MIT (this project).
import gc
import sys

from support import MICROPYTHON, run_async
from test_v2_server import _handler

import ovms.twizy
import ovms.twizy.vehicle as vehicle_mod
import ovms.v2
import ovms.v2.handler as handler_mod
from ovms import lazy, log

_COMMANDS = "ovms.v2.commands"
_SERVER_CMDS = "ovms.twizy.server_cmds"


def _loaded(name):
    # in sys.modules or still an attribute of its package: either keeps it in the heap
    i = name.rfind(".")
    return name in sys.modules or hasattr(sys.modules[name[:i]], name[i + 1 :])


def _none_loaded():
    return not _loaded(_COMMANDS) and not _loaded(_SERVER_CMDS)


def test_lazy_load_returns_the_module_and_unload_forgets_it():
    m = lazy.load(_COMMANDS)
    assert m is sys.modules[_COMMANDS] and m is ovms.v2.commands and callable(m.run)
    lazy.unload(_COMMANDS)
    assert not _loaded(_COMMANDS)
    lazy.unload(_COMMANDS)  # twice, or never loaded: nothing to do
    assert lazy.load(_COMMANDS) is not m  # a fresh import, not a cached one
    lazy.unload(_COMMANDS)
    assert not _loaded(_COMMANDS)


def test_every_command_unloads_its_code_and_the_next_one_works_again():
    h = _handler()
    c1 = h.handle("MP-0 C1")
    assert len(c1) == 16 and _none_loaded()
    for _ in range(2):
        assert h.handle("MP-0 C1") == c1 and _none_loaded()
        out = h.handle("MP-0 C3")
        assert len(out) == 32 and out[0] == "MP-0 c3,0,0,32,+4917012345" and _none_loaded()
        assert h.handle("MP-0 C203") == ["MP-0 c203,0,0,0,0,0,124"] and _none_loaded()
        assert h.handle("MP-0 C4,5,internet") == ["MP-0 c4,0"] and _none_loaded()
        assert h.handle("MP-0 C7,VERSION")[0].startswith("MP-0 c7,0,") and _none_loaded()
        assert h.handle("MP-0 C30") == ["MP-0 c30,3"] and _none_loaded()
        assert h.handle("MP-0 Cabc") == ["MP-0 c0,1,Invalid syntax"] and _none_loaded()
    assert h.errors == 0


def test_a_failing_command_unloads_too():
    h = _handler()

    def boom(*a):
        raise ZeroDivisionError("bug")

    h.vehicle.server_command = boom
    assert h.handle("MP-0 C203") == ["MP-0 c203,1,Internal error"] and _none_loaded()
    assert h.errors == 1


def test_deferred_answer_works_after_the_module_is_gone():
    async def ussd(code):
        return "A,B"

    h = _handler(send_ussd=ussd)
    d = h.handle("MP-0 C41,*100#")
    assert isinstance(d, handler_mod.Deferred) and _none_loaded()
    gc.collect()
    assert d.done(run_async(d.aw)) == ["MP-0 c41,0,A.B"]
    assert d.fail(OSError("timeout")) == ["MP-0 c41,1,timeout"]


class _Boom:
    # stands in for the ovms.lazy a module uses: every load fails with exc
    def __init__(self, exc):
        self.exc = exc
        self.names = []

    def load(self, name):
        self.names.append(name)
        raise self.exc

    def unload(self, name):
        lazy.unload(name)


def test_command_code_that_cannot_be_loaded_is_answered_internal_error_d99():
    # a fragmented heap (MemoryError) or a missing module (ImportError) at import time:
    # the command gets its one c, counted and logged, never an exception out of handle()
    h = _handler()
    try:
        for n, exc in enumerate((MemoryError(), ImportError("no module named x"))):
            boom = _Boom(exc)
            handler_mod.lazy = boom
            assert h.handle("MP-0 C3") == ["MP-0 c3,1,Internal error"]
            assert boom.names == [_COMMANDS] and h.errors == n + 1
            assert h.outgoing(["MP-0 c3,1,Internal error"]) == ["MP-0 c3,1,Internal error"]
            assert h.handle("MP-0 C1xyz") == ["MP-0 c0,1,Invalid syntax"]  # never loaded
            assert boom.names == [_COMMANDS]
    finally:
        handler_mod.lazy = lazy
    assert len(h.handle("MP-0 C1")) == 16 and h.errors == 2  # and then it loads again


def test_vehicle_commands_that_cannot_be_loaded_are_answered_internal_error_d99():
    h = _handler()
    try:
        vehicle_mod.lazy = _Boom(MemoryError())
        assert h.handle("MP-0 C203") == ["MP-0 c203,1,Internal error"] and h.errors == 1
        assert h.handle("MP-0 C1") == ["MP-0 c1,1,Internal error"] and h.errors == 2
    finally:
        vehicle_mod.lazy = lazy
    assert _none_loaded()
    assert h.handle("MP-0 C201") == ["MP-0 c201,0,0"] and h.errors == 2


class _LogOutOfHeap:
    # ovms.log with every logger out of heap; lossy() is the real one (D96)
    lossy = staticmethod(log.lossy)

    def get(self, tag):
        return self

    def error(self, *a):
        raise MemoryError  # logging allocates too (D96)


def test_the_reply_does_not_depend_on_the_log_line():
    h = _handler()
    real_log = handler_mod.log
    try:
        handler_mod.lazy = _Boom(MemoryError())
        handler_mod.log = _LogOutOfHeap()
        assert h.handle("MP-0 C5") == ["MP-0 c5,1,Internal error"] and h.errors == 1
    finally:
        handler_mod.lazy, handler_mod.log = lazy, real_log
    assert not h.reboot_pending


def _reimport(names, check):
    # import `names` afresh (popped from sys.modules first), call check(), then put the
    # original modules back (other tests hold their classes: Handler, Deferred, Twizy)
    saved = {}
    for n in names:
        if n in sys.modules:
            saved[n] = sys.modules.pop(n)
    try:
        for n in names:
            __import__(n)
        check()
    finally:
        for n in names:
            lazy.unload(n)
        for n in names:
            if n in saved:
                sys.modules[n] = saved[n]
                i = n.rfind(".")
                setattr(sys.modules[n[:i]], n[i + 1 :], saved[n])


def test_importing_the_handler_uplink_or_vehicle_does_not_load_command_code():
    assert _none_loaded()
    names = ("ovms.twizy.vehicle", "ovms.v2.handler", "firmware.tasks.uplink")

    def check():
        assert _none_loaded()
        assert sys.modules["firmware.tasks.uplink"].v2 is ovms.v2.handler

    _reimport(names, check)
    assert sys.modules["ovms.v2.handler"] is handler_mod and ovms.v2.handler is handler_mod
    assert ovms.twizy.vehicle is vehicle_mod and _none_loaded()


def test_unloaded_command_code_gives_its_heap_back():
    h = _handler()
    h.handle("MP-0 C203")  # warm-up: first-time interning, the logger, caches
    if not MICROPYTHON:  # CPython: the module object dies once the command is answered
        import weakref

        class Spy:
            refs = []

            def load(self, name):
                m = lazy.load(name)
                self.refs.append(weakref.ref(m))
                return m

            def unload(self, name):
                lazy.unload(name)

        spy = Spy()
        handler_mod.lazy = vehicle_mod.lazy = spy
        try:
            h.handle("MP-0 C203")
        finally:
            handler_mod.lazy = vehicle_mod.lazy = lazy
        gc.collect()
        assert len(spy.refs) == 2 and spy.refs[0]() is None and spy.refs[1]() is None
        return
    gc.collect()
    a = gc.mem_alloc()
    lazy.load(_COMMANDS)
    lazy.load(_SERVER_CMDS)
    gc.collect()
    cost = gc.mem_alloc() - a  # both modules held
    lazy.unload(_COMMANDS)
    lazy.unload(_SERVER_CMDS)
    gc.collect()
    a = gc.mem_alloc()
    for _ in range(3):
        h.handle("MP-0 C203")
    gc.collect()
    grown = gc.mem_alloc() - a
    assert cost > 256 and grown < cost // 4, (cost, grown)
