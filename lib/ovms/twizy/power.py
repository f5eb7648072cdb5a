# Power statistics: speed and level sections, report text, usage record (spec §6).
# Licence: MIT (this project).
#
# Energy unit: one 0x155 frame (10 ms) of `power` (16 W units) = 0.16 Ws, so
# Wh = sum / 22500. The per-frame accumulation lives in frames.py (0x155).

from ovms.twizy import state
from ovms.units import tdiv

WH = const(22500)  # accumulator units per Wh
_MIN_SECTION_M = const(100)  # level section length
_GRADE_PCT = const(1)  # level threshold, %


def reset(st):
    # at switch-on and at charge start (spec §6.1)
    for i in range(len(st.speedpwr)):
        st.speedpwr[i] = 0
    for i in range(len(st.levelpwr)):
        st.levelpwr[i] = 0
    st.level_use = 0
    st.level_rec = 0
    st.level_ref = False
    st.speed_state = state.CONST


def use_total(st):
    return _sum(st.speedpwr, state.USE)


def _sum(sp, slot):
    # one slot (CNT, USE or REC) summed over the speed sections CONST, ACCEL, DECEL
    return (
        sp[state.CONST * state.SLOTS + slot]
        + sp[state.ACCEL * state.SLOTS + slot]
        + sp[state.DECEL * state.SLOTS + slot]
    )


def level_tick(st):
    # tick step 5 (spec §6.3): close a level section every >= 100 m driven
    if not st.status & state.STATUS_KEYON:  # key off
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
        i = state.UP * state.SLOTS
        lp[i + state.HSUM] += alt_diff
    elif grade <= -_GRADE_PCT:
        i = state.DOWN * state.SLOTS
        lp[i + state.HSUM] -= alt_diff
    else:
        return  # flat: the collected energy is discarded
    lp[i + state.USE] += cu
    lp[i + state.REC] += cr


def wh(x):
    # accumulator units -> whole Wh, rounded half up
    return (x + WH // 2) // WH


def report_text(st, nl="\n"):
    # POWER reply / switch-off report; nl = "\r" for the server push
    sp = st.speedpwr
    lp = st.levelpwr
    cnt_t = _sum(sp, state.CNT)
    out = "Power -%d +%d Wh" % (wh(_sum(sp, state.USE)), wh(_sum(sp, state.REC)))
    for name, k in (("Const", state.CONST), ("Accel", state.ACCEL), ("Decel", state.DECEL)):
        s = k * state.SLOTS
        pct = ((sp[s + state.CNT] * 1000) // cnt_t + 5) // 10 if cnt_t else 0
        out += "%s %s %d%% -%d +%d Wh" % (
            nl,
            name,
            pct,
            wh(sp[s + state.USE]),
            wh(sp[s + state.REC]),
        )
    for name, k in (("Up", state.UP), ("Down", state.DOWN)):
        s = k * state.SLOTS
        out += "%s %s %dm -%d +%d Wh" % (
            nl,
            name,
            lp[s + state.HSUM],
            wh(lp[s + state.USE]),
            wh(lp[s + state.REC]),
        )
    return out


def usage_record(st):
    # RT-PWR-UsageStats: cnt/use/rec for CONST, ACCEL, DECEL, then hsum/use/rec
    # for UP, DOWN — the raw accumulators (recno 0)
    vals = list(st.speedpwr) + list(st.levelpwr)
    return "MP-0 HRT-PWR-UsageStats,0,86400," + ",".join(["%d" % v for v in vals])
