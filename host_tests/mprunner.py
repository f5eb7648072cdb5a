# Test runner for MicroPython (the unix port, and the emulated Cortex-M through
# tools/qemu.py): imports every host_tests/test_*.py (except *_cpython.py, which need
# CPython-only packages), calls each test_* function, prints failures and ends with
# "N passed, N failed".
# Licence: MIT (this project).
#
# usage: micropython host_tests/mprunner.py [module-or-file ...] [-k SUBSTRING]
# On a device: import mprunner; mprunner.main(["test_x"]) (returns the exit code).
import gc
import os
import sys

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."


def _modules(selected):
    if selected:
        names = []
        for s in selected:
            s = s.rsplit("/", 1)[-1]
            if s.endswith(".py"):
                s = s[:-3]
            names.append(s)
        return names
    names = [
        f[:-3]
        for f in os.listdir(HERE)
        if f.startswith("test_") and f.endswith(".py") and not f.endswith("_cpython.py")
    ]
    names.sort()
    return names


def main(argv):
    pattern = None
    selected = []
    i = 0
    while i < len(argv):
        if argv[i] == "-k":
            pattern = argv[i + 1]
            i += 2
            continue
        selected.append(argv[i])
        i += 1
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    passed = failed = 0
    for name in _modules(selected):
        try:
            mod = __import__(name)
        except Exception as e:  # an import error fails the whole module
            print("ERROR importing", name)
            sys.print_exception(e)
            failed += 1
            continue
        tests = [t for t in dir(mod) if t.startswith("test_")]
        tests.sort()
        for t in tests:
            fn = getattr(mod, t)
            if not callable(fn):
                continue
            if pattern and pattern not in name + "::" + t:
                continue
            try:
                fn()
                passed += 1
            except Exception as e:
                failed += 1
                print("FAIL", name + "::" + t)
                sys.print_exception(e)
            gc.collect()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
