# The module's power states and the rules between them (issue 13): a pure state machine.
# Licence: MIT (this project). Core: no hardware, no clock; time comes in as ms.
#
#   rules = PowerRules(quiet_ms=300_000, linger_ms=10_000)
#   state = rules.update(now_ms, car_on, charging, last_can_ms, busy)
#
# States (what the module does in each is the board's business, firmware/power.py):
#   DRIVING        the car is switched on: everything on (GNSS too)
#   CHARGING       the car charges: everything on but the GNSS
#   PARKED_AWAKE   parked, but the bus spoke lately, or there is work (an SMS to read or
#                  answer, an alert or record the link can deliver now, the modem not
#                  ready yet), or that work ended less than linger_ms ago
#   PARKED_ASLEEP  parked, bus quiet for quiet_ms, no work: the modem sleeps (AT+CSCLK=1,
#                  DTR high), the MCU sleeps between the minute's work, the CAN
#                  transceiver is in standby where the board has the pin, the GNSS is off
# Rules, first match wins (tested as a table in host_tests/test_lowpower_state.py):
#   1 car_on                                   -> DRIVING
#   2 charging                                 -> CHARGING
#   3 a frame within quiet_ms (last_can_ms)    -> PARKED_AWAKE   reason "can"
#   4 busy                                     -> PARKED_AWAKE   reason "work"
#   5 busy ended less than linger_ms ago       -> PARKED_AWAKE   reason "linger"
#   6 otherwise                                -> PARKED_ASLEEP  reason "quiet"
# D85: the quiet window is 5 minutes of a silent bus (the Twizy's bus falls silent soon
# after switch-off; a charge or a key-on brings it back at once); the linger is 10 s
# after the last work (a reply's +CMGS, the server's acknowledgement: the next SMS or
# record of a burst does not pay a modem wake each). A key-on while asleep: the first
# frames wake the MCU (rule 3), the decoder sees the car on within a frame period of
# 0x597 (100 ms), rule 1 follows on the next update (the power task runs every 250 ms).
# Per update: no allocation (small ints; the reason strings are constants).

DRIVING = 0
CHARGING = 1
PARKED_AWAKE = 2
PARKED_ASLEEP = 3
N_STATES = 4
NAMES = ("DRIVING", "CHARGING", "PARKED-AWAKE", "PARKED-ASLEEP")

QUIET_MS = 300_000  # D85: bus silent this long -> parked and asleep
_LINGER_MS = const(10_000)  # D85: stay awake this long after the last work

_R_CAR = const("car on")
_R_CHARGE = const("charging")
_R_CAN = const("can")
_R_WORK = const("work")
_R_LINGER = const("linger")
_R_QUIET = const("quiet")


class PowerRules:
    def __init__(self, quiet_ms=QUIET_MS, linger_ms=_LINGER_MS):
        self.quiet_ms = quiet_ms
        self.linger_ms = linger_ms
        self.state = PARKED_AWAKE  # at boot: awake until the rules say otherwise
        self.reason = _R_WORK
        self.since_ms = 0  # when the state was entered
        self.changes = 0  # state changes since boot
        self.entered = [0] * N_STATES  # times each state was entered
        self._work_end_ms = None  # when busy last went False (None: never busy)
        self._was_busy = False

    def update(self, now_ms, car_on, charging, last_can_ms, busy):
        # -> the state for now (and remembers it); last_can_ms None: no frame yet
        if busy:
            self._was_busy = True
        elif self._was_busy:
            self._was_busy = False
            self._work_end_ms = now_ms
        if car_on:
            s, r = DRIVING, _R_CAR
        elif charging:
            s, r = CHARGING, _R_CHARGE
        elif last_can_ms is not None and now_ms - last_can_ms < self.quiet_ms:
            s, r = PARKED_AWAKE, _R_CAN
        elif busy:
            s, r = PARKED_AWAKE, _R_WORK
        elif self._work_end_ms is not None and now_ms - self._work_end_ms < self.linger_ms:
            s, r = PARKED_AWAKE, _R_LINGER
        else:
            s, r = PARKED_ASLEEP, _R_QUIET
        self.reason = r
        if s != self.state:
            self.state = s
            self.since_ms = now_ms
            self.changes += 1
            self.entered[s] += 1
        return s

    def asleep_in_ms(self, now_ms, last_can_ms):
        # parked and not busy: ms until rule 6 holds (0: now). The power task need not
        # look before then, so it can sleep until the earlier of this and its timer.
        t = 0
        if last_can_ms is not None:
            t = last_can_ms + self.quiet_ms - now_ms
        if self._work_end_ms is not None:
            w = self._work_end_ms + self.linger_ms - now_ms
            if w > t:
                t = w
        return t if t > 0 else 0

    def name(self):
        return NAMES[self.state]
