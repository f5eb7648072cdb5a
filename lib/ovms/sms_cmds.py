# The framework SMS command bodies (spec §5): one function per entry of
# ovms.sms_table.TABLE. Licence: MIT (this project).
#
# D98: not resident. ovms.sms_run (the SMS interpreter's per-SMS code) loads this module
# (ovms.lazy) when it runs one of these commands and unloads it right after, so its ~2 KB
# of heap (globals, function objects) are back for the rest of the day: SMS commands come
# a few times a day. Keep it that way: nothing outside ovms.sms_run imports it, and
# nothing here keeps state between commands (it would be lost with the module).
#
# Each handler is f(fw, sender, word, args): fw is the running SmsInterpreter, read
# only (its cfg, net, vehicle, version, hardware, on_reset, _undo; the helpers below
# take it as their first argument); args have the password already removed. It returns
# the reply texts ([] = no reply).
#
# D39: every value a command would store is checked first (ovms.config
# check_param / check_feature, ovms.sms_guard password_error): a bad value gets an
# "Error: ..." reply naming the slot and nothing changes (no clipping). The byte-
# exact replies of the spec stay as they are for every value that passes.
# - REGISTER stores the sender's normalised number (D36); a sender that is no
#   phone number gets ERR_NUMBER.
# - PASS and AP need a password of at least 6 printable ASCII characters
#   (AP "-" still empties it: password access off).
# - AP replies only when it refuses (spec: no reply).
# - The vehicle's setters RANGE and CA are checked before the vehicle runs them
#   (ovms.sms_run.vehicle_error): range 0-500, SOC 0-100 %, CA at most two values.

from ovms import smsout
from ovms.car import CHG_CHARGING, CHG_DONE, CHG_HEATING, CHG_PREPARING, CHG_TOPOFF, DOORS1_PORT
from ovms.config import (
    FEATURE_CANWRITE,
    N_FEATURES,
    N_PARAMS,
    PARAM_GPRSAPN,
    PARAM_GPRSPASS,
    PARAM_GPRSUSER,
    PARAM_GSMLOCK,
    PARAM_MILESKM,
    PARAM_MODULEPASS,
    PARAM_NOTIFIES,
    PARAM_PARANOID,
    PARAM_REGPHONE,
    PARAM_SERVERIP,
    PARAM_SERVERPASS,
    PARAM_VEHICLEID,
    PARAM_VEHICLETYPE,
    check_feature,
    check_param,
)
from ovms.sms import save_or_rollback
from ovms.sms_auth import normal_number
from ovms.sms_guard import password_error
from ovms.sms_run import upper
from ovms.sms_table import ERR_NOT_SAVED, ERR_NUMBER, HELP_TEXT, NOT_SUPPORTED
from ovms.units import degrees, digits, hex4, mi2km

_CHARGE_MODES = ("STA", "STO", "RAN", "PER")


# ---- helpers for the setting commands (here, not on the interpreter: not resident) ----
def _p(fw, n):
    return fw.cfg.params[n]


def _set(fw, n, text):
    fw.cfg.set_param(n, text, save=False)


def _commit(fw, reinit=False, net=False):
    # save, then tell the wiring; False if the flash write failed, and then the
    # parameters are put back as they were before the command (fw._undo)
    if not save_or_rollback(fw.cfg, fw._undo):
        return False
    if reinit and fw.on_vehicle_reinit is not None:
        fw.on_vehicle_reinit()
    if net and fw.on_net_change is not None:
        fw.on_net_change()
    return True


class _NoState:
    # stands in for vehicle.st without a vehicle: every value 0
    def __getattr__(self, name):
        return 0


def _state(fw):
    v = fw.vehicle
    return v.st if v is not None else _NoState()


# generic status text (spec §6), used only without a vehicle STAT handler
_GEN_MODES = {0: "Standard", 1: "Storage", 3: "Range", 4: "Performance"}
_GEN_STATES = {
    CHG_CHARGING: "Charging",
    CHG_TOPOFF: "Charging, Topping off",
    CHG_DONE: "Charging Done",
    CHG_PREPARING: "Preparing",
    CHG_HEATING: "Charging, Heating",
}


def _checked(pairs):
    # [(slot, value)] -> the first error reply, or None when all may be stored
    for n, v in pairs:
        err = check_param(n, v)
        if err:
            return err
    return None


def register_q(fw, sender, word, args):
    return ["Registered number: " + _p(fw, PARAM_REGPHONE)]


def register(fw, sender, word, args):
    number = normal_number(sender)
    if number is None:
        return [ERR_NUMBER]
    _set(fw, PARAM_REGPHONE, number)
    if not _commit(fw):
        return [ERR_NOT_SAVED]
    return ["Your phone has been registered as the owner."]


def pass_q(fw, sender, word, args):
    return ["Module password: " + _p(fw, PARAM_MODULEPASS)]


