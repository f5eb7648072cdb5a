# The firmware's log: one logger per subsystem tag ("can", "batt", "modem", "sms",
# "store", ...), each with info / warning / error / debug(msg, *args) (%-formatting).
# Licence: MIT (this project).
#
# CPython (host tools, tests): the standard `logging` module, logging.getLogger(tag).
#
# D115: on MicroPython the firmware does not import logging (micropython-lib's, vendored
# in lib/logging and frozen for your own scripts): it cost ≈ 2 KB of a board's heap (its
# module, a Logger and attribute table per tag, a handler and a formatter) to print the
# message alone on stderr, which is what a `_Tag` here does: the same lines, INFO and
# above (logging's default level; `log.LEVEL[0] = 10` shows debug lines), no record
# objects, no clock. D27's stand-in clock for logging on a port without time() is gone
# with it: nothing here reads a clock.
# D112 (one handler list shared by every tag) ended with the move: there is no handler.

import sys

_MICROPYTHON = sys.implementation.name == "micropython"

if _MICROPYTHON:
    LEVEL = [20]  # the least level written: INFO (DEBUG 10, WARNING 30, ERROR 40)
    _made = {}  # tag -> its _Tag (tests replace a tag's methods on that one object)

    class _Tag:
        def __init__(self, name):
            self.name = name

        def debug(self, msg, *args):
            _write(10, msg, args)

        def info(self, msg, *args):
            _write(20, msg, args)

        def warning(self, msg, *args):
            _write(30, msg, args)

        def error(self, msg, *args):
            _write(40, msg, args)

    def _write(level, msg, args):
        if level >= LEVEL[0]:
            sys.stderr.write((msg % args if args else msg) + "\n")

    def get(tag):
        lg = _made.get(tag)
        if lg is None:
            lg = _made[tag] = _Tag(tag)
        return lg

else:
    import logging

    def get(tag):
        return logging.getLogger(tag)


def lossy(write, fmt, *args):
    # one log line that may be lost: logging allocates, so after a MemoryError it can
    # fail too (D96); the caller's reply matters more than the line. -> True if written
    try:
        write(fmt, *args)
        return True
    except MemoryError:
        return False
