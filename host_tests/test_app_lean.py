# The app keeps only what runs after the boot (D111): firmware/wiring.py and
# firmware/parts.py are dropped once every part is made, and nothing made at boot keeps
# one of their functions (CPython: checked with weak references). Both runtimes.
# Licence: MIT (this project).
import gc
import sys

from support import rmtree, run_async, tmpdir

from firmware import app as app_mod
from tools import sim

_BOOT = ("firmware.wiring", "firmware.parts")


def _loaded(name):
    dot = name.rfind(".")
    parent = sys.modules.get(name[:dot])
    return name in sys.modules or (parent is not None and hasattr(parent, name[dot + 1 :]))


def _boot_refs():
    # CPython: weak references to one function of each boot module; a function lives as
    # long as its module's globals do, and those as long as any function of the module
    try:
        import weakref
    except ImportError:  # MicroPython
        return ()
    import firmware.parts
    import firmware.wiring

    return (weakref.ref(firmware.wiring.normal), weakref.ref(firmware.parts.settings))


def _run(board, seen, refs):
    def before_start(a):
        # every part made, nothing started yet: the boot's modules are gone
        gc.collect()
        seen.append([_loaded(n) for n in _BOOT] + [r() is not None for r in refs])

    a = app_mod.App(board)
    a.before_start = before_start
    sim.OUT = lambda t: None
    try:
        run_async(a.run(0.5))
    finally:
        sim.OUT = print
    return a


def test_boot_code_is_dropped_after_the_boot():
    d = tmpdir("applean")
    try:
        board = sim.host_board(
            10, CFG_PATH=d + "/ovms.cfg", BOOT_LOG_PATH=d + "/boot.json", SIM_SMS=()
        )
        seen = []
        refs = _boot_refs()
        a = _run(board, seen, refs)
        assert seen == [[False] * (len(_BOOT) + len(refs))], seen
        # and the firmware ran on without them
        assert a.summary()["ticks"] > 0 and a.crashes == 0 and a.sup.failure is None
        assert not _loaded("firmware.wiring") and not _loaded("firmware.parts")
    finally:
        rmtree(d)


def test_safe_mode_drops_the_boot_code_too():
    d = tmpdir("appleansafe")
    try:
        board = sim.host_board(
            10, CFG_PATH=d + "/ovms.cfg", BOOT_LOG_PATH=d + "/boot.json", SIM_SMS=()
        )
        a = app_mod.App(board)
        sim.OUT = lambda t: None
        try:
            run_async(a.run_safe(0.1))
        finally:
            sim.OUT = print
        assert a.cfg is not None and a.fw is not None
        assert not _loaded("firmware.wiring") and not _loaded("firmware.parts")
    finally:
        rmtree(d)
