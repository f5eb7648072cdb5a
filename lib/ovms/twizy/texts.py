# Status, range and charge-alert reply texts (spec §7.1-7.3). Byte-exact.
# Licence: MIT (this project).
#
# Texts are built with "\n" line breaks (the SMS form); the server forms use
# "\r" (to_server()).

# D129: resident; the feature numbers are read as config.FEATURE_X and the charge state's
# line is chosen in stat_text (no dict): 17 names, 17 slots (was 20 names, 23 slots:
# 192 -> 144 bytes, and the dict with its table).

from ovms import config
from ovms.twizy import charge, power, state
from ovms.units import f2, mi2km

# D68 (exact=False): what the owner reads before the car sent the value a text needs
# (the CAN bus is alive only while the car is on or charging). The 2013 module
# showed its power-on placeholders instead: SOC 50.00 %, range 50 km, "P:0.00V".
NO_DATA = "No data from the car yet (switch it on or plug it in)"
NO_BATTERY_DATA = "No battery data yet (switch the car on or plug it in)"


def to_server(text):
    return text.replace("\n", "\r")


def unit_name(units):
    return "mi" if units == "M" else "km"


def user_range(mi, units):
    # internal miles -> displayed range in user units
    return mi if units == "M" else mi2km(mi)


def odometer_user(st, units):
    mi = st.car_odometer // 10
    return mi if units == "M" else mi2km(mi)


def stat_text(st, units):
    # STAT / STAT? and the charge alert text (spec §7.1)
    if not st.exact and not state.soc_known(st):
        return NO_DATA
    full = charge.chargetime(st.soc, charge.SOC_FULL)
    if st.car_doors1 & state.DOORS1_PORT:
        cs = st.car_chargestate
        if cs == state.CHG_CHARGING:
            out = "Charging"
        elif cs == state.CHG_TOPOFF:
            out = "Charging, Topping off"
        elif cs == state.CHG_DONE:
            out = "Charging Done"
        else:
            out = "Charging Stopped"
        # the charge's energy: recovered in the CONST section (speed 0)
        out += "\n CHG: %d Wh" % power.wh(st.speedpwr[state.CONST * state.SLOTS + state.REC])
        if st.car_chargestate != state.CHG_DONE:
            out += "\n Full: %d min." % full
    else:
        out = "Not charging"
        if st.soc < charge.SOC_FULL:
            out += "\n Full charge: %d min." % full
    u = unit_name(units)
    if st.exact or st.car_estrange or st.car_idealrange:
        # D65: no Range line while the car has not reported a range (a charge
        # started with the module: 0x599 is refused while charging)
        out += "\n Range: %d - %d %s" % (
            user_range(st.car_estrange, units),
            user_range(st.car_idealrange, units),
            u,
        )
    out += "\n SOC: %s%% (%s%%..%s%%)" % (f2(st.soc), f2(st.soc_min), f2(st.soc_max))
    out += "\n ODO: %d %s" % (odometer_user(st, units), u)
    return out


def range_text(features, units):
    # RANGE / RANGE? reply (spec §7.2)
    if features[config.FEATURE_MAXRANGE] == 0:
        return "Max ideal range: UNSET"
    return "Max ideal range: %d %s" % (features[config.FEATURE_MAXRANGE], unit_name(units))


def ca_text(st, features, units):
    # CA / CA? reply (spec §7.3, D4)
    f10 = features[config.FEATURE_SUFFSOC]  # %
    f11 = features[config.FEATURE_SUFFRANGE]  # user units
    out = "Charge Alert: "
    if f10 == 0 and f11 == 0:
        out += "OFF"
    else:
        if f10 > 0:
            out += "%d%%" % f10
        if f10 > 0 and f11 > 0:
            out += " or "
        if f11 > 0:
            out += "%d %s" % (f11, unit_name(units))
        if not st.exact and not state.soc_known(st):
            return out + "\n " + NO_DATA  # D68: no times from the placeholder SOC
        e_soc = charge.etr_soc(st, features)
        e_range = charge.etr_range(st, features, units)
        if e_range > 0 and (e_soc == 0 or e_range < e_soc):
            t = e_range
        elif e_soc > 0:
            t = e_soc
        else:
            t = 0
        out += "\n Time: %d min." % t
    if not st.exact and not state.soc_known(st):
        return out + "\n " + NO_DATA
    out += "\n Full charge: %d min." % charge.chargetime(st.soc, charge.SOC_FULL)
    return out
