# A virtual clock for the host simulation and tests: simulated time that advances only
# when the simulated hardware has been served, so a slow or busy machine gives the same
# result as a fast one (only the wall time it takes differs).
# Licence: MIT (this project). Host only (the board's clock is the real one).
#
#   clock = VirtualClock(speed=10, step_ms=10)
#   clock.ticks_ms()            simulated ms since the start (an int, never wraps here)
#   await clock.sleep_ms(ms)    wake when the simulated time has passed ms
#   clock.on_step(f)            f(now_ms) after every step (FakeCan delivers its frames)
#   clock.busy(f)               f() -> True while simulated hardware still holds work
#                               for a task (FakeCan: frames waiting in its FIFO)
#   task = asyncio.create_task(clock.run())
#
# run(): repeat { let the tasks run until no busy() is True (bounded by MAX_SETTLE
# yields: a consumer that never drains is then overrun, as on a real controller);
# advance step_ms; call the step hooks; wake the sleepers that are due }. Pacing: the
# simulated time is held at most `speed` times ahead of the wall clock (speed 0: as fast
# as the machine goes). Sockets and the modem's timeouts still run on wall time.
#
# D120: a sleeper costs no object of its own on MicroPython: its task is parked on the
# clock the way asyncio.Event.wait parks it (task.data = the clock, whose remove() a
# cancel calls) and advance() puts it back on the run queue; the sleepers are one flat
# list [due_ms, task, due_ms, task, ...], compacted in place. An Event per sleeper (an
# instance, its attribute table, a TaskQueue, a [due, Event] list: ~80 bytes each, 11
# sleepers in the heap board) was the harness's, not the board's, whose asyncio.sleep_ms
# parks the task on the run queue itself. Same wake-up order and times as before (the
# tasks are pushed in the order they went to sleep); CPython keeps an Event per sleeper.

import asyncio

from ovms.aio import sleep_ms, ticks_diff, ticks_ms

try:
    from asyncio import core as _core  # MicroPython: the run queue and the current task
except ImportError:
    _core = None  # CPython

MAX_SETTLE = 1000  # yields per step waiting for the simulated hardware to be served


class VirtualClock:
    def __init__(self, speed=1, step_ms=10):
        self.speed = speed
        self.step_ms = step_ms
        self.now = 0
        self.steps = 0
        self.unsettled = 0  # steps taken although some busy() was still True
        self._sleepers = []  # due_ms, task (MicroPython) or Event (CPython), due_ms, ...
        self._hooks = []
        self._busy = []

    def ticks_ms(self):
        return self.now

    if _core is None:

        async def sleep_ms(self, ms):
            ev = asyncio.Event()
            self._sleepers.append(self.now + (ms if ms > 0 else 0))
            self._sleepers.append(ev)
            await ev.wait()

    else:

        def sleep_ms(self, ms):  # awaitable: a generator, as asyncio.Event.wait
            t = _core.cur_task
            self._sleepers.append(self.now + (ms if ms > 0 else 0))
            self._sleepers.append(t)
            t.data = self  # a cancel calls self.remove(t), then reschedules t
            yield

    def remove(self, task):
        # a sleeping task was cancelled (MicroPython's Task.cancel): forget it
        s = self._sleepers
        for i in range(1, len(s), 2):
            if s[i] is task:
                del s[i - 1 : i + 1]
                return

    async def wait_until(self, t_ms):
        if self.now < t_ms:
            await self.sleep_ms(t_ms - self.now)

    def on_step(self, f):
        self._hooks.append(f)

    def busy(self, f):
        self._busy.append(f)

    def _any_busy(self):
        for f in self._busy:
            if f():
                return True
        return False

    def advance(self, ms):
        # one jump of the simulated time (run() calls it; tests may too)
        self.now += ms
        self.steps += 1
        for f in self._hooks:
            f(self.now)
        s = self._sleepers
        now = self.now
        j = 0
        for i in range(0, len(s), 2):
            if s[i] <= now:
                w = s[i + 1]
                if _core is None:
                    w.set()
                else:
                    _core._task_queue.push(w)
            else:
                s[j] = s[i]
                s[j + 1] = s[i + 1]
                j += 2
        del s[j:]

    async def run(self):
        t0 = ticks_ms()
        while True:
            n = 0
            while self._any_busy() and n < MAX_SETTLE:
                await sleep_ms(0)
                n += 1
            if n == MAX_SETTLE:
                self.unsettled += 1
            self.advance(self.step_ms)
            await sleep_ms(0)  # the woken sleepers run before the next step
            if self.speed:
                ahead = self.now // self.speed - ticks_diff(ticks_ms(), t0)
                if ahead > 0:
                    await sleep_ms(int(ahead))  # a fractional speed (1.5) gives floats
