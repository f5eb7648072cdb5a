# HostSleep: the MCU's sleep on the host (tests, simulation, tools/power_report.py): the
# simulated time jumps. Interface: firmware/hal/sleep.py. Licence: MIT (this project).
#
# A sleep ends at the earliest of: ms from now, the next CAN frame the fake bus will
# deliver (the CAN RX line would wake the MCU at its first edge), the next scheduled
# outside event (a scenario's SMS), or at once when RI has already fallen. The jump goes
# through VirtualClock.advance (its step hooks deliver the frames due, its sleepers wake).

from firmware.hal.sleep import WAKE_CAN, WAKE_RI, WAKE_TIMER, SleepCounts


class HostSleep(SleepCounts):
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