def pass_(fw, sender, word, args):
    err = check_param(PARAM_MODULEPASS, args[0]) or password_error(args[0])
    if err:
        return [err]
    _set(fw, PARAM_MODULEPASS, args[0])
    if not _commit(fw):
        return [ERR_NOT_SAVED]
    return ["Module password has been changed."]


def gps(fw, sender, word, args):
    st = _state(fw)
    return [
        "Car location:\r\nhttps://maps.google.com/maps?q=%s,%s"
        % (degrees(st.lat_e6), degrees(st.lon_e6))
    ]


def stat(fw, sender, word, args):
    # generic text (spec §6); the Twizy replaces it (ovms.sms_run.VEHICLE_REPLACES)
    st = _state(fw)
    if st.car_doors1 & DOORS1_PORT:
        mode = _GEN_MODES.get(st.car_chargemode)
        state = _GEN_STATES.get(st.car_chargestate, "Charging Stopped")
        first = (mode + " - " + state) if mode else state
    else:
        first = "Not charging"
    est = st.car_estrange
    ideal = st.car_idealrange
    odo = st.car_odometer // 10
    unit = "mi"
    if fw.cfg.units() == "K":
        est, ideal, odo, unit = mi2km(est), mi2km(ideal), mi2km(odo), "km"
    return [
        "%s\n Range: %d - %d %s\n SOC: %d%%\n ODO: %d %s"
        % (first, est, ideal, unit, st.car_soc, odo, unit)
    ]


def params_q(fw, sender, word, args):
    # "Params:" + "\n<k>:<value>" per non-empty slot, a new SMS (again
    # starting "Params:") before one would exceed 160 septets
    entries = []
    for k in range(N_PARAMS):
        v = _p(fw, k)
        if v:
            entries.append("\n%d:%s" % (k, v))
    return listing("Params:", entries)


def params(fw, sender, word, args):
    pairs = [(2 + i, _dash(args[i])) for i in range(min(len(args), N_PARAMS - 2))]
    err = _checked(pairs)
    if err:
        return [err]
    for n, v in pairs:
        _set(fw, n, v)
    if not _commit(fw, reinit=True, net=True):
        return [ERR_NOT_SAVED]
    return ["Parameters have been set."]


def ap(fw, sender, word, args):
    # auto-provision: parameters 0, 1, 2, ... ; no reply unless refused
    pairs = [(i, _dash(args[i])) for i in range(min(len(args), N_PARAMS))]
    for i in range(len(pairs)):
        n, v = pairs[i]
        if n == PARAM_REGPHONE and v != "":
            number = normal_number(v)
            if number is None:
                return [ERR_NUMBER]
            pairs[i] = (n, number)
        elif n == PARAM_MODULEPASS and v != "":
            err = password_error(v)
            if err:
                return [err]
    err = _checked(pairs)
    if err:
        return [err]
    for n, v in pairs:
        _set(fw, n, v)
    if not _commit(fw, reinit=True, net=True):
        return [ERR_NOT_SAVED]
    return []


def _module_text(fw):
    return "Module:\r\n VehicleID:%s\r\n VehicleType:%s\r\n Units:%s\r\n Notifications:%s" % (
        _p(fw, PARAM_VEHICLEID),
        _p(fw, PARAM_VEHICLETYPE),
        _p(fw, PARAM_MILESKM),
        _p(fw, PARAM_NOTIFIES),
    )


def module_q(fw, sender, word, args):
    return [_module_text(fw)]


def module(fw, sender, word, args):
    # <vehicleid> [<units> [<notifies> [<vehicletype>]]]; missing ones unchanged
    slots = (PARAM_VEHICLEID, PARAM_MILESKM, PARAM_NOTIFIES, PARAM_VEHICLETYPE)
    return _set_many(fw, slots, args, _module_text, reinit=True)


def _set_many(fw, slots, args, text, reinit=False):
    # slots[i] := args[i] after the checks; reply text(fw) or the error
    pairs = [(slots[i], args[i]) for i in range(min(len(args), len(slots)))]
    err = _checked(pairs)
    if err:
        return [err]
    for n, v in pairs:
        _set(fw, n, v)
    if not _commit(fw, reinit=reinit, net=True):
        return [ERR_NOT_SAVED]
    return [text(fw)]


def _gprs_text(fw):
    net = fw.net
    if net.server_ok:
        tail = "\r\n GPRS: OK\r\n Server: Connected OK"
    elif net.gprs_ok:
        tail = "\r\n GSM: OK\r\n Server: Not connected"
    else:
        tail = "\r\n GSM/GPRS: Not connected (0x%s)" % hex4(net.state)
    return "GPRS:\r\n APN:%s\r\n User:%s\r\n Password:%s\r\n GSM:%s%s" % (
        _p(fw, PARAM_GPRSAPN),
        _p(fw, PARAM_GPRSUSER),
        _p(fw, PARAM_GPRSPASS),
        net.operator,
        tail,
    )


