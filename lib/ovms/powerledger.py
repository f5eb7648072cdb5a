# The module's own time per power state: a ledger of hourly rows and all-time totals
# (issue 13). Licence: MIT (this project). Core: pure, integer arithmetic.
#
#   ledger = Ledger()
#   ledger.add_ms(now_ms, state, ms, mcu_awake)   time spent (firmware/power.py, per update)
#   ledger.add_event(now_ms, EV_SMS, 1)           one SMS sent by the modem
#   ledger.add_event(now_ms, EV_TCP_BYTES, n)     bytes through GPRS (both ways)
#   ledger.window(24, now_ms) / ledger.totals()   one row, priced by ovms.powermodel
#
# 24 hourly rows (the last 24 h, a row is reused when its hour comes round again) plus
# all-time totals. A row holds ms per state (DRIVING, CHARGING, PARKED-AWAKE,
# PARKED-ASLEEP), the ms the MCU ran inside PARKED-ASLEEP (the minute's work), the
# number of such wakes, SMS sent and GPRS bytes. An hour's ms fit a 31-bit small int;
# the all-time totals are kept in seconds plus a ms remainder (a year fits). Per update
# (once a second or once a minute): no allocation.
# D102: the ledger runs all day, the model that prices it and the owner's texts
# (ovms/powermodel.py) only for a report: two modules, so that the power task keeps only
# this one imported (firmware/power.py loads the model for one report, ovms/lazy.py).

from ovms.powerstate import N_STATES, PARKED_ASLEEP

HOUR_MS = 3_600_000

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
