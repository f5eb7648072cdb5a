# Progress watch: the watchdog is fed only while every part of the module makes progress.
# Licence: MIT (this project).
#
#   p = Progress(clock=ticks_ms)
#   p.watch("ticker", counter=lambda: ticker.ticks, window_ms=5000)
#   p.watch("can", counter=lambda: can.frames, ok=car_quiet, window_ms=10_000)
#   p.check() -> bool      once per feed period (housekeeping): True = feed the watchdog
#
# A part is stalled when, for window_ms on end, its counter did not move AND its ok()
# (an excuse: "the car is off, a quiet bus is right") was False. counter None: only ok()
# counts (stalled after window_ms of not ok()). ok None: only the counter counts.
# .stalled names the first stalled part ("" when all progress), .stalls counts checks
# that found one. A watch that raises counts as stalled (a broken part is no progress).
# Allocation: none per check (small ints, a list walked in place).

from ovms import log
from ovms.aio import ticks_add, ticks_diff, ticks_ms


class _Part:
    def __init__(self, name, counter, ok, window_ms, now):
        self.name = name
        self.counter = counter
        self.ok = ok
        self.window_ms = window_ms
        self.value = None
        self.t_good = now  # ticks of the last moment it was seen progressing


class Progress:
    def __init__(self, clock=ticks_ms):
        self.clock = clock
        self.parts = []
        self.stalled = ""
        self.stalls = 0
        self._log = log.get("progress")

    def watch(self, name, counter=None, ok=None, window_ms=10_000):
        self.parts.append(_Part(name, counter, ok, window_ms, self.clock()))

    def rested(self):
        # the MCU slept (firmware/power.py): time asleep is no stall; every window
        # starts again now
        now = self.clock()
        for p in self.parts:
            p.t_good = now

    def check(self):
        now = self.clock()
        first = ""
        for p in self.parts:
            try:
                good = p.ok is not None and p.ok()
                if p.counter is not None:
                    v = p.counter()
                    if v != p.value:
                        p.value = v
                        good = True
            except Exception as e:  # a broken part makes no progress
                self._log.error("progress check %s: %r", p.name, e)
                good = False
                p.t_good = ticks_add(now, -p.window_ms - 1)
            if good:
                p.t_good = now
            elif ticks_diff(now, p.t_good) > p.window_ms and not first:
                first = p.name
        if first:
            if first != self.stalled:
                self._log.error("no progress: %s (watchdog no longer fed)", first)
            self.stalls += 1
        self.stalled = first
        return not first


def car_quiet(st):
    # -> f(): True while the car is neither switched on nor charging (0x597 status:
    # 0x10 switched on, 0x60 == 0x20 charging): then a silent bus is expected
    def quiet():
        s = st.status
        return not (s & 0x10) and (s & 0x60) != 0x20

    return quiet
