# The heap census of `make heap-report` (HEAP_CENSUS_AT=<simulated s>): every block of the
# MicroPython heap in the measured 32-bit run, by what it is and whom it belongs to.
# Licence: MIT (this project). Host tool: runs inside the 32-bit unix port (frozen into the
# unix32 image with tools/heap_device.py); device code never imports it.
#
# The garbage collector's allocation table (2 bits per 16-byte block: free, head, tail) is
# read through uctypes, each allocation's first word says its type: a builtin type (dict,
# list, str, bound method, ...), a Python class (then it is an instance of it) or nothing
# known (a raw allocation: dict tables, list items, buffers, qstr pools). The raw ones are
# put with their owner where the owner's layout names them (dict and instance tables,
# list items, array and str data); "raw (unattributed)" is the rest: the sys.modules
# table, the pools of names interned at run time (dotted module names), the unix port's
# argv. Needs the heap's address: tools/heap_report.py writes
# it into the file "census.addr" (pool start and pool bytes, from micropython.mem_info)
# when it sees the block map that the same probe prints first.
#
# Output: "CENSUS <bytes> <count> <what>" lines, largest first, and "CENSUS-END".

import gc
import sys

import uctypes

_BLOCK = 16


def _env(name):
    try:
        import os

        return os.getenv(name)
    except ImportError:
        return None


def _classes():
    # id -> "module.Class" of every class reachable from a module (and classes inside them)
    out = {}
    for mname, mod in list(sys.modules.items()):
        try:
            items = list(mod.__dict__.items())
        except AttributeError:
            continue
        for name, v in items:
            if type(v) is type and id(v) not in out:
                out[id(v)] = mname + "." + name
    return out


def _builtin_types():
    import array

    def f():
        pass

    def g():
        yield 1

    def outer():
        x = 1

        def inner():
            return x

        return inner

    class K:
        def m(self):
            pass

    samples = (
        ({}, "dict"),
        ([], "list"),
        ((1,), "tuple"),
        ("s", "str"),
        (b"b", "bytes"),
        (bytearray(1), "bytearray"),
        (memoryview(b"x"), "memoryview"),
        (array.array("b"), "array"),
        (1 << 40, "int (big)"),
        (1.5, "float"),
        (f, "function"),
        (g, "function"),  # generator and async functions: another type, same object
        (g(), "generator"),
        (outer(), "closure"),
        (K().m, "bound method"),
        (sys, "module"),
        (K, "type (class)"),
        (set(), "set"),
        (Exception(), "exception"),
        (property(f), "property"),
        (staticmethod(f), "staticmethod"),
        (classmethod(f), "classmethod"),
    )
    kinds = dict((id(type(o)), n) for o, n in samples)
    # a closure's cells (one per captured variable) have no Python-visible type: read it
    # from a closure's first cell ({base, fun, n_closed, closed[]})
    c = outer()
    cell = uctypes.bytearray_at(_word_at(id(c) & 0xFFFFFFFF, 12), 4)
    kinds[_id_of(cell[0] | cell[1] << 8 | cell[2] << 16 | cell[3] << 24)] = "closure cell"
    return kinds


def _obj_of(i):
    # the object whose id() is i (the census only asks for classes it found in modules)
    for mod in list(sys.modules.values()):
        for v in getattr(mod, "__dict__", {}).values():
            if id(v) == i:
                return v
    raise AttributeError


def _word_at(addr, off):
    b = uctypes.bytearray_at(addr + off, 4)
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


def _id_of(addr):
    # the value id() gives for an object at addr (32-bit): an address below 2**31 comes back
    # as a small int, i.e. wrapped to 31 bits; one above as the unsigned address
    if addr < 0x80000000:
        return ((addr + 0x40000000) & 0x7FFFFFFF) - 0x40000000
    return addr


