# pytest configuration: put lib/ and host_tests/ on sys.path *after* the standard
# library, so CPython keeps its own `logging` while our packages import as on the
# device (lib/ is /lib there).
import os
import sys

_ROOT = os.path.dirname(os.path.abspath(__file__))
for _d in ("lib", "host_tests", ""):
    _p = os.path.join(_ROOT, _d) if _d else _ROOT
    if _p not in sys.path:
        sys.path.append(_p)
