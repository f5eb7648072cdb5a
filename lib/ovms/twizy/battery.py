# Battery monitor: min/max, deviations, watch and alert flags (spec §5).
# Licence: MIT (this project).
#
# collect() runs from the per-second tick when a complete sensor set has been
# committed (sensor_state READY). It is integer-only and allocates nothing.
# Thresholds in wire units:
#   cell alert:   |dev| >= 20  (20 x 5 mV = 100 mV)
#   module alert: |dev| >= 3   (3 degC)
#   watch:        |dev| > stddev, stddev = floor(sigma) + 1 (raw units)

#
# D129: the number helpers are read as units.f2, units.isqrt, ... (D125): 22 names, 23
# slots (was 26 names, 29 slots: 240 -> 192 bytes).

from ovms import units
from ovms.twizy import state

_CELL_ALERT_DEV = const(20)  # 100 mV
_TEMP_ALERT_DEV = const(3)  # 3 degC
_CELL_VALID_MAX = const(0xF00)
_TEMP_VALID_MAX = const(0xF0)


def reset(st, keep_act=True):
    # switch-on and BATT R (spec §5.2, D7: an invalid act leaves min/max unset).
    # Before the first committed sensor set the act values are placeholders
    # (module 40 = 0 degC), which count as invalid here: D7's very case.
    # D66: keep_act=False (switch-on with exact=False) leaves every min/max unset:
    # the act values are then the previous trip's (the bus was silent since), so
    # the first fresh sensor set of this trip starts min/max, not the old one
    # (End-Drv then Init-Drv gave "P:7C (7C..31C)" in 2013, "P:7C (7C..8C)" now).
    seen = keep_act and st.sensor_sets > 0
    for c in range(state.N_CELLS):
        v = st.cell_act[c]
        if not seen or not 0 < v < _CELL_VALID_MAX:
            v = 0
        st.cell_min[c] = v
        st.cell_max[c] = v
        st.cell_maxdev[c] = 0
    for m in range(state.N_MODULES):
        v = st.temp_act[m]
        if not seen or not 0 < v < _TEMP_VALID_MAX:
            v = 0
        st.temp_min[m] = v
        st.temp_max[m] = v
        st.temp_maxdev[m] = 0
    st.pack_min = st.pack_act if keep_act else 0
    st.pack_max = st.pack_act if keep_act else 0
    st.volt_alerts = 0
    st.volt_watches = 0
    st.last_volt_alerts = 0
    st.temp_alerts = 0
    st.temp_watches = 0
    st.last_temp_alerts = 0
    st.sensor_state = state.SENSORS_START


def _minmax(act, vmin, vmax, n, valid_max):
    # walk in order, stop at the first invalid value; returns True if all valid
    for i in range(n):
        v = act[i]
        if not 0 < v < valid_max:
            return False
        if vmin[i] == 0 or v < vmin[i]:
            vmin[i] = v
        if vmax[i] == 0 or v > vmax[i]:
            vmax[i] = v
    return True


def _deviations(act, maxdev, n, alert_dev):
    # returns the flags of this set packed as alerts | watches << 16 (an int,
    # so the tick allocates nothing); the caller ors them into the sticky sets.
    # stddev = isqrt(n*Q - S^2) / n + 1; dev = round_half_away((n*act - S) / n)
    s = 0
    q = 0
    for i in range(n):
        v = act[i]
        s += v
        q += v * v
    stddev = units.isqrt(n * q - s * s) // n + 1
    n2 = 2 * n
    flags = 0
    for i in range(n):
        d = n * act[i] - s
        if d >= 0:
            dev = (2 * d + n) // n2
            absdev = dev
        else:
            absdev = (n - 2 * d) // n2
            dev = -absdev
        if absdev >= alert_dev:
            flags |= 1 << i
        elif absdev > stddev:
            flags |= 1 << (i + 16)
        old = maxdev[i]
        if absdev > (old if old >= 0 else -old):
            maxdev[i] = dev
    return flags


def collect(st):
    # tick step 4 (spec §5.3), only called when sensor_state is READY
    if _minmax(st.temp_act, st.temp_min, st.temp_max, state.N_MODULES, _TEMP_VALID_MAX):
        s = 0
        for m in range(state.N_MODULES):
            s += st.temp_act[m]
        st.car_tbattery = s // state.N_MODULES - 40  # D2: floor(mean) - 40
        st.car_stale_temps = 120
        f = _deviations(st.temp_act, st.temp_maxdev, state.N_MODULES, _TEMP_ALERT_DEV)
        st.temp_alerts |= f & 0xFFFF
        st.temp_watches |= f >> 16
    p = st.pack_act
    if st.pack_min == 0 or p < st.pack_min:
        st.pack_min = p
    if st.pack_max == 0 or p > st.pack_max:
        st.pack_max = p
    if _minmax(st.cell_act, st.cell_min, st.cell_max, state.N_CELLS, _CELL_VALID_MAX):
        f = _deviations(st.cell_act, st.cell_maxdev, state.N_CELLS, _CELL_ALERT_DEV)
        st.volt_alerts |= f & 0xFFFF
        st.volt_watches |= f >> 16
    if st.volt_alerts != st.last_volt_alerts or st.temp_alerts != st.last_temp_alerts:
        st.notify |= state.NTF_BATTERY_ALERT | state.NTF_BATTERY_STATS
    st.sensor_state = state.SENSORS_START


def mark_notified(st):
    st.last_volt_alerts = st.volt_alerts
    st.last_temp_alerts = st.temp_alerts


