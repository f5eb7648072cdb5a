# Logging through `logging` in both runtimes: CPython's standard module, or the
# vendored micropython-lib one (lib/logging) on MicroPython.
# Licence: MIT (this project).
#
# One logger per subsystem tag ("can", "batt", "modem", "sms", "store", ...).
# micropython-logging 0.5.2 named loggers print nothing without a handler of
# their own, so get() gives each the one shared stderr handler on MicroPython (D112).
#
# D27: a port without a wall clock (the emulated Cortex-M of ports/qemu has no
# time.time()/localtime(), a board before its RTC is set has them) must still log:
# logging 0.5.2 stamps every record with utime.time() and binds utime.localtime at
# import. Where those are missing, `utime` is replaced in sys.modules, before logging
# is imported, by a stand-in that forwards everything and adds time() = seconds since
# boot (from ticks_ms) and localtime() = the UTC calendar of that count. The vendored
# files stay byte-identical to micropython-lib.

import sys

_MICROPYTHON = sys.implementation.name == "micropython"


def _clockless_utime():
    import utime

    if hasattr(utime, "time") and hasattr(utime, "localtime"):
        return None

    class Utime:
        def __getattr__(self, name):
            return getattr(utime, name)

        def time(self):
            return utime.ticks_ms() // 1000

        def localtime(self, secs=None):
            return civil(self.time() if secs is None else int(secs))

    return Utime()


def civil(secs):
    # seconds since 2000-01-01 (MicroPython's epoch) -> (Y, M, D, h, m, s, weekday, yearday)
    days, s = divmod(secs, 86400)
    wd = (days + 5) % 7  # 2000-01-01 was a Saturday (Monday = 0)
    y = 2000
    while True:
        n = 366 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 365
        if days < n:
            break
        days -= n
        y += 1
    yd = days + 1
    feb = 29 if n == 366 else 28
    m = 1
    for ml in (31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31):
        if days < ml:
            break
        days -= ml
        m += 1
    return (y, m, days + 1, s // 3600, s // 60 % 60, s % 60, wd, yd)


if _MICROPYTHON and "logging" not in sys.modules:
    _u = _clockless_utime()
    if _u is not None:
        sys.modules["utime"] = _u

import logging  # noqa: E402

_shared = []  # D112: the one handler list of every tagged logger (MicroPython)


def get(tag):
    # the logger of one subsystem tag (logging keeps one per name). D112: on MicroPython
    # every tagged logger shares ONE handler list holding one stderr handler: a list of
    # its own per logger cost 32 bytes of heap per tag, a second name -> logger table of
    # our own ≈ 150 more; the records keep their tag (Logger.name), the lines their format
    lg = logging.getLogger(tag)
    if _MICROPYTHON and lg.handlers is None:  # micropython-logging 0.5.2: no propagation
        if not _shared:  # to root, a named logger prints nothing without a handler
            _shared.append(logging.StreamHandler())
        lg.handlers = _shared
    return lg


def lossy(write, fmt, *args):
    # one log line that may be lost: logging allocates, so after a MemoryError it can
    # fail too (D96); the caller's reply matters more than the line. -> True if written
    try:
        write(fmt, *args)
        return True
    except MemoryError:
        return False
