# The resident modules' globals tables and the big attribute tables stay within the size
# step they are in now (D129, D130). A module's globals (and an object's attributes) are a
# hash table of 8-byte slots (32-bit) that grows, when full, to the next size of
# MicroPython's py/map.c (..., 10, 12, 17, 23, 29, 37, 47, 59, 73, 97) and never shrinks:
# one name over a budget below costs the next step (ovms.at: 48 names take 59 slots, 480
# bytes, 47 names 47 slots, 384 bytes). tools/globals_report.py lists every module.
# Names are counted on MicroPython only (CPython keeps the const() names that
# MicroPython's compiler folds away); the attributes on every runtime.
# Licence: MIT (this project).
import sys

from ovms.net import NetStatus
from ovms.twizy.state import State

_MICROPYTHON = sys.implementation.name == "micropython"

# module -> the most names its globals may have (the size step it is in; all of these
# stay imported while the firmware runs)
BUDGET = {
    "ovms.twizy.state": 47,  # the Twizy core's constants (state.NAME)
    "ovms.at": 47,
    "ovms.config": 47,
    "ovms.twizy.frames": 23,
    "ovms.twizy.battery": 23,
    "ovms.nmea": 23,
    "ovms.datause": 23,
    "ovms.units": 17,
    "ovms.twizy.vehicle": 17,
    "ovms.twizy.texts": 17,
    "ovms.twizy.notify": 17,
    "ovms.twizy.charge": 17,
    "ovms.twizy.records": 12,
    "ovms.twizy.power": 12,
    "ovms.sms": 12,
    "ovms.car": 12,
    "ovms.twizy.cadence": 10,
    "ovms.smsout": 10,
    "ovms.sms_table": 10,
    "ovms.log": 10,
    "ovms.gps": 6,
    "ovms.sent": 6,
    "ovms.lazy": 6,
    "ovms.sms_auth": 6,
    "ovms.net": 4,
    "ovms.compat": 4,
    "firmware.tasks.uplink": 10,
    "firmware.tasks.dataplan": 8,
    "firmware.tasks.console": 8,
    "firmware.tasks.link": 6,
    "firmware.tasks.housekeeping": 6,
    "firmware.tasks.ticker": 4,
    "firmware.tasks.can_rx": 4,
    "firmware.tasks.gps": 4,
}


def _module(name):
    __import__(name)
    return sys.modules[name]


def _slots(mod):
    # the slots the globals table has now (mp_obj_dict_t: type, then the map's word of
    # used count and flags, then alloc); None where uctypes is missing
    try:
        import uctypes
    except ImportError:
        return None
    word = 8 if sys.maxsize > 1 << 32 else 4
    return int.from_bytes(uctypes.bytearray_at(id(mod.__dict__) + 2 * word, word), "little")


def test_resident_modules_keep_their_globals_step():
    if not _MICROPYTHON:
        return  # CPython: const() names stay (no folding), the counts mean nothing
    over = []
    for name in BUDGET:
        mod = _module(name)
        n = len(mod.__dict__)
        s = _slots(mod)
        if n > BUDGET[name] or (s is not None and s > BUDGET[name]):
            over.append((name, n, s, BUDGET[name]))
    assert not over, over  # (module, names, slots, budget)


def test_const_needs_no_import():
    # D129: MicroPython's compiler folds const() by its name; no module binds it
    if not _MICROPYTHON:
        return
    for name in BUDGET:
        if name != "ovms.compat":
            assert "const" not in _module(name).__dict__, name


def test_the_state_keeps_73_attributes_at_most():
    # D130: 74..97 attributes take 97 slots (784 bytes), 73 take 73 (592 bytes)
    assert len(State().__dict__) <= 73
    assert len(State(exact=False).__dict__) <= 73


def test_the_network_status_keeps_17_attributes_at_most():
    # D130: 18 attributes took 23 slots (192 bytes); the never-tracked ones are the class's
    net = NetStatus()
    assert len(net.__dict__) <= 17
    assert net.red_led == net.grn_led == net.send_pending == 0
