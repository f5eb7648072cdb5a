# BoardSleep: the MCU's sleep on a board (pyboard, ESP32): machine.lightsleep(ms) with
# the wake pins armed. Interface: firmware/hal/sleep.py. Licence: MIT (this project).
#
# The wake lines: the modem's RI and the CAN RX line (Pin.irq on ESP32 with
# wake=machine.SLEEP; an EXTI line on the STM32, which wakes Stop mode). After the wake
# the cause is read from the flags the pin handlers set. The watchdog is fed right
# before and right after (D89).
# UNTESTED ON HARDWARE: BoardSleep is the documented MicroPython API only.

from firmware.hal.sleep import WAKE_CAN, WAKE_RI, WAKE_TIMER, SleepCounts
from ovms.aio import ticks_diff, ticks_ms


class BoardSleep(SleepCounts):
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
        t0 = ticks_ms()
        if not self.ri and not self.can_edge:
            self.m.lightsleep(ms)
        if self.wdt is not None:
            self.wdt.feed()
        self.slept_ms += ticks_diff(ticks_ms(), t0)
        self.sleeps += 1
        cause = WAKE_RI if self.ri else (WAKE_CAN if self.can_edge else WAKE_TIMER)
        self.ri = False
        self.can_edge = False
        self.wakes[cause] += 1
        return cause
