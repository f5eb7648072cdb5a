# Server record lines the Twizy module produces (spec §8.2, §8.7).
# Licence: MIT (this project).
#
# All return the clear "MP-0 ..." text; encryption is the transport's job.

#
# D129: resident; the S record's state text is chosen in status_s (no dict: the dict and
# its table are 48 bytes, the name a slot): 11 names, 12 slots.

from ovms.twizy import state, texts
from ovms.units import degrees

_CAPABILITIES = const("MP-0 VC6,C200-208,C1-6,C40-41,C49")


def gps_log(st):
    # RT-GPS-Log: recno = odometer 1/10 mi; lat, lon, altitude m, direction deg,
    # speed (user units/h), fix 0/1, GPS stale counter, GSM signal 0..31
    return "MP-0 HRT-GPS-Log,%d,86400,%s,%s,%d,%d,%d,%d,%d,%d" % (
        st.car_odometer,
        degrees(st.lat_e6),
        degrees(st.lon_e6),
        st.altitude,
        st.direction,
        st.car_speed,
        st.gpslock,
        st.stale_gps,
        st.net_sq,
    )


def announce(st):
    # D68, once a tick: the first status with a valid SOC goes to the server at once,
    # when the car is past its switch-on phase (0x597 b1 with 0xC0 set: offline; the
    # car always sets 0x80, so 0x40 alone = no 0x597 yet). No S record before.
    if (
        not st.soc_announced
        and state.soc_known(st)
        and st.status & state.STATUS_PHASE != state.STATUS_PHASE
    ):
        st.soc_announced = True
        if not st.exact:
            st.requests |= state.REQ_STAT


def status_ready(st):
    # D68: with exact=False no S record goes out before a tick saw a valid SOC, the
    # car past its switch-on phase (the 2013 module sent its placeholders: 50 %, 50 km)
    return st.exact or st.soc_announced


def status_s(st, units):
    # S: soc, units, line voltage 230, current 10, state text, mode, ideal, est,
    # limit, duration, B4, kWh, substate, state, mode, timer mode, start, stale
    cs = st.car_chargestate
    if cs == state.CHG_CHARGING:
        text = "charging"
    elif cs == state.CHG_TOPOFF:
        text = "topoff"
    elif cs == state.CHG_DONE:
        text = "done"
    else:
        text = "stopped"
    return "MP-0 S%d,%s,230,10,%s,standard,%d,%d,0,0,0,0,0,%d,0,0,0,-1" % (
        st.car_soc,
        units,
        text,
        texts.user_range(st.car_idealrange, units),
        texts.user_range(st.car_estrange, units),
        cs,
    )


def environment_d(st):
    # D: doors1, doors2, lock, tpem, tmotor, tbattery, trip, odometer (1/10 mi),
    # speed, park, ambient, doors3, stale temps, stale ambient, 12 V, doors4
    return "MP-0 D%d,0,0,%d,%d,%d,0,%d,%d,0,-127,0,%d,-1,%d.%d,0" % (
        st.car_doors1,
        st.car_tpem,
        st.car_tmotor,
        st.car_tbattery,
        st.car_odometer,
        st.car_speed,
        st.car_stale_temps,
        st.v12_dv // 10,
        st.v12_dv % 10,
    )


def server_record(st, units, code):
    # the vehicle's hook for the v2 protocol's status set (ovms/v2/periodic.py): the S,
    # D and V texts, None when there is none now (D68: no S record of placeholders)
    if code == "S":
        return status_s(st, units) if status_ready(st) else None
    if code == "D":
        return environment_d(st)
    if code == "V":
        return _CAPABILITIES
    return None
