# Power statistics: speed and level sections, report text, usage record (spec §6).
# Licence: MIT (this project).
#
# Energy unit: one 0x155 frame (10 ms) of `power` (16 W units) = 0.16 Ws, so
# Wh = sum / 22500. The per-frame accumulation lives in frames.py (0x155).

from ovms.compat import const
from ovms.twizy.state import (
    ACCEL,
    CNT,
    CONST,
    DECEL,
    DOWN,
    HSUM,
    N_LEVEL,
    N_SPEED,
    REC,
    SLOTS,
    STATUS_KEYON,
    UP,
    USE,
)
from ovms.units import tdiv

WH = const(22500)  # accumulator units per Wh
_MIN_SECTION_M = const(100)  # level section length
_GRADE_PCT = const(1)  # level threshold, %


def reset(st):
    # at switch-on and at charge start (spec §6.1)
    for i in range(N_SPEED * SLOTS):
        st.speedpwr[i] = 0
    for i in range(N_LEVEL * SLOTS):
        st.levelpwr[i] = 0
    st.level_use = 0
    st.level_rec = 0
    st.level_ref = False
    st.speed_state = CONST


def use_total(st):
    return _sum(st.speedpwr, USE)


def _sum(sp, slot):
    # one slot (CNT, USE or REC) summed over the speed sections CONST, ACCEL, DECEL
    return sp[CONST * SLOTS + slot] + sp[ACCEL * SLOTS + slot] + sp[DECEL * SLOTS + slot]


def level_tick(st):
    # tick step 5 (spec §6.3): close a level section every >= 100 m driven
    if not st.status & STATUS_KEYON:  # key off
        return
    if st.stale_gps <= 0:  # D11: never-fixed (-1) counts as stale
        st.level_ref = False
        return
    if not st.level_ref:
        st.level_ref = True
        st.ref_odo = st.odo
        st.ref_alt = st.altitude
        st.level_use = 0
        st.level_rec = 0
        return
    dist_m = (st.odo - st.ref_odo) * 10
    if dist_m < _MIN_SECTION_M:
        return
    cu = st.level_use
    cr = st.level_rec
    st.level_use = 0
    st.level_rec = 0
    alt_diff = st.altitude - st.ref_alt
    grade = tdiv(alt_diff * 100, dist_m)  # truncating: -100/150 is 0, not -1
    st.ref_odo = st.odo
    st.ref_alt = st.altitude
    lp = st.levelpwr
    if grade >= _GRADE_PCT:
        i = UP * SLOTS
        lp[i + HSUM] += alt_diff
    elif grade <= -_GRADE_PCT:
        i = DOWN * SLOTS
        lp[i + HSUM] -= alt_diff
    else:
        return  # flat: the collected energy is discarded
    lp[i + USE] += cu
    lp[i + REC] += cr


def wh(x):
    # accumulator units -> whole Wh, rounded half up
    return (x + WH // 2) // WH


def report_text(st, nl="\n"):
    # POWER reply / switch-off report; nl = "\r" for the server push
    sp = st.speedpwr
    lp = st.levelpwr
    cnt_t = _sum(sp, CNT)
    out = "Power -%d +%d Wh" % (wh(_sum(sp, USE)), wh(_sum(sp, REC)))
    for name, k in (("Const", CONST), ("Accel", ACCEL), ("Decel", DECEL)):
        s = k * SLOTS
        pct = ((sp[s + CNT] * 1000) // cnt_t + 5) // 10 if cnt_t else 0
        out += "%s %s %d%% -%d +%d Wh" % (nl, name, pct, wh(sp[s + USE]), wh(sp[s + REC]))
    for name, k in (("Up", UP), ("Down", DOWN)):
        s = k * SLOTS
        out += "%s %s %dm -%d +%d Wh" % (nl, name, lp[s + HSUM], wh(lp[s + USE]), wh(lp[s + REC]))
    return out


def usage_record(st):
    # RT-PWR-UsageStats: cnt/use/rec for CONST, ACCEL, DECEL, then hsum/use/rec
    # for UP, DOWN — the raw accumulators (recno 0)
    vals = list(st.speedpwr) + list(st.levelpwr)
    return "MP-0 HRT-PWR-UsageStats,0,86400," + ",".join(["%d" % v for v in vals])
