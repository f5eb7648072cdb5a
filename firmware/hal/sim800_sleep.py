# SIM800 sleep mode 1: AT+CSCLK=1 and the DTR line; RI for an SMS while asleep.
# Licence: MIT (this project).
#
# SleepRoom is a mixin of firmware.hal.sim800.Sim800. SIM800 facts (SIM800 Series AT
# Command Manual, AT+CSCLK; SIM800H/L Hardware Design V2.02 §4.6 and the sleep-mode
# section):
#   * with AT+CSCLK=1 the module sleeps while DTR is high and nothing happens on air or
#     on the UART; asleep it still receives SMS and keeps its registration, but its UART
#     is not accessible;
#   * DTR low wakes it; the UART works again about 40-50 ms later (_DTR_WAKE_MS); DTR
#     stays low while we talk to it;
#   * RI goes low for 120 ms when an SMS arrives (and for some URCs), asleep or not.
# Used by the power task (firmware/power.py):
#   await modem.doze()   READY and idle: AT+CSCLK=1 (once per modem boot), DTR high ->
#                        True when the modem now sleeps
#   modem.rouse()        DTR low (the power state left PARKED-ASLEEP)
#   modem.ring()         RI fell (IRQ context: one flag). The next pass lists the SIM
#                        (AT+CMGL): a +CMTI sent while the MCU slept may be lost (D87)
#   modem.busy()         work in hand: not READY yet, SMS to read or send, a command
#                        running, RI not served -> the power state stays awake
# Own traffic while asleep: every write to the modem first pulls DTR low and waits
# _DTR_WAKE_MS (the _write hook in sim800_at); the modem stays awake until doze() again.
# While asleep the supervisor's polls (CSQ/CREG, the SIM sweep, GNSS) pause: only RI,
# an SMS to send or a TCP send wakes the modem.
# D87: asleep, the modem keeps its registration and the GPRS context with the server's
# TCP session (no AT+CIPCLOSE): the server sees the car online, and the next record goes
# out without a new login. UNTESTED ON HARDWARE: if a real SIM800 will not sleep with a
# session open, doze() must close it first (the uplink reconnects when woken).

from firmware.hal.sim800_at import READY, ModemError
from ovms.aio import sleep_ms
from ovms.compat import const

_DTR_WAKE_MS = const(50)  # UART usable this long after DTR low (the manual: about 40-50 ms)


class SleepRoom:
    def _sleep_init(self, dtr_pin=None):
        self.dtr = dtr_pin  # an object with value(v) (machine.Pin), None: no sleep mode
        self.asleep = False  # DTR high with AT+CSCLK=1: the modem may sleep
        self.ri_flag = False  # RI fell, not served yet (set from the pin handler)
        self._csclk = False  # AT+CSCLK=1 sent since the modem's last boot
        self._t_awake_wait = False  # DTR just went low: wait before the next write
        if dtr_pin is not None:
            dtr_pin.value(0)  # awake from the start
        # its counters dozes, dtr_wakes and ri are among sim800's (one table, D127)

    def ring(self, *_pin):
        # RI handler: IRQ context on a board (no allocation, no asyncio)
        self.ri_flag = True

    def busy(self):
        if self.stuck_off:
            return False  # a dead modem must not keep the module awake
        if self.state != READY or self.ri_flag or self._active or self._sweep_due:
            return True
        return bool(self._pending or self._direct or self._outbox)

    async def doze(self):
        if self.dtr is None or self.state != READY or self.busy():
            return False
        if self.asleep:
            return True
        if not self._csclk:
            try:
                await self.cmd("AT+CSCLK=1")
            except ModemError:
                return False  # tried again at the next doze
            self._csclk = True
        if self.busy():  # work came in while the command ran
            return False
        self.dtr.value(1)
        self.asleep = True
        self.counters["dozes"] += 1
        return True

    def rouse(self):
        # DTR low at once; the UART is usable _DTR_WAKE_MS later (_wake_for_write waits)
        if self.dtr is not None and self.asleep:
            self.dtr.value(0)
            self.asleep = False
            self._t_awake_wait = True

    async def _wake_for_write(self):
        # before any write (sim800_at._write): the modem must listen
        if self.asleep:
            self.counters["dtr_wakes"] += 1
            self.rouse()
        if self._t_awake_wait:
            self._t_awake_wait = False
            await sleep_ms(_DTR_WAKE_MS)

    def _serve_ri(self):
        # supervisor pass: RI fell -> list the SIM (a lost +CMTI is found)
        if self.ri_flag:
            self.ri_flag = False
            self.counters["ri"] += 1
            self._sweep_due = True

    def _dozing(self):
        # the supervisor pass may skip its polls: asleep with nothing to do
        return self.asleep and not self.busy()

    def _sleep_reset(self):
        # the modem rebooted: AT+CSCLK is back to 0 (settings are lost on a reset)
        self._csclk = False
        self.asleep = False
        if self.dtr is not None:
            self.dtr.value(0)