def run(pool_start, pool_bytes, heap_bytes):
    heap_start = pool_start + pool_bytes - heap_bytes
    n_blocks = pool_bytes // _BLOCK
    pool_off = pool_start - heap_start
    mem = uctypes.bytearray_at(heap_start, heap_bytes)
    atb = bytearray((n_blocks + 3) // 4)  # the census's own: dropped from the count below
    mine = (id(mem), id(atb))
    gc.collect()
    for i in range(len(atb)):  # the snapshot, byte by byte: no allocation while it is taken
        atb[i] = mem[i]

    def word(off):
        return mem[off] | mem[off + 1] << 8 | mem[off + 2] << 16 | mem[off + 3] << 24

    def ptr_off(p):
        o = (p & 0xFFFFFFFF) - (pool_start & 0xFFFFFFFF)
        return o if 0 <= o < pool_bytes else -1

    heads = {}  # block offset in the pool -> blocks
    i = 0
    while i < n_blocks:
        if (atb[i >> 2] >> ((i & 3) << 1)) & 3 == 1:
            j = i + 1
            while j < n_blocks and (atb[j >> 2] >> ((j & 3) << 1)) & 3 == 2:
                j += 1
            heads[i * _BLOCK] = j - i
            i = j
        else:
            i += 1
    for obj in mine:  # the census's two objects and the snapshot's bytes
        o = ptr_off(obj)
        if o in heads:
            heads.pop(ptr_off(word(pool_off + o + 12)), None)
            heads.pop(o)
    classes = _classes()
    kinds = _builtin_types()
    mod_dicts = dict((id(m.__dict__), n) for n, m in sys.modules.items() if hasattr(m, "__dict__"))
    what = {}  # offset -> label
    owner = {}  # raw offset -> label
    per_module = {}  # module name -> [bytes of its skeleton, functions]
    skel = {}  # block offset -> module whose code skeleton it is
    cls_dicts = {}  # id of a class's dict -> module of the class
    for cid, cname in classes.items():
        try:
            cls_dicts[id(_obj_of(cid).__dict__)] = cname.rsplit(".", 1)[0]
        except AttributeError:
            pass
        skel[ptr_off(cid)] = cname.rsplit(".", 1)[0]

    for off in heads:
        t = word(pool_off + off)
        tt = _id_of(t)
        k = kinds.get(tt)
        if k is None and tt in classes:
            k = "instance " + classes[tt]
            tab = ptr_off(word(pool_off + off + 12))
            if tab in heads:
                owner[tab] = "attribute table of " + classes[tt]
        elif k == "dict":
            key = _id_of((pool_start + off) & 0xFFFFFFFF)
            k = "dict object"
            tab = ptr_off(word(pool_off + off + 12))
            m = mod_dicts.get(key) or cls_dicts.get(key)
            if m:
                skel[off] = m
                skel[tab] = m
            if tab in heads:
                if key in mod_dicts:
                    owner[tab] = "globals table of " + mod_dicts[key]
                else:
                    owner[tab] = "dict tables (classes, other dicts)"
        elif k == "function":  # {base, context: the module's, child table, bytecode}
            m = mod_dicts.get(_id_of(_word_at(word(pool_off + off + 4), 4)))
            if m:
                skel[off] = m
                e = per_module.setdefault(m, [0, 0])
                e[1] += 1
        elif k in ("list", "bytearray", "array", "memoryview", "str", "bytes"):
            data = ptr_off(word(pool_off + off + 12))
            if data in heads:
                owner[data] = k + " data"
        what[off] = k or "raw"
    sums = {}
    per_class = {}  # class -> [bytes of its instances and their tables, instances]
    for off, n in heads.items():
        k = what[off]
        if k == "raw":
            k = owner.get(off, "raw (unattributed)")
        if k.startswith(("instance ", "attribute table of ")):
            c = per_class.get(k.split(" ")[-1])
            if c is None:
                c = per_class[k.split(" ")[-1]] = [0, 0]
            c[0] += n * _BLOCK
            c[1] += k.startswith("instance ")
            k = "instance objects" if k.startswith("instance ") else "attribute tables"
        m = skel.get(off)
        if m:
            per_module.setdefault(m, [0, 0])[0] += n * _BLOCK
        s = sums.get(k)
        if s is None:
            s = sums[k] = [0, 0]
        s[0] += n * _BLOCK
        s[1] += 1
    b = c = 0  # the modules' globals tables: one line for all
    for k in [k for k in sums if k.startswith("globals table of ")]:
        b += sums[k][0]
        c += sums.pop(k)[1]
    sums["globals tables of the modules"] = [b, c]
    total = 0
    for k, (b, c) in sorted(sums.items(), key=lambda kv: -kv[1][0]):
        total += b
        print("CENSUS %d %d %s" % (b, c, k))
    print("CENSUS %d %d %s" % (total, len(heads), "TOTAL"))
    big = int(_env("HEAP_CENSUS_BIG") or 0)  # every block of at least that many bytes
    if big:
        for off, n in sorted(heads.items(), key=lambda kv: -kv[1]):
            if n * _BLOCK < big:
                break
            k = what[off]
            print("CENSUS-BLOCK %d %s %s" % (n * _BLOCK, owner.get(off, k), skel.get(off, "")))
    for k, (b, c) in sorted(per_class.items(), key=lambda kv: -kv[1][0])[:30]:
        print("CENSUS-CLASS %d %d %s" % (b, c, k))
    for k, (b, c) in sorted(per_module.items(), key=lambda kv: -kv[1][0]):
        print("CENSUS-MODULE %d %d %s" % (b, c, k))
    # coroutines by their function: {base, pend_exc, code_state {fun_bc, ...}}
    funs = {}  # id of the coroutine's function -> [bytes, count]
    for off, n in heads.items():
        if what[off] == "generator":
            g = funs.setdefault(_id_of(word(pool_off + off + 8)), [0, 0])
            g[0] += n * _BLOCK
            g[1] += 1
    names = _function_names(funs)
    gens = {}
    for fid, (b, c) in funs.items():
        g = gens.setdefault(names.get(fid, "?"), [0, 0])
        g[0] += b
        g[1] += c
    for k, (b, c) in sorted(gens.items(), key=lambda kv: -kv[1][0]):
        print("CENSUS-GEN %d %d %s" % (b, c, k))
    if hasattr(gc, "called"):  # the diagnostic build (make heap-peaks): code never run
        _cold()
    print("CENSUS-END")


def _function_names(wanted):
    # id -> "module.Class.method" / "module.function" of the functions in `wanted`
    # reachable from a module (a coroutine's code state points at its function)
    out = {}
    for mname, mod in list(sys.modules.items()):
        d = getattr(mod, "__dict__", None)
        if d is None:
            continue
        for name, v in list(d.items()):
            if type(v) is type:
                for mn, m in list(v.__dict__.items()):
                    if id(m) in wanted:
                        out.setdefault(id(m), mname + "." + name + "." + mn)
            elif id(v) in wanted:
                out.setdefault(id(v), mname + "." + name)
    return out


def _cold():
    # per module: its functions and methods that have not run since the harness reset the
    # diagnostic build's record (all parts made): "CENSUS-COLD <cold> <all> <module>
    # <names>" — candidates for loading per use
    for mname, mod in sorted(sys.modules.items()):
        d = getattr(mod, "__dict__", None)
        if d is None:
            continue
        funcs = []
        for name, v in list(d.items()):
            if type(v) is type and getattr(v, "__module__", None) == mname:
                for mn, m in list(v.__dict__.items()):
                    if type(m) in (staticmethod, classmethod):
                        continue
                    if callable(m) and getattr(m, "__globals__", None) is d:
                        funcs.append((name + "." + mn, m))
            elif callable(v) and getattr(v, "__globals__", None) is d:
                funcs.append((name, v))
        cold = [n for n, f in funcs if not gc.called(f)]
        if funcs:
            print("CENSUS-COLD %d %d %s %s" % (len(cold), len(funcs), mname, " ".join(cold)))
