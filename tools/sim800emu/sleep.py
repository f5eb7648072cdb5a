# SIM800 emulator: sleep mode 1 (AT+CSCLK=1 + DTR), the RI line. Licence: MIT (this project).
#
# As the SIM800 manuals describe it (firmware/hal/sim800_sleep.py has the sources):
#   AT+CSCLK=<0|1>, AT+CSCLK? -> +CSCLK: n   (a reset sets it back to 0)
#   emu.dtr.value(v)  the DTR line from the host; with CSCLK=1 and DTR high the modem
#                     sleeps: its UART takes nothing (bytes dropped and counted in
#                     .sleep_drops: a driver that writes to a sleeping modem is wrong)
#   DTR low: awake; the UART listens again after dtr_wake_ms (bytes before that are
#            dropped too)
#   emu.ri            the RI line: low for 120 ms on every SMS received (asleep or not);
#                     ri.pulses counts them, ri.irq(handler) calls handler(ri) at the
#                     falling edge (a board's pin interrupt)
#   urc_asleep        False: a URC (+CMTI) that comes while the modem sleeps is lost on
#                     its way to the host (the MCU slept through it, D87); the host must
#                     rely on RI
# .slept_ms: how long the modem slept (wall ms of the emulator); .sleeps: times it fell
# asleep.

from ovms.aio import ticks_add, ticks_diff, ticks_ms

RI_PULSE_MS = 120


class EmuLine:
    # a modem output line (RI): high at rest
    def __init__(self):
        self.v = 1
        self.pulses = 0
        self.handler = None

    def value(self, v=None):
        return self.v

    def irq(self, handler=None, trigger=None, **kw):
        self.handler = handler

    def pulse(self):
        # RI low for 120 ms (the host sees the edge; the emulator does not time the rise)
        self.pulses += 1
        h = self.handler
        if h is not None:
            h(self)


class EmuDtr:
    # the DTR input line, driven by the host (value(v) as machine.Pin)
    def __init__(self, emu):
        self.emu = emu
        self.v = 0

    def value(self, v=None):
        if v is None:
            return self.v
        v = 1 if v else 0
        if v != self.v:
            self.v = v
            self.emu._dtr_changed(v)
        return None


class EmuSleep:
    def _sleep_setup(self):
        self.csclk = 0
        self.dtr = EmuDtr(self)
        self.ri = EmuLine()
        self.dtr_wake_ms = 40
        self.urc_asleep = True
        self.sleep_drops = 0  # bytes the sleeping UART did not take
        self.urc_lost = 0  # URCs lost while asleep (urc_asleep False)
        self.slept_ms = 0
        self.sleeps = 0
        self._t_sleep = None
        self._t_listen = ticks_ms()

    @property
    def asleep(self):
        return self.csclk == 1 and self.dtr.v == 1 and not self.off

    def _dtr_changed(self, v):
        now = ticks_ms()
        if v:
            if self.csclk == 1:
                self._fall_asleep(now)
        else:
            self._end_sleep(now)
            self._t_listen = ticks_add(now, self.dtr_wake_ms)

    def _fall_asleep(self, now):
        if self._t_sleep is None:
            self._t_sleep = now
            self.sleeps += 1

    def _end_sleep(self, now):
        if self._t_sleep is not None:
            self.slept_ms += ticks_diff(now, self._t_sleep)
            self._t_sleep = None

    def _deaf(self, n):
        # True when the UART drops these n bytes: asleep, or just woken by DTR
        if self.asleep or ticks_diff(self._t_listen, ticks_ms()) > 0:
            self.sleep_drops += n
            return True
        return False

    def _csclk_cmd(self, c, line):
        if c == "+CSCLK?":
            return ["+CSCLK: %d" % self.csclk, "OK"]
        if c == "+CSCLK=?":
            return ["+CSCLK: (0-2)", "OK"]
        v = c[7:]
        if v not in ("0", "1", "2"):
            return ["ERROR"]
        self.csclk = int(v)
        if self.csclk == 1 and self.dtr.v == 1:
            self._fall_asleep(ticks_ms())
        elif self.csclk != 1:
            self._end_sleep(ticks_ms())
        return ["OK"]

    def _sleep_reset(self):
        # a reset: CSCLK back to 0 (the modem is awake whatever DTR says)
        self._end_sleep(ticks_ms())
        self.csclk = 0

    def _urc_passes(self):
        # a URC leaves the modem: lost on the way when the host slept through it
        if self.asleep and not self.urc_asleep:
            self.urc_lost += 1
            return False
        return True
