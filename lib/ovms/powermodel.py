# The module's own power draw: a model that turns the ledger's time per power state
# (ovms/powerledger.py) into mA and Wh/day at the car's 12 V battery, and the owner's
# texts (issue 13). Licence: MIT (this project).
# Core: pure, integer arithmetic (the same digits in CPython and MicroPython).
#
#   model = PowerModel(board.POWER_MV, board.POWER_UA, board.POWER_EFF_PCT,
#                      standby=board has a CAN standby pin)
#   model.report(ledger.window(24))  -> (average uA at 12 V, mWh/day)
#   text(...)  the owner's DIAG line; share_text(row) the time per state
# Report path only (DIAG, the simulation's summary, tools/power_report.py): the power
# task loads it for one report and drops it after (D102, firmware/power.py).
#
# Model (D86), per part and state, the current at the part's own supply voltage:
#   MCU      run (DRIVING, CHARGING, PARKED-AWAKE, the minute's work) / sleep
#   modem    idle registered / sleep (AT+CSCLK=1, DTR high); plus _SMS_TX_MS at the SMS
#            current per SMS sent and the GPRS transfer current for the bytes moved at
#            _GPRS_BPS (bytes per second), whatever the state
#   CAN      normal (recessive) / standby in PARKED-ASLEEP when the board has the pin
#   GNSS     on in DRIVING only / off (D87: no position to follow while charging or
#            parked; the last fix stays)
#   12 V     power = sum(I x V) / efficiency + quiescent current x 12 V
# Every figure comes from the board module (firmware/boards/*.py), where each cites its
# datasheet. What the model leaves out (PCB leakage, LEDs, the SIM card, temperature) is
# the board designer's to add to POWER_UA["other"].

from ovms.powerledger import COL_WAKE_MS, EV_SMS, EV_TCP_BYTES
from ovms.powerstate import DRIVING, N_STATES, NAMES, PARKED_ASLEEP

_V_IN_MV = const(12_000)  # the Twizy's 12 V battery, nominal
_SMS_TX_MS = const(3_000)  # D86: radio time of one SMS (an assumption, see above)
_GPRS_BPS = const(1_500)  # D86: bytes per second through GPRS (CS-2, one TX slot, assumed)

PARTS = ("mcu", "modem", "can", "gnss")


class PowerModel:
    def __init__(self, mv, ua, eff_pct, standby=True, v_in_mv=_V_IN_MV):
        # mv: {"mcu","modem","can","gnss"} -> supply mV; ua: the currents (firmware/boards)
        for k in PARTS:
            if k not in mv:
                raise ValueError("POWER_MV needs %r" % k)
        for k in _UA_KEYS:
            if k not in ua:
                raise ValueError("POWER_UA needs %r" % k)
        if not 10 <= eff_pct <= 100:
            raise ValueError("POWER_EFF_PCT must be 10..100")
        self.mv = mv
        self.ua = ua
        self.eff_pct = eff_pct
        self.standby = standby
        self.v_in_mv = v_in_mv

    def part_nw(self, state, mcu_awake=False):
        # the parts' power in nW (uA x mV) in a state, before the converter
        ua = self.ua
        mv = self.mv
        asleep = state == PARKED_ASLEEP
        p = (ua["mcu_run"] if (not asleep or mcu_awake) else ua["mcu_sleep"]) * mv["mcu"]
        p += (ua["modem_sleep"] if asleep else ua["modem_idle"]) * mv["modem"]
        can = ua["can_standby"] if (asleep and self.standby) else ua["can_normal"]
        p += can * mv["can"]
        p += (ua["gnss_on"] if state == DRIVING else ua["gnss_off"]) * mv["gnss"]
        p += ua.get("other", 0) * mv["mcu"]
        return p

    def input_nw(self, part_nw):
        # at the 12 V input: the converter's loss and its quiescent current
        return part_nw * 100 // self.eff_pct + self.ua["conv_quiescent"] * self.v_in_mv

    def energy_nj(self, row):
        # nJ (nW x s) for one ledger row: row ms x nW / 1000
        e = 0
        for s in range(N_STATES):
            ms = row[s]
            if s == PARKED_ASLEEP:
                wake = row[COL_WAKE_MS]
                e += self.input_nw(self.part_nw(s, True)) * wake
                ms -= wake
            e += self.input_nw(self.part_nw(s)) * ms
        e = e // 1000
        # radio events on top of the state's modem current (whatever the state)
        extra_ua = self.ua["modem_sms"] - self.ua["modem_idle"]
        e += self._extra_nj(extra_ua, row[EV_SMS] * _SMS_TX_MS)
        extra_ua = self.ua["modem_tx"] - self.ua["modem_idle"]
        e += self._extra_nj(extra_ua, row[EV_TCP_BYTES] * 1000 // _GPRS_BPS)
        return e

    def _extra_nj(self, ua, ms):
        if ua <= 0 or ms <= 0:
            return 0
        return ua * self.mv["modem"] * 100 // self.eff_pct * ms // 1000

    def report(self, row):
        # -> (average uA at the 12 V input, mWh per day) over the row's time
        ms = 0
        for s in range(N_STATES):
            ms += row[s]
        if ms <= 0:
            return (0, 0)
        nj = self.energy_nj(row)
        avg_nw = nj * 1000 // ms
        ua = avg_nw // self.v_in_mv
        mwh_day = avg_nw * 24 // 1_000_000  # nW x 24 h = nWh; / 1e6 -> mWh
        return (ua, mwh_day)

    def state_ua(self, state):
        # the 12 V input current in a state (uA), the MCU running in PARKED-AWAKE etc.
        return self.input_nw(self.part_nw(state)) // self.v_in_mv


_UA_KEYS = (
    "mcu_run",
    "mcu_sleep",
    "modem_idle",
    "modem_sleep",
    "modem_tx",
    "modem_sms",
    "can_normal",
    "can_standby",
    "gnss_on",
    "gnss_off",
    "conv_quiescent",
)


def fixed(v, div=1000, places=2):
    # integer fixed-point text: fixed(1234) -> "1.23" (truncated: the same in both runtimes)
    neg = v < 0
    if neg:
        v = -v
    scale = 10**places
    q = v * scale // div
    if places:
        frac = ("0" * places + str(q % scale))[-places:]  # no "%0*d" in MicroPython
        s = "%d.%s" % (q // scale, frac)
    else:
        s = "%d" % q
    return "-" + s if neg else s


def share_text(row):
    # "DRIVING 1h02m05s, CHARGING 0h00m00s, ..." time per state in a row
    out = []
    for s in range(N_STATES):
        t = row[s] // 1000
        out.append("%s %dh%02dm%02ds" % (NAMES[s], t // 3600, t // 60 % 60, t % 60))
    return ", ".join(out)


def text(model, row, state_name):
    # the owner's line (DIAG, SMS): state now and the last 24 h at 12 V
    ua, mwh = model.report(row)
    return "Power: %s, 24h avg %s mA, %s Wh/day" % (
        state_name,
        fixed(ua, 1000, 1),
        fixed(mwh, 1000, 2),
    )
