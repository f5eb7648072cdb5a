# Logging through `logging` in both runtimes: CPython's standard module, or the
# vendored micropython-lib one (lib/logging) on MicroPython.
# Licence: MIT (this project).
#
# One logger per subsystem tag ("can", "batt", "modem", "sms", "store", ...).
# micropython-logging 0.5.2 named loggers print nothing without a handler of
# their own, so get() attaches one stderr handler per logger on MicroPython.

import logging
import sys

_MICROPYTHON = sys.implementation.name == "micropython"
_made = {}


def get(tag):
    lg = _made.get(tag)
    if lg is None:
        lg = logging.getLogger(tag)
        if _MICROPYTHON:  # micropython-logging 0.5.2: no propagation to root
            lg.addHandler(logging.StreamHandler())
        _made[tag] = lg
    return lg
