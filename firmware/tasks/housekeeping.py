# housekeeping task: watchdog feed, adapter checks, gc at quiet moments, memory log.
# Licence: MIT (this project).
#
# Every feed_ms: feed the watchdog (any object with feed(): machine.WDT on a device,
# None on the host), then run the `checks` (e.g. the CAN adapter's check(): bus-off
# recovery and a wake-up kick). The loop starts half a period after the ticker, so
# gc.collect() (every gc_ms) runs between two ticks, when the tick's texts are garbage
# and no frame burst is being drained. Every mem_log_s: gc.mem_free() to the log.
# When healthy() turns False (an escaping task exception in production) the feed stops
# and the watchdog resets the board.

import gc

from ovms import log
from ovms.aio import sleep_ms, ticks_diff, ticks_ms


class Housekeeping:
    def __init__(
        self,
        wdt=None,
        feed_ms=1000,
        gc_ms=10_000,
        mem_log_s=300,
        checks=(),
        healthy=None,
        phase_ms=500,
    ):
        self.wdt = wdt
        self.feed_ms = feed_ms
        self.gc_ms = gc_ms
        self.mem_log_s = mem_log_s
        self.checks = checks
        self.healthy = healthy
        self.phase_ms = phase_ms
        self.feeds = 0
        self.collects = 0
        self.mem_free = -1  # last gc.mem_free() seen (-1: CPython has none)
        self._log = log.get("house")

    async def run(self):
        await sleep_ms(self.phase_ms)
        t_gc = t_mem = ticks_ms()
        while True:
            if self.healthy is None or self.healthy():
                if self.wdt is not None:
                    self.wdt.feed()
                self.feeds += 1
            for c in self.checks:
                c()
            now = ticks_ms()
            if ticks_diff(now, t_gc) >= self.gc_ms:
                t_gc = now
                self.collect()
            if ticks_diff(now, t_mem) >= self.mem_log_s * 1000:
                t_mem = now
                self._log.info("mem_free %d", self.mem_free)
            await sleep_ms(self.feed_ms)

    def collect(self):
        gc.collect()
        self.collects += 1
        if hasattr(gc, "mem_free"):
            self.mem_free = gc.mem_free()
