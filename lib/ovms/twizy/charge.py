# Ranges, charge state machine and charge time estimation (spec §2.2, §3.3, §4).
# Licence: MIT (this project).

from ovms.config import FEATURE_MAXRANGE, FEATURE_SUFFRANGE, FEATURE_SUFFSOC
from ovms.twizy import power, state
from ovms.units import km2mi

SOC_FULL = const(10000)  # 100.00 % (SOC in 1/100 %)
_CV_SOC = const(9400)  # constant-voltage ("topping off") phase starts at 94.00 %
_CC_SPAN = const(_CV_SOC)  # 9400: width of the constant-current phase, 0 -> 94 %
_CV_SPAN = const(SOC_FULL - _CV_SOC)  # 600: width of the CV phase, 94 -> 100 %
_T_CC = const(180)  # minutes for the CC phase (0 -> 94 %)
_T_CV = const(40)  # minutes for the CV phase (94 -> 100 %)


def chargetime(soc, dst):
    # minutes from soc to dst (both 1/100 %), each phase rounded half up
    if dst > SOC_FULL:  # D12: clamp before use
        dst = SOC_FULL
    if dst < 0:
        dst = 0
    if soc >= dst:
        return 0
    m = 0
    # minutes = share of the phase's width x the phase's minutes, rounded half up
    if dst > _CV_SOC:
        if soc < _CV_SOC:
            m += ((dst - _CV_SOC) * _T_CV + _CV_SPAN // 2) // _CV_SPAN
        else:
            m += ((dst - soc) * _T_CV + _CV_SPAN // 2) // _CV_SPAN
        dst = _CV_SOC
    if soc < dst:
        m += ((dst - soc) * _T_CC + _CC_SPAN // 2) // _CC_SPAN
    return m


def max_range_user(st, features, units):
    # maximum range at 100 % in user units (spec §4.2)
    if features[FEATURE_MAXRANGE] > 0:
        return features[FEATURE_MAXRANGE]
    if st.soc_min > 0 and st.soc_min_range > 0:
        mr = (st.soc_min_range * SOC_FULL) // st.soc_min  # km (D1: integer)
        return km2mi(mr) if units == "M" else mr
    return 0


def etr_soc(st, features):
    suff_soc = features[FEATURE_SUFFSOC]  # %
    return chargetime(st.soc, suff_soc * 100) if suff_soc > 0 else 0


def etr_range(st, features, units):
    suff_range = features[FEATURE_SUFFRANGE]  # user units
    if suff_range <= 0:
        return 0
    mr = max_range_user(st, features, units)
    return chargetime(st.soc, (suff_range * SOC_FULL) // mr) if mr > 0 else 0


def tick(st, suff_soc, suff_range_mi, max_range_mi):
    # tick step 6: ranges and the charge state machine (spec §2.2, §3.3)
    exact = st.exact
    if not exact and st.soc_min_range == 0 and st.range_km > 0:
        # D65: the minimum SOC was recorded before the car reported a range (at
        # switch-on 0x155 turns valid while 0x597 still says offline and 0x599 is
        # refused): the first real range stands for it, never the 2013 placeholder
        st.soc_min_range = st.range_km
    if st.car_doors1 & state.DOORS1_CHARGING:
        soc = st.soc
        cur_pct = soc // 100
        if st.soc_min_range > 0 and soc > 0 and st.soc_min > 0:
            st.range_km = (st.soc_min_range * soc) // st.soc_min
            if st.range_km > 0:
                st.car_estrange = km2mi(st.range_km)
            _ideal(st, max_range_mi)
        if st.car_chargestate == state.CHG_STOPPED:
            st.requests |= state.REQ_CHARGE  # charge resumed
        if st.car_chargestate > state.CHG_TOPOFF:
            # a charge starts. D67: when it only resumes a stop younger than
            # CHG_HOLD_S (one offline 0x597 frame), the charge goes on: its state,
            # CHG and the SOC maximum are kept
            flicker = not exact and st.tick - st.chg_change_tick < state.CHG_HOLD_S
            if not exact:
                _changed(st)
            if flicker:
                st.car_chargestate = st.chg_state_before
            else:
                st.car_chargestate = state.CHG_CHARGING
                if exact or state.soc_known(st):  # D68: never the 50 % placeholder
                    st.soc_max = soc
                power.reset(st)
            st.requests |= state.REQ_STAT
        elif (soc > 0 and suff_soc > 0 and cur_pct >= suff_soc and st.last_soc_pct < suff_soc) or (
            st.range_km > 0
            and suff_range_mi > 0
            and st.car_idealrange >= suff_range_mi
            and st.last_ideal_mi < suff_range_mi
        ):
            # sufficient charge reached (once per upward crossing)
            st.car_chargestate = state.CHG_TOPOFF
            st.requests |= state.REQ_CHARGE | state.REQ_STAT
            st.chg_alert_keep = True  # not a state change: never dropped (D67)
        elif st.car_chargestate != state.CHG_TOPOFF and soc >= _CV_SOC:
            st.car_chargestate = state.CHG_TOPOFF
            st.requests |= state.REQ_STAT
        st.last_soc_pct = cur_pct
        st.last_ideal_mi = st.car_idealrange
    else:
        if st.range_km > 0:
            st.car_estrange = km2mi(st.range_km)
            _ideal(st, max_range_mi)
        if st.car_chargestate <= state.CHG_TOPOFF:
            # a charge just ended
            if not exact:
                _changed(st)
                st.chg_state_before = st.car_chargestate
            st.car_chargestate = state.CHG_DONE if st.soc_max >= SOC_FULL else state.CHG_STOPPED
            st.requests |= state.REQ_CHARGE | state.REQ_STAT
        elif st.car_doors1 & (state.DOORS1_CARON | state.DOORS1_CHARGING | state.DOORS1_PORT) == (
            state.DOORS1_CARON | state.DOORS1_PORT
        ):
            # first switch-on after a charge: clean up
            st.car_doors1 &= ~state.DOORS1_PORT
            st.car_chargestate = state.CHG_DONE
            if exact or state.soc_known(st):  # D68: never the 50 % placeholder
                st.soc_min = st.soc
                st.soc_min_range = st.range_km


def _changed(st):
    # D67: a charging <-> not charging change at this tick. The alerts it raises are
    # held (ovms.twizy.notify) until no change happened for CHG_HOLD_S ticks; the
    # phase before the first change of such a run tells a real change from a flicker.
    if st.tick - st.chg_change_tick >= state.CHG_HOLD_S:
        st.chg_hold_from = state.charging_phase(st)
    st.chg_change_tick = st.tick


def _ideal(st, max_range_mi):
    if max_range_mi > 0:
        st.car_idealrange = (max_range_mi * st.soc) // SOC_FULL
    else:
        st.car_idealrange = st.car_estrange
