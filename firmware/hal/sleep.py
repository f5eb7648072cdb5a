# The MCU's sleep between the minute's work, behind one small interface (issue 13).
# Licence: MIT (this project).
#
#   cause = await sleeper.sleep(ms)   -> WAKE_TIMER, WAKE_CAN or WAKE_RI
#   sleeper.ring()                    the modem's RI fell (IRQ context: a flag only)
#   sleeper.slept_ms                  total time asleep; .sleeps, .wakes[cause] counts
#
# HostSleep (host, tests, tools/power_report.py): the simulated time jumps. It ends at
# the earliest of: ms from now, the next CAN frame the fake bus will deliver (the CAN RX
# line would wake the MCU at its first edge), the next scheduled outside event (a
# scenario's SMS), or at once when RI has already fallen. The jump goes through
# VirtualClock.advance (its step hooks deliver the frames due, its sleepers wake).
# BoardSleep (pyboard, ESP32): machine.lightsleep(ms) with the wake pins armed: the RI
# line and the CAN RX line (Pin.irq on ESP32 with wake=machine.SLEEP; an EXTI line on
# the STM32, which wakes Stop mode). After the wake the cause is read from the flags
# the pin handlers set. The watchdog is fed right before and right after (D89).
# UNTESTED ON HARDWARE: BoardSleep is the documented MicroPython API only.

from ovms.aio import ticks_diff, ticks_ms

WAKE_TIMER = 0
WAKE_CAN = 1
WAKE_RI = 2
WAKE_NAMES = ("timer", "can", "ri")


class _Counts:
    def _counts_init(self):
        self.slept_ms = 0
        self.sleeps = 0
        self.wakes = [0, 0, 0]
        self.ri = False  # RI fell since the last sleep returned (set from the handler)

    def ring(self, *_pin):
        # RI handler (IRQ context on a board): a flag, nothing else
        self.ri = True


class HostSleep(_Counts):
    def __init__(self, clock, can=None, events=()):
        # clock: firmware.simclock.VirtualClock; can: the fake CAN adapter (or None);
        # events: functions -> the simulated ms of the next outside event (or None)
        self.clock = clock
        self.can = can
        self.events = list(events)
        self._counts_init()

    def _next_frame_ms(self):
        c = self.can
        if c is None or not getattr(c, "started", False):
            return None
        due = c.next_due_ms()
        if due < 0:
            return None
        return due + c._t0  # the adapter counts from its start()

    async def sleep(self, ms):
        c = self.clock
        now = c.now
        end = now + (ms if ms > 0 else 0)
        cause = WAKE_TIMER
        if self.ri:
            end = now
            cause = WAKE_RI
        else:
            f = self._next_frame_ms()
            if f is not None and f < end:
                end = f if f > now else now
                cause = WAKE_CAN
            for ev in self.events:
                t = ev()
                if t is not None and t < end:
                    end = t if t > now else now
                    cause = WAKE_TIMER  # the event's own effect (RI) is what it does
        if end > now:
            c.advance(end - now)
            self.slept_ms += end - now
            self.sleeps += 1
        if self.ri:  # the event that ended the sleep raised RI
            cause = WAKE_RI
        self.ri = False
        self.wakes[cause] += 1
        return cause


class BoardSleep(_Counts):
    def __init__(self, ri_pin=None, can_pin=None, wdt=None, machine_mod=None, esp32=False):
        # ri_pin / can_pin: machine.Pin inputs (None: not a wake source)
        m = machine_mod
        if m is None:
            import machine as m
        self.m = m
        self.wdt = wdt
        self.can_edge = False
        self._counts_init()
        self._can_irq = self._on_can  # bound once: an IRQ handler allocates nothing
        if esp32:
            # light sleep ends on a low level of either line (Pin.WAKE_LOW)
            for p, h in ((ri_pin, self.ring), (can_pin, self._can_irq)):
                if p is not None:
                    p.irq(handler=h, trigger=p.WAKE_LOW, wake=m.SLEEP)
        else:
            # STM32: a falling edge on an EXTI line wakes Stop mode
            for p, h in ((ri_pin, self.ring), (can_pin, self._can_irq)):
                if p is not None:
                    p.irq(handler=h, trigger=p.IRQ_FALLING)

    def _on_can(self, _pin):
        self.can_edge = True

    async def sleep(self, ms):
        if self.wdt is not None:
            self.wdt.feed()
        t0 = self._ticks()
        if not self.ri and not self.can_edge:
            self.m.lightsleep(ms)
        if self.wdt is not None:
            self.wdt.feed()
        self.slept_ms += self._diff(self._ticks(), t0)
        self.sleeps += 1
        cause = WAKE_RI if self.ri else (WAKE_CAN if self.can_edge else WAKE_TIMER)
        self.ri = False
        self.can_edge = False
        self.wakes[cause] += 1
        return cause

    def _ticks(self):
        return ticks_ms()

    def _diff(self, a, b):
        return ticks_diff(a, b)
