# housekeeping task: watchdog feed on progress, adapter checks, gc at quiet moments, memory
# log, the boot log's "stable" mark. Licence: MIT (this project).
#
# Every feed_ms: ask progress() (firmware/progress.Progress.check: the ticker advanced,
# CAN frames arrived or the car is off, the modem is not stuck OFF, the uplink is
# connected or in back-off) and feed the watchdog (machine.WDT on a device, None on the
# host) only when it says True; then run the `checks` (e.g. the CAN adapter's check():
# bus-off recovery and a wake-up kick). A hung or dead part therefore resets the board
# within its progress window plus the WDT period. .feeds counts feeds, .starved the
# periods without one.
# The loop starts half a period after the ticker, so gc.collect() (every gc_ms) runs
# between two ticks, when the tick's texts are garbage and no frame burst is being
# drained. Every mem_log_s: gc.mem_free() to the log. After stable_ms of uptime
# on_stable() runs once (the boot log ends a crash streak).
# clock: ticks_ms()/sleep_ms() provider (firmware/simclock.VirtualClock on the host);
# None = the asyncio clock.

#
# D129: the clock functions are read as aio.ticks_ms etc.: 6 names in this resident
# module's globals, 6 slots (was 8: 64 -> 48 bytes).

import gc

from ovms import aio, log


class Housekeeping:
    def __init__(
        self,
        wdt=None,
        feed_ms=1000,
        gc_ms=10_000,
        mem_log_s=300,
        checks=(),
        progress=None,
        phase_ms=500,
        stable_ms=0,
        on_stable=None,
        clock=None,
    ):
        self.wdt = wdt
        self.feed_ms = feed_ms
        self.gc_ms = gc_ms
        self.mem_log_s = mem_log_s
        self.checks = checks
        self.progress = progress
        self.phase_ms = phase_ms
        self.stable_ms = stable_ms
        self.on_stable = on_stable
        self.clock = clock
        self.feeds = 0
        self.starved = 0  # feed periods without progress (no feed)
        self.collects = 0
        self.mem_free = -1  # last gc.mem_free() seen (-1: CPython has none)
        self._log = log.get("house")
        self._t_start = None

    async def run(self):
        c = self.clock
        now = aio.ticks_ms if c is None else c.ticks_ms
        sleep = aio.sleep_ms if c is None else c.sleep_ms
        await sleep(self.phase_ms)
        t_gc = t_mem = now()
        if self._t_start is None:  # kept over restarts: uptime of the firmware
            self._t_start = t_gc
        while True:
            if self.progress is None or self.progress():
                if self.wdt is not None:
                    self.wdt.feed()
                self.feeds += 1
            else:
                self.starved += 1
            for chk in self.checks:
                chk()
            t = now()
            if aio.ticks_diff(t, t_gc) >= self.gc_ms:
                t_gc = t
                self.collect()
            if aio.ticks_diff(t, t_mem) >= self.mem_log_s * 1000:
                t_mem = t
                self._log.info("mem_free %d", self.mem_free)
            if self.on_stable is not None and aio.ticks_diff(t, self._t_start) >= self.stable_ms:
                f = self.on_stable
                self.on_stable = None
                f()
            await sleep(self.feed_ms)

    def collect(self):
        gc.collect()
        self.collects += 1
        if hasattr(gc, "mem_free"):
            self.mem_free = gc.mem_free()
