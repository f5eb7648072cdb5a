# The Twizy's values as OVMS v3 metrics (names and units of OVMS v3's standard metrics),
# for the MQTT uplink (lib/ovms/mqtt, firmware/tasks/mqtt.py). Pure.
# Licence: MIT (this project).
#
#   for name, text in values(vehicle): ...   # ("v.b.soc", "85.50"), ("v.e.on", "no") ...
#
# Units as OVMS v3 publishes them over MQTT (plain numbers in the metric's base unit,
# no unit text): % for SOC, km for ranges and the odometer, V, A, kW, degC, m, km/h,
# dBm for m.net.sq; booleans "yes"/"no"; vectors (cells, modules) comma-separated.
# Numbers are formatted from integers (no float: the same text on every runtime).
# TABLE: (name, unit, Home Assistant device_class or "", slow, label). slow = 1: values
# that jitter (cell voltages and temperatures) go at the slow cadence.
# D79 (what is published): what the Twizy has no sensor for is left out, not sent as 0
# (no v.b.soh; no v.c.voltage/current of the mains side: the S record's "230 V, 10 A"
# are the 2013 constants, not measurements). v.b.range.est is the car's own estimate
# (CAN), ideal the range at full charge scaled by SOC (twizy-vehicle.md), both in km
# whatever the owner's units (OVMS v3's metrics are in base units; apps convert).
# v.c.state is the v2 S record's state text ("charging", "topoff", "done", "stopped").

from ovms.config import FEATURE_SUFFSOC
from ovms.twizy.state import (
    CHG_CHARGING,
    CHG_DONE,
    CHG_TOPOFF,
    DOORS1_CARON,
    DOORS1_CHARGING,
    DOORS1_PORT,
    N_CELLS,
    N_MODULES,
)
from ovms.units import mi2km, tdiv

TYPE = "RT"  # OVMS v3's vehicle type code of the Twizy

TABLE = (
    ("v.b.soc", "%", "battery", 0, "State of charge"),
    ("v.b.range.est", "km", "distance", 0, "Estimated range"),
    ("v.b.range.ideal", "km", "distance", 0, "Ideal range"),
    ("v.b.voltage", "V", "voltage", 0, "Battery voltage"),
    ("v.b.current", "A", "current", 0, "Battery current"),
    ("v.b.power", "kW", "power", 0, "Battery power"),
    ("v.b.temp", "°C", "temperature", 0, "Battery temperature"),
    ("v.b.12v.voltage", "V", "voltage", 0, "12 V battery"),
    ("v.b.c.voltage", "V", "", 1, "Cell voltages"),
    ("v.b.c.temp", "°C", "", 1, "Module temperatures"),
    ("v.c.charging", "", "battery_charging", 0, "Charging"),
    ("v.c.state", "", "", 0, "Charge state"),
    ("v.c.pilot", "", "plug", 0, "Plugged in"),
    ("v.c.limit.soc", "%", "battery", 0, "Sufficient SOC"),
    ("v.p.latitude", "°", "", 0, "Latitude"),
    ("v.p.longitude", "°", "", 0, "Longitude"),
    ("v.p.altitude", "m", "distance", 0, "Altitude"),
    ("v.p.direction", "°", "", 0, "Direction"),
    ("v.p.gpslock", "", "", 0, "GPS lock"),
    ("v.p.speed", "km/h", "speed", 0, "Speed"),
    ("v.p.odometer", "km", "distance", 0, "Odometer"),
    ("v.m.temp", "°C", "temperature", 0, "Motor temperature"),
    ("v.i.temp", "°C", "temperature", 0, "Inverter temperature"),
    ("v.e.on", "", "power", 0, "Switched on"),
    ("v.type", "", "", 0, "Vehicle type"),
    ("m.net.sq", "dBm", "signal_strength", 0, "GSM signal"),
)
BOOLEANS = ("v.c.charging", "v.c.pilot", "v.p.gpslock", "v.e.on")
_STATE = {CHG_CHARGING: "charging", CHG_TOPOFF: "topoff", CHG_DONE: "done"}


def fixed(n, places):
    # integer n in units of 10^-places -> "-12.34"
    if places == 0:
        return "%d" % n
    sign = "-" if n < 0 else ""
    n = -n if n < 0 else n
    d = 10**places
    frac = "%d" % (n % d)
    return "%s%d.%s%s" % (sign, n // d, "0" * (places - len(frac)), frac)


def _yes(b):
    return "yes" if b else "no"


def values(v):
    # -> [(name, text)] in TABLE order; D79: a value the car has not sent yet is left out
    # (no retained 0 V or 50 % placeholders on the broker): the CAN values after the
    # first decoded frame, the battery pack, cells and current after the first complete
    # sensor set, the position after the first GPS fix, 12 V and the GSM signal once
    # measured
    st = v.st
    out = []
    if st.frames:
        _car(v, st, out)
    if st.stale_gps != -1:
        out.append(("v.p.latitude", fixed(st.lat_e6, 6)))
        out.append(("v.p.longitude", fixed(st.lon_e6, 6)))
        out.append(("v.p.altitude", "%d" % st.altitude))
        out.append(("v.p.direction", "%d" % st.direction))
    out.append(("v.p.gpslock", _yes(st.gpslock)))
    if st.v12_dv:
        out.append(("v.b.12v.voltage", fixed(st.v12_dv, 1)))
    out.append(("v.c.limit.soc", "%d" % v.cfg.features[FEATURE_SUFFSOC]))
    out.append(("v.type", TYPE))
    if 0 < st.net_sq < 32:
        out.append(("m.net.sq", "%d" % (-113 + 2 * st.net_sq)))
    order = _ORDER
    out.sort(key=lambda e: order[e[0]])
    return out


def _car(v, st, out):
    doors = st.car_doors1
    out.append(("v.b.soc", fixed(st.soc, 2)))
    out.append(("v.b.range.est", "%d" % st.range_km))
    out.append(("v.b.range.ideal", "%d" % mi2km(st.car_idealrange)))
    if st.sensor_sets:
        pack_dv = st.pack_act  # 1/10 V
        power_w = st.power * 16  # units of 16 W, + = drawn from the battery
        current_da = tdiv(power_w * 100, pack_dv) if pack_dv else 0  # 1/10 A, toward 0
        out.append(("v.b.voltage", fixed(pack_dv, 1)))
        out.append(("v.b.current", fixed(current_da, 1)))
        out.append(("v.b.power", fixed(power_w, 3)))
        cells = ",".join([fixed(st.cell_act[c] * 5, 3) for c in range(N_CELLS)])  # 1/200 V
        out.append(("v.b.c.voltage", cells))
        out.append(
            ("v.b.c.temp", ",".join(["%d" % (st.temp_act[m] - 40) for m in range(N_MODULES)]))
        )
    out.append(("v.b.temp", "%d" % st.car_tbattery))
    out.append(("v.c.charging", _yes(st.car_chargestate in (CHG_CHARGING, CHG_TOPOFF))))
    out.append(("v.c.state", _STATE.get(st.car_chargestate, "stopped")))
    out.append(("v.c.pilot", _yes(doors & (DOORS1_PORT | DOORS1_CHARGING))))
    out.append(("v.p.speed", fixed(st.speed, 2)))
    out.append(("v.p.odometer", fixed(st.odo, 2)))
    out.append(("v.m.temp", "%d" % st.car_tmotor))
    out.append(("v.i.temp", "%d" % st.car_tpem))
    out.append(("v.e.on", _yes(doors & DOORS1_CARON)))


_ORDER = {}
for _i in range(len(TABLE)):
    _ORDER[TABLE[_i][0]] = _i
