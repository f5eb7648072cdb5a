# The Twizy's server commands (spec §8.8): MSG commands 6 and 200-208 of the OVMS v2
# protocol, answered for a Twizy (ovms/twizy/vehicle.py: Twizy.server_command, which
# imports this module for one command and unloads it after, D99).
# Licence: MIT (this project).

from ovms.config import FEATURE_MAXRANGE, FEATURE_SUFFRANGE, FEATURE_SUFFSOC
from ovms.sent import crc_of
from ovms.twizy import battery, charge, power, records, texts
from ovms.twizy.state import N_CELLS
from ovms.units import atoi, hex4


def command(v, code, params):
    # params: text after "C<code>," (or ""). Returns the reply lines (one
    # transmission), or None if the command is not the vehicle's.
    st = v.st
    cfg = v.cfg
    f = cfg.features
    units = cfg.units()
    if code == 6:
        # Decision: also answer "c6,0". The 2013 module sent no c line, which
        # leaves a stale entry in today's server's reply queue (protocol §8.6).
        return ["MP-0 PA" + texts.to_server(v.stat_text()), "MP-0 c6,0"]
    if code == 200:
        if params:
            v.inject(atoi(params))
        return [
            records.environment_d(st),
            "MP-0 c200,0,%s,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d"
            % (
                hex4(st.status),
                hex4(st.car_doors1),
                st.car_chargestate,
                st.speed,
                st.power,
                st.odo,
                st.soc,
                st.soc_min,
                st.soc_max,
                st.range_km,
                st.soc_min_range,
                st.car_estrange,
                st.car_idealrange,
            ),
        ]
    if code == 201:
        return ["MP-0 c201,0,%d" % f[FEATURE_MAXRANGE]]
    if code == 202:
        v.set_feature(FEATURE_MAXRANGE, atoi(params))
        return ["MP-0 c202,0,%d" % f[FEATURE_MAXRANGE]]
    if code == 203 or code == 204:
        if code == 204:
            parts = params.split(",")  # D10: keep empty fields
            v.set_feature(FEATURE_SUFFRANGE, atoi(parts[0]), save=False)
            v.set_feature(FEATURE_SUFFSOC, atoi(parts[1]) if len(parts) > 1 else 0)
        return [
            "MP-0 c%d,0,%d,%d,%d,%d,%d"
            % (
                code,
                f[FEATURE_SUFFRANGE],
                f[FEATURE_SUFFSOC],
                charge.etr_range(st, f, units),
                charge.etr_soc(st, f),
                charge.chargetime(st.soc, charge.SOC_FULL),
            )
        ]
    if code == 205:
        out = []
        if battery.has_alert(st):
            out.append("MP-0 PA" + battery.alert_text(st))
        out.append("MP-0 c205,0")
        return out
    if code == 206:
        if not st.exact and not st.sensor_sets:
            return ["MP-0 c206,1," + texts.NO_BATTERY_DATA]  # D68
        out = [_remember(v, "pack", battery.pack_record(st))]
        for c in range(N_CELLS):
            out.append(_remember(v, c, battery.cell_record(st, c)))
        out.append("MP-0 c206,0")
        return out
    if code == 207:
        return ["MP-0 PA" + v.power_text("\r"), "MP-0 c207,0"]
    if code == 208:
        return [_remember(v, "usage", power.usage_record(st)), "MP-0 c208,0"]
    return None


def _remember(v, kind, text):
    # the record goes out as the reply: the send-on-change memory moves forward
    v.sent.keep(kind, crc_of(text))
    return text
