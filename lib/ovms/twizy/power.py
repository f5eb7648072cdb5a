# Power statistics: speed and level sections, report text, usage record (spec §6).
# Licence: MIT (this project).
#
# Energy unit: one 0x155 frame (10 ms) of `power` (16 W units) = 0.16 Ws, so
# Wh = sum / 22500. The per-frame accumulation lives in frames.py (0x155).

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


from ovms.twizy.state import CONST, DOWN, UP
from ovms.units import tdiv

WH = const(22500)  # accumulator units per Wh
_MIN_SECTION_M = const(100)  # level section length
_GRADE_PCT = const(1)  # level threshold, %


def reset(st):
    # at switch-on and at charge start (spec §6.1)
    for i in range(9):
        st.speedpwr[i] = 0
    for i in range(6):
        st.levelpwr[i] = 0
    st.level_use = 0
    st.level_rec = 0
    st.level_ref = False
    st.speed_state = CONST


def use_total(st):
    sp = st.speedpwr
    return sp[1] + sp[4] + sp[7]


def level_tick(st):
    # tick step 5 (spec §6.3): close a level section every >= 100 m driven
    if not st.status & 0x10:  # key off
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
        i = UP * 3
        lp[i] += alt_diff
    elif grade <= -_GRADE_PCT:
        i = DOWN * 3
        lp[i] -= alt_diff
    else:
        return  # flat: the collected energy is discarded
    lp[i + 1] += cu
    lp[i + 2] += cr


def _wh(x):
    return (x + WH // 2) // WH


def report_text(st, nl="\n"):
    # POWER reply / switch-off report; nl = "\r" for the server push
    sp = st.speedpwr
    lp = st.levelpwr
    cnt_t = sp[0] + sp[3] + sp[6]
    use_t = sp[1] + sp[4] + sp[7]
    rec_t = sp[2] + sp[5] + sp[8]
    out = "Power -%d +%d Wh" % (_wh(use_t), _wh(rec_t))
    for name, s in (("Const", 0), ("Accel", 3), ("Decel", 6)):
        pct = ((sp[s] * 1000) // cnt_t + 5) // 10 if cnt_t else 0
        out += "%s %s %d%% -%d +%d Wh" % (nl, name, pct, _wh(sp[s + 1]), _wh(sp[s + 2]))
    for name, s in (("Up", 0), ("Down", 3)):
        out += "%s %s %dm -%d +%d Wh" % (nl, name, lp[s], _wh(lp[s + 1]), _wh(lp[s + 2]))
    return out


def usage_record(st):
    # RT-PWR-UsageStats: cnt/use/rec for CONST, ACCEL, DECEL, then hsum/use/rec
    # for UP, DOWN — the raw accumulators (recno 0)
    vals = list(st.speedpwr) + list(st.levelpwr)
    return "MP-0 HRT-PWR-UsageStats,0,86400," + ",".join(["%d" % v for v in vals])
