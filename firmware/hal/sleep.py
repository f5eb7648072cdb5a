# The MCU's sleep between the minute's work, behind one small interface (issue 13).
# Licence: MIT (this project).
#
#   cause = await sleeper.sleep(ms)   -> WAKE_TIMER, WAKE_CAN or WAKE_RI
#   sleeper.ring()                    the modem's RI fell (IRQ context: a flag only)
#   sleeper.slept_ms                  total time asleep; .sleeps, .wakes[cause] counts
#
# Implemented by
#   sleep_host.HostSleep      host, tests, tools/power_report.py: the virtual clock jumps
#   sleep_machine.BoardSleep  pyboard, ESP32: machine.lightsleep with the wake pins armed
# D101: one module each, so that a board never imports the host's sleep and the host
# never the board's (each costs its class and functions in heap once imported; this
# module, the wake causes and the counters they share, is all firmware/power.py imports
# at its top).

WAKE_TIMER = 0
WAKE_CAN = 1
WAKE_RI = 2


class SleepCounts:
    # the counters and the RI flag every sleeper keeps (a mixin: _counts_init in __init__)
    def _counts_init(self):
        self.slept_ms = 0
        self.sleeps = 0
        self.wakes = [0, 0, 0]
        self.ri = False  # RI fell since the last sleep returned (set from the handler)

    def ring(self, *_pin):
        # RI handler (IRQ context on a board): a flag, nothing else
        self.ri = True
