# ticker task: the vehicle's per-second tick (spec §3.1) and notification dispatch.
# Licence: MIT (this project).
#
# Every period_ms (1000 on the car) on the ticks clock, drift-free: the next due time is
# the previous due time plus the period, not "now + period", so the tick count follows
# the clock however long a tick takes. After a stall (a long flash write, a blocking
# driver) up to _MAX_CATCHUP missed ticks run back to back; beyond that the schedule
# restarts from now and .skipped counts the ticks lost.
# clock: an object with ticks_ms() and async sleep_ms(ms) (firmware/simclock.VirtualClock
# in the host simulation and tests); None = the asyncio clock (ovms.aio).
# An exception from the core's tick or dispatch is not swallowed here: it ends run() and
# the app's supervisor (firmware/supervisor.py) logs it with its traceback, counts it and
# restarts the ticker (a development build stops).
#
# Link (the vehicle's channels) lives in firmware/tasks/link.py.
#
# D129: the clock functions are read as aio.ticks_ms etc. and Link is no longer re-exported
# from here: 4 names in this resident module's globals, 4 slots (was 8: 64 -> 32 bytes).

from ovms import aio

_MAX_CATCHUP = const(3)  # missed ticks run back to back after a stall


class Ticker:
    def __init__(self, vehicle, link, period_ms=1000, on_tick=None, clock=None):
        self.vehicle = vehicle
        self.link = link
        self.period_ms = period_ms
        self.on_tick = on_tick  # optional f(tick count), after dispatch
        self.clock = clock
        self.ticks = 0
        self.late = 0  # ticks run late (behind schedule by a period or more)
        self.skipped = 0  # ticks given up after a long stall
        self.catchup = _MAX_CATCHUP  # the power task raises it: a sleep is no stall (issue 13)

    async def run(self):
        c = self.clock
        now = aio.ticks_ms if c is None else c.ticks_ms
        sleep = aio.sleep_ms if c is None else c.sleep_ms
        period = self.period_ms
        due = aio.ticks_add(now(), period)
        while True:
            wait = aio.ticks_diff(due, now())
            if wait > 0:
                await sleep(wait)
            elif wait <= -period:
                self.late += 1
            self.step()
            due = aio.ticks_add(due, period)
            behind = aio.ticks_diff(now(), due)
            if behind >= self.catchup * period:
                missed = behind // period
                self.skipped += missed
                due = aio.ticks_add(due, missed * period)
            if wait <= 0:
                await aio.sleep_ms(0)  # a catch-up run still lets the others in

    def step(self):
        # one tick: vehicle.tick() then vehicle.dispatch(link)
        self.ticks += 1
        v = self.vehicle
        v.tick()
        v.dispatch(self.link)
        if self.on_tick is not None:
            self.on_tick(self.ticks)
