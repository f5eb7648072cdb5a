# tools — host programs (replay, console, bench, emulators). Licence: MIT (this project).
# Make lib/ importable when run as `python3 -m tools.<name>` from the repo root;
# appended after the standard library so CPython keeps its own `logging`.
import sys

if sys.implementation.name != "micropython":
    import os

    _lib = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
    if _lib not in sys.path:
        sys.path.append(_lib)
