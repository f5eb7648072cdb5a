# The module's own power draw: a ledger of time per power state and a model that turns it
# into mA and Wh/day at the car's 12 V battery (issue 13). Licence: MIT (this project).
# Core: pure, integer arithmetic (the same digits in CPython and MicroPython).
#
#   ledger = Ledger()
#   ledger.add_ms(now_ms, state, ms, mcu_awake)   time spent (firmware/power.py, per update)
#   ledger.add_event(now_ms, EV_SMS, 1)           one SMS sent by the modem
#   ledger.add_event(now_ms, EV_TCP_BYTES, n)     bytes through GPRS (both ways)
#   model = PowerModel(board.POWER_MV, board.POWER_UA, board.POWER_EFF_PCT,
#                      standby=board has a CAN standby pin)
#   model.report(ledger.window(24))  -> (average uA at 12 V, mWh/day)
#   text(...)  the owner's DIAG line
#
# Ledger: 24 hourly rows (the last 24 h, a row is reused when its hour comes round
# again) plus all-time totals. A row holds ms per state (DRIVING, CHARGING, PARKED-AWAKE,
# PARKED-ASLEEP), the ms the MCU ran inside PARKED-ASLEEP (the minute's work), the
# number of such wakes, SMS sent and GPRS bytes. An hour's ms fit a 31-bit small int;
# the all-time totals are kept in seconds plus a ms remainder (a year fits). Per update
# (once a second or once a minute): no allocation.
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

from ovms.compat import const
from ovms.powerstate import DRIVING, N_STATES, NAMES, PARKED_ASLEEP

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
_V_IN_MV = const(12_000)  # the Twizy's 12 V battery, nominal
_SMS_TX_MS = const(3_000)  # D86: radio time of one SMS (an assumption, see above)
_GPRS_BPS = const(1_500)  # D86: bytes per second through GPRS (CS-2, one TX slot, assumed)

COL_WAKE_MS = N_STATES  # ms the MCU ran inside PARKED-ASLEEP
COL_WAKES = N_STATES + 1  # minute's-work wakes
EV_SMS = N_STATES + 2
EV_TCP_BYTES = N_STATES + 3
N_COLS = N_STATES + 4


class Ledger:
    def __init__(self):
        self.rows = [[0] * N_COLS for _ in range(24)]
        self.row_hour = [-1] * 24  # the absolute hour each row holds (-1: empty)
        self.total_s = [0] * N_COLS  # all time: ms columns in s, counts as they are
        self._rem_ms = [0] * N_COLS

    def _row(self, now_ms):
        h = now_ms // HOUR_MS
        i = h % 24
        if self.row_hour[i] != h:
            r = self.rows[i]
            for k in range(N_COLS):
                r[k] = 0
            self.row_hour[i] = h
        return self.rows[i]

    def add_ms(self, now_ms, state, ms, mcu_awake=True):
        # ms spent in state, ending at now_ms (an interval over an hour's edge is booked to
        # the hour it ends in: an update comes at least once a minute)
        if ms <= 0:
            return
        r = self._row(now_ms)
        r[state] += ms
        self._total(state, ms)
        if state == PARKED_ASLEEP and mcu_awake:
            r[COL_WAKE_MS] += ms
            self._total(COL_WAKE_MS, ms)

    def add_event(self, now_ms, col, n=1):
        if n <= 0:
            return
        r = self._row(now_ms)
        r[col] += n
        self.total_s[col] += n

    def _total(self, col, ms):
        v = self._rem_ms[col] + ms
        self.total_s[col] += v // 1000
        self._rem_ms[col] = v % 1000

    def window(self, hours=24, now_ms=None):
        # -> one row: the sums of the last `hours` rows (<= 24) up to now_ms (None: all
        # rows held). Report path: allocates.
        out = [0] * N_COLS
        h_now = None if now_ms is None else now_ms // HOUR_MS
        for i in range(24):
            h = self.row_hour[i]
            if h < 0 or (h_now is not None and (h > h_now or h <= h_now - hours)):
                continue
            r = self.rows[i]
            for k in range(N_COLS):
                out[k] += r[k]
        return out

    def totals(self):
        # -> one row over all time, ms columns in ms
        out = [0] * N_COLS
        for k in range(N_COLS):
            if k < COL_WAKES:
                out[k] = self.total_s[k] * 1000 + self._rem_ms[k]
            else:
                out[k] = self.total_s[k]
        return out


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
