# ticker task: the vehicle's per-second tick (spec §3.1) and notification dispatch.
# Licence: MIT (this project).
#
# Every period_ms (1000 on the car) on the ticks clock, drift-free: the next due time is
# the previous due time plus the period, not "now + period", so the tick count follows
# the clock however long a tick takes. After a stall (a long flash write, a blocking
# driver) up to MAX_CATCHUP missed ticks run back to back; beyond that the schedule
# restarts from now and .skipped counts the ticks lost.
#
# Link (the vehicle's channels) lives in firmware/tasks/link.py.

from firmware.tasks.link import Link  # noqa: F401 (moved; imported from here)
from ovms import log
from ovms.aio import sleep_ms, ticks_add, ticks_diff, ticks_ms

MAX_CATCHUP = 3  # missed ticks run back to back after a stall


class Ticker:
    def __init__(self, vehicle, link, period_ms=1000, on_tick=None):
        self.vehicle = vehicle
        self.link = link
        self.period_ms = period_ms
        self.on_tick = on_tick  # optional f(tick count), after dispatch
        self.ticks = 0
        self.late = 0  # ticks run late (behind schedule by a period or more)
        self.skipped = 0  # ticks given up after a long stall
        self.errors = 0  # exceptions from tick/dispatch (logged, the ticker keeps going)
        self._log = log.get("tick")

    async def run(self):
        period = self.period_ms
        due = ticks_add(ticks_ms(), period)
        while True:
            wait = ticks_diff(due, ticks_ms())
            if wait > 0:
                await sleep_ms(wait)
            elif wait <= -period:
                self.late += 1
            self.step()
            due = ticks_add(due, period)
            behind = ticks_diff(ticks_ms(), due)
            if behind >= MAX_CATCHUP * period:
                missed = behind // period
                self.skipped += missed
                due = ticks_add(due, missed * period)
            if wait <= 0:
                await sleep_ms(0)  # a catch-up run still lets the others in

    def step(self):
        # one tick: vehicle.tick() then vehicle.dispatch(link)
        self.ticks += 1
        v = self.vehicle
        try:
            v.tick()
            v.dispatch(self.link)
        except Exception as e:  # a bug in the core must not stop the clock
            self.errors += 1
            self._log.error("tick %d failed: %r", self.ticks, e)
        if self.on_tick is not None:
            self.on_tick(self.ticks)