def gprs_q(fw, sender, word, args):
    return [_gprs_text(fw)]


def gprs(fw, sender, word, args):
    # <apn> [<user> [<password>]]; "-" = empty for user and password
    vals = [args[i] if i == 0 else _dash(args[i]) for i in range(min(len(args), 3))]
    slots = (PARAM_GPRSAPN, PARAM_GPRSUSER, PARAM_GPRSPASS)
    return _set_many(fw, slots, vals, _gprs_text)


def _gsmlock_text(fw):
    lock = _p(fw, PARAM_GSMLOCK)
    return "GSMLOCK: %s\r\nCurrent: %s" % (lock if lock else "(none)", fw.net.operator)


def gsmlock_q(fw, sender, word, args):
    return [_gsmlock_text(fw)]


def gsmlock(fw, sender, word, args):
    return _set_many(fw, (PARAM_GSMLOCK,), args[:1] or [""], _gsmlock_text)


def _server_text(fw):
    return "Server:\r\n IP:%s\r\n Password:%s\r\n Paranoid:%s" % (
        _p(fw, PARAM_SERVERIP),
        _p(fw, PARAM_SERVERPASS),
        _p(fw, PARAM_PARANOID),
    )


def server_q(fw, sender, word, args):
    return [_server_text(fw)]


def server(fw, sender, word, args):
    slots = (PARAM_SERVERIP, PARAM_SERVERPASS, PARAM_PARANOID)
    return _set_many(fw, slots, args, _server_text)


def diag(fw, sender, word, args):
    net = fw.net
    out = "DIAG:\n RED Led:%d\n GRN Led:%d\n NET State:0x%s" % (
        net.red_led,
        net.grn_led,
        hex4(net.state),
    )
    if net.v12_dv:
        out += "\n 12V Line:%d.%d" % (net.v12_dv // 10, net.v12_dv % 10)
    out += "\n Crashes:%d" % net.crashes
    if net.reset_causes:
        out += "\n ..last:" + "".join([" " + c for c in net.reset_causes])
    if net.outbox_dropped:  # records/alerts a full outbox dropped (ovms/outbox.py)
        out += "\n Outbox lost:%d" % net.outbox_dropped
    power = getattr(net, "power_line", None)  # the module's own draw (D88, issue 13)
    if power is not None:
        out += "\n " + power()
    mqtt = getattr(net, "mqtt_line", None)  # the MQTT uplink (firmware/tasks/mqtt.py)
    if mqtt is not None:
        out += "\n " + mqtt()
    return [out]


def data_q(fw, sender, word, args):  # ovms.datause (the app sets net.datause)
    return [du.text() if (du := getattr(fw.net, "datause", None)) else "DATA: not counted"]


def features_q(fw, sender, word, args):
    f = fw.cfg.features
    entries = ["\r\n %d:%d" % (k, f[k]) for k in range(N_FEATURES) if f[k]]
    return listing("Features:", entries)


def feature(fw, sender, word, args):
    # <k> <value>: no reply (and no change) on a missing value or a bad k
    if len(args) < 2 or not digits(args[0]):
        return []
    k = int(args[0])
    if k >= N_FEATURES:
        return []
    err = check_feature(k, args[1])
    if err:
        return [err]
    fw.cfg.set_feature(k, args[1], save=False)
    if not _commit(fw, reinit=k == FEATURE_CANWRITE):
        return [ERR_NOT_SAVED]
    return ["Feature has been set."]


def chargemode(fw, sender, word, args):
    if upper(args[0][:3]) not in _CHARGE_MODES:
        return []
    return [NOT_SUPPORTED]


def unsupported(fw, sender, word, args):
    return [NOT_SUPPORTED]


def version(fw, sender, word, args):
    v = fw.vehicle
    shown = v.version_text() if v is not None else _p(fw, PARAM_VEHICLETYPE)
    return ["OVMS Firmware version: %s/%s/V%s" % (fw.version, shown, fw.hardware)]


def reset(fw, sender, word, args):
    if fw.on_reset is not None:
        fw.on_reset()
    return []


def help_(fw, sender, word, args):
    return [HELP_TEXT]


def _dash(a):
    return "" if a == "-" else a


def listing(head, entries):
    # head + entries, starting a new text (again with head) before one would
    # exceed one SMS; lengths in septets after GSM-7 replacement
    out = []
    cur = head
    size = smsout.septets(smsout.gsm(head))
    for e in entries:
        n = smsout.septets(smsout.gsm(e))
        if size + n > smsout.SMS_SEPTETS and cur != head:
            out.append(cur)
            cur = head
            size = smsout.septets(smsout.gsm(head))
        cur += e
        size += n
    out.append(cur)
    return out