def has_alert(st):
    return st.volt_alerts != 0 or st.temp_alerts != 0


# ---- derived pack temperatures (spec §5.4), raw degC+40 -------------------------
def temp_act_round(st):
    s = 0
    for m in range(state.N_MODULES):
        s += st.temp_act[m]
    return (2 * s + state.N_MODULES) // (2 * state.N_MODULES)  # floor(S/7 + 1/2)


def temp_min_all(st):
    r = None
    for m in range(state.N_MODULES):
        v = st.temp_min[m] or st.temp_act[m]
        if r is None or v < r:
            r = v
    return r


def temp_max_all(st):
    r = None
    for m in range(state.N_MODULES):
        v = st.temp_max[m] or st.temp_act[m]
        if r is None or v > r:
            r = v
    return r


def _tag(alerts, watches, i):
    if alerts & (1 << i):
        return "!"
    if watches & (1 << i):
        return "?"
    return ""


def _status_code(alerts, watches):
    # record alert status: 3 alert, 2 watch, 1 nominal
    return 3 if alerts else (2 if watches else 1)


# ---- texts (spec §5.5, §7.4) ----------------------------------------------------
# Each returns a list of SMS texts: a new SMS is started before an entry when
# the text already exceeds 147 characters (D9).
_SPLIT_AT = const(147)


def _append(parts, entry):
    if len(parts[-1]) > _SPLIT_AT:
        parts.append("")
    parts[-1] += entry


def alert_texts(st):
    # "Volts: ?C1:+10mV Temps: OK " (split into several SMS if long)
    parts = ["Volts: "]
    if st.volt_alerts == 0 and st.volt_watches == 0:
        parts[-1] += "OK "
    else:
        for c in range(state.N_CELLS):
            tag = _tag(st.volt_alerts, st.volt_watches, c)
            if tag:
                _append(parts, "%sC%d:%smV " % (tag, c + 1, units.signed(st.cell_maxdev[c] * 5)))
    _append(parts, "Temps: ")
    if st.temp_alerts == 0 and st.temp_watches == 0:
        parts[-1] += "OK "
    else:
        for m in range(state.N_MODULES):
            tag = _tag(st.temp_alerts, st.temp_watches, m)
            if tag:
                _append(parts, "%sM%d:%sC " % (tag, m + 1, units.signed(st.temp_maxdev[m])))
    return parts


def alert_text(st):
    # one string (server push text and MSG 205)
    return "".join(alert_texts(st))


def volt_texts(st, deviations):
    # BATT V / BATT VD
    parts = ["P:%sV " % units.f2(st.pack_act * 10)]
    for c in range(state.N_CELLS):
        tag = _tag(st.volt_alerts, st.volt_watches, c)
        if deviations:
            entry = "%s%d:%smV " % (tag, c + 1, units.signed(st.cell_maxdev[c] * 5))
        else:
            entry = "%s%d:%sV " % (tag, c + 1, units.f3(st.cell_act[c] * 5))
        _append(parts, entry)
    return parts


def temp_text(st, deviations):
    # BATT T / BATT TD
    out = "P:%dC (%dC..%dC) " % (
        temp_act_round(st) - 40,
        temp_min_all(st) - 40,
        temp_max_all(st) - 40,
    )
    for m in range(state.N_MODULES):
        tag = _tag(st.temp_alerts, st.temp_watches, m)
        if deviations:
            out += "%s%d:%sC " % (tag, m + 1, units.signed(st.temp_maxdev[m]))
        else:
            out += "%s%d:%dC " % (tag, m + 1, st.temp_act[m] - 40)
    return out


# ---- history records (spec §8.4, §8.5) ------------------------------------------
def pack_record(st):
    # RT-PWR-BattPack: recno 1 (pack), 14 cells from cell 1, volt/temp status,
    # soc, soc_min, soc_max (1/100 %), pack V act/min/max with per-cell nominal
    # (1/100 V), temp act/min/max (degC)
    pa = st.pack_act * 10
    pn = (st.pack_min or st.pack_act) * 10
    px = (st.pack_max or st.pack_act) * 10
    return "MP-0 HRT-PWR-BattPack,1,86400,14,1,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d" % (
        _status_code(st.volt_alerts, st.volt_watches),
        _status_code(st.temp_alerts, st.temp_watches),
        st.soc,
        st.soc_min,
        st.soc_max,
        pa,
        pa // 14,
        pn,
        pn // 14,
        px,
        px // 14,
        temp_act_round(st) - 40,
        temp_min_all(st) - 40,
        temp_max_all(st) - 40,
    )


def cell_record(st, c):
    # RT-PWR-BattCell for cell c (0-based): recno c+1, pack 1, volt status, temp
    # status of its module, mV act/min/max/maxdev, module degC act/min/max/maxdev
    m = c >> 1
    bit = 1 << c
    mbit = 1 << m
    va = 3 if st.volt_alerts & bit else (2 if st.volt_watches & bit else 1)
    ta = 3 if st.temp_alerts & mbit else (2 if st.temp_watches & mbit else 1)
    act = st.cell_act[c]
    return "MP-0 HRT-PWR-BattCell,%d,86400,1,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d" % (
        c + 1,
        va,
        ta,
        act * 5,
        (st.cell_min[c] or act) * 5,
        (st.cell_max[c] or act) * 5,
        st.cell_maxdev[c] * 5,
        st.temp_act[m] - 40,
        (st.temp_min[m] or st.temp_act[m]) - 40,
        (st.temp_max[m] or st.temp_act[m]) - 40,
        st.temp_maxdev[m],
    )
