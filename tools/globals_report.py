# The modules' globals tables on MicroPython (D129): per module, how many names it binds,
# how many 8-byte slots its table has (32-bit) and how many names less would take it one
# size step down ("less for a step"). Licence: MIT (this project).
# Host tool: run it in a MicroPython, the firmware frozen in (`make unix32`) or from lib/:
#
#   mp32 tools/globals_report.py [module ...]
#   MICROPYPATH=.frozen:lib:. micropython tools/globals_report.py [module ...]
#
# Without modules: every module under lib/ovms and firmware (a module that does not import
# on this port is named and skipped). host_tests/test_globals_budget.py keeps the resident
# ones within their step.
#
# A module's globals are a hash table that grows, when full, to the next size of
# py/map.c hash_allocation_sizes and never shrinks: 48 names take 59 slots (480 bytes on a
# 32-bit port), 47 names 47 slots (384 bytes). The slots are read from the dict itself
# (its mp_map_t: alloc is the word after used) where uctypes exists, else estimated from
# the number of names. Under CPython the numbers mean nothing (no const folding).

import sys

try:
    import uctypes
except ImportError:  # CPython
    uctypes = None

# py/map.c hash_allocation_sizes up to 389 slots
SIZES = (0, 2, 4, 6, 8, 10, 12, 17, 23, 29, 37, 47, 59, 73, 97, 127, 167, 223, 293, 389)
_WORD = 8 if sys.maxsize > 1 << 32 else 4


def slots_for(names):
    # the table a module dict grows to while `names` names are added one by one
    # (MICROPY_MODULE_DICT_SIZE = 1; a full table grows to the next size)
    if names <= 1:
        return 1
    for s in SIZES:
        if s >= names:
            return s
    return names


def table_slots(mod):
    # the allocated slots of the module's globals table (mp_obj_dict_t: base, then the
    # map: {used and flags, alloc, table})
    d = mod.__dict__
    if uctypes is None:
        return slots_for(len(d))
    raw = uctypes.bytearray_at(id(d) + 2 * _WORD, _WORD)
    return int.from_bytes(raw, "little")


def table_bytes(slots):
    # on a 32-bit port: 8 bytes a slot, in 16-byte GC blocks
    return (slots * 8 + 15) // 16 * 16


def step_below(slots):
    # the next smaller size (a module with at most that many names has that table)
    below = 1
    for s in SIZES:
        if s >= slots:
            break
        below = s
    return below


def rows(names):
    out = []
    for name in names:
        mod = sys.modules.get(name)
        if mod is None or not hasattr(mod, "__dict__"):
            continue
        n = len(mod.__dict__)
        s = table_slots(mod)
        out.append((table_bytes(s), name, n, s, n - step_below(s)))
    out.sort()
    out.reverse()
    return out


def _tree():
    import os

    found = []

    def walk(folder, dotted):
        for f in sorted(os.listdir(folder)):
            path = folder + "/" + f
            if f.endswith(".py") and f != "manifest.py":
                found.append(dotted if f == "__init__.py" else dotted + "." + f[:-3])
            elif "." not in f and f != "boards" and os.stat(path)[0] & 0x4000:
                walk(path, dotted + "." + f)

    walk("lib/ovms", "ovms")
    walk("firmware", "firmware")
    return found


def main(argv):
    names = argv or _tree()
    for n in names:
        try:
            __import__(n)
        except Exception as e:  # a host-only module on a board image, a missing driver
            print("# %s not imported: %r" % (n, e))
    total = 0
    print("%-34s %5s %5s %6s %s" % ("module", "names", "slots", "bytes", "less for a step"))
    for b, name, n, s, over in rows(names):
        total += b
        print("%-34s %5d %5d %6d %d" % (name, n, s, b, over))
    print("total %d bytes in %d tables" % (total, len(names)))


if __name__ == "__main__":
    main(sys.argv[1:])
