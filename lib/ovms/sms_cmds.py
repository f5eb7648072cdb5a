# The framework SMS commands (spec §5): the command table and one handler each.
# Licence: MIT (this project).
#
# Commands is a mixin of ovms.sms.SmsInterpreter: the handlers use its cfg, net,
# vehicle, _set, _commit and _state. Each handler gets (sender, word, args) with
# the password already removed and returns the reply texts ([] = no reply).
#
# D39: every value a command would store is checked first (ovms.config
# check_param / check_feature, ovms.sms_auth password_error): a bad value gets an
# "Error: ..." reply naming the slot and nothing changes (no clipping). The byte-
# exact replies of the spec stay as they are for every value that passes.
# - REGISTER stores the sender's normalised number (D36); a sender that is no
#   phone number gets ERR_NUMBER.
# - PASS and AP need a password of at least 6 printable ASCII characters
#   (AP "-" still empties it: password access off).
# - AP replies only when it refuses (spec: no reply).
# - The vehicle's setters RANGE and CA are checked here before the vehicle runs
#   them (vehicle_error): range 0-500, SOC 0-100 %, CA at most two values.

from ovms import smsout
from ovms.car import CHG_CHARGING, CHG_DONE, CHG_HEATING, CHG_PREPARING, CHG_TOPOFF, DOORS1_PORT
from ovms.compat import const
from ovms.config import (
    FEATURE_CANWRITE,
    FEATURE_MAXRANGE,
    FEATURE_SUFFRANGE,
    FEATURE_SUFFSOC,
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
from ovms.sms_auth import normal_number, password_error
from ovms.units import degrees, digits, hex4, mi2km

NOT_SUPPORTED = "Not supported by this vehicle (Renault Twizy)"
ERR_NOT_SAVED = "Error: settings could not be saved"
ERR_NUMBER = "Error: this sender is not a phone number that can be registered"
_ERR_CA_ARGS = const("Error: CA takes at most two values")

# The framework command table, in matching order (spec §5):
# (entry text, auth mode, handler method name)
TABLE = (
    ("REGISTER?", 3, "_register_q"),
    ("REGISTER", 1, "_register"),
    ("PASS?", 3, "_pass_q"),
    ("PASS ", 2, "_pass"),
    ("GPS", 3, "_gps"),
    ("STAT", 3, "_stat"),
    ("PARAMS?", 3, "_params_q"),
    ("PARAMS ", 2, "_params"),
    ("AP ", 1, "_ap"),
    ("MODULE?", 3, "_module_q"),
    ("MODULE ", 2, "_module"),
    ("GPRS?", 3, "_gprs_q"),
    ("GPRS ", 2, "_gprs"),
    ("GSMLOCK?", 3, "_gsmlock_q"),
    ("GSMLOCK", 2, "_gsmlock"),
    ("SERVER?", 3, "_server_q"),
    ("SERVER ", 2, "_server"),
    ("DIAG", 3, "_diag"),
    ("FEATURES?", 3, "_features_q"),
    ("FEATURE ", 2, "_feature"),
    ("HOMELINK ", 2, "_unsupported"),
    ("LOCK ", 2, "_unsupported"),
    ("UNLOCK ", 2, "_unsupported"),
    ("VALET ", 2, "_unsupported"),
    ("UNVALET ", 2, "_unsupported"),
    ("CHARGEMODE ", 2, "_chargemode"),
    ("CHARGESTART", 2, "_unsupported"),
    ("CHARGESTOP", 2, "_unsupported"),
    ("VERSION", 3, "_version"),
    ("RESET", 3, "_reset"),
    ("HELP", 3, "_help"),
)

HELP_TEXT = "Commands:" + "".join([" " + e[0] for e in TABLE])
TABLE += (("DATA?", 3, "_data_q"),)  # D71: mobile data this month; not in HELP (spec text)

_CHARGE_MODES = ("STA", "STO", "RAN", "PER")

# generic status text (spec §6), used only without a vehicle STAT handler
_GEN_MODES = {0: "Standard", 1: "Storage", 3: "Range", 4: "Performance"}
_GEN_STATES = {
    CHG_CHARGING: "Charging",
    CHG_TOPOFF: "Charging, Topping off",
    CHG_DONE: "Charging Done",
    CHG_PREPARING: "Preparing",
    CHG_HEATING: "Charging, Heating",
}


def vehicle_error(cmd, word, args):
    # -> error reply for a vehicle setter with a value out of its cap, else None
    if word != cmd or (len(args) == 1 and args[0] == "?"):
        return None  # a query (or not a setter)
    if cmd == "RANGE":
        return check_feature(FEATURE_MAXRANGE, args[0]) if args else None
    if cmd == "CA":
        if len(args) > 2:
            return _ERR_CA_ARGS
        for a in args:
            k = FEATURE_SUFFSOC if a.endswith("%") else FEATURE_SUFFRANGE
            err = check_feature(k, a[:-1] if k == FEATURE_SUFFSOC else a)
            if err:
                return err
    return None


def _checked(pairs):
    # [(slot, value)] -> the first error reply, or None when all may be stored
    for n, v in pairs:
        err = check_param(n, v)
        if err:
            return err
    return None


class Commands:
    def _register_q(self, sender, word, args):
        return ["Registered number: " + self._p(PARAM_REGPHONE)]

    def _register(self, sender, word, args):
        number = normal_number(sender)
        if number is None:
            return [ERR_NUMBER]
        self._set(PARAM_REGPHONE, number)
        if not self._commit():
            return [ERR_NOT_SAVED]
        return ["Your phone has been registered as the owner."]

    def _pass_q(self, sender, word, args):
        return ["Module password: " + self._p(PARAM_MODULEPASS)]

    def _pass(self, sender, word, args):
        err = check_param(PARAM_MODULEPASS, args[0]) or password_error(args[0])
        if err:
            return [err]
        self._set(PARAM_MODULEPASS, args[0])
        if not self._commit():
            return [ERR_NOT_SAVED]
        return ["Module password has been changed."]

    def _gps(self, sender, word, args):
        st = self._state()
        return [
            "Car location:\r\nhttps://maps.google.com/maps?q=%s,%s"
            % (degrees(st.lat_e6), degrees(st.lon_e6))
        ]

    def _stat(self, sender, word, args):
        # generic text (spec §6); the Twizy replaces it (VEHICLE_REPLACES)
        st = self._state()
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
        if self.cfg.units() == "K":
            est, ideal, odo, unit = mi2km(est), mi2km(ideal), mi2km(odo), "km"
        return [
            "%s\n Range: %d - %d %s\n SOC: %d%%\n ODO: %d %s"
            % (first, est, ideal, unit, st.car_soc, odo, unit)
        ]

    def _params_q(self, sender, word, args):
        # "Params:" + "\n<k>:<value>" per non-empty slot, a new SMS (again
        # starting "Params:") before one would exceed 160 septets
        entries = []
        for k in range(N_PARAMS):
            v = self._p(k)
            if v:
                entries.append("\n%d:%s" % (k, v))
        return listing("Params:", entries)

    def _params(self, sender, word, args):
        pairs = [(2 + i, _dash(args[i])) for i in range(min(len(args), N_PARAMS - 2))]
        err = _checked(pairs)
        if err:
            return [err]
        for n, v in pairs:
            self._set(n, v)
        if not self._commit(reinit=True, net=True):
            return [ERR_NOT_SAVED]
        return ["Parameters have been set."]

    def _ap(self, sender, word, args):
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
            self._set(n, v)
        if not self._commit(reinit=True, net=True):
            return [ERR_NOT_SAVED]
        return []

    def _module_text(self):
        return "Module:\r\n VehicleID:%s\r\n VehicleType:%s\r\n Units:%s\r\n Notifications:%s" % (
            self._p(PARAM_VEHICLEID),
            self._p(PARAM_VEHICLETYPE),
            self._p(PARAM_MILESKM),
            self._p(PARAM_NOTIFIES),
        )

    def _module_q(self, sender, word, args):
        return [self._module_text()]

    def _module(self, sender, word, args):
        # <vehicleid> [<units> [<notifies> [<vehicletype>]]]; missing ones unchanged
        slots = (PARAM_VEHICLEID, PARAM_MILESKM, PARAM_NOTIFIES, PARAM_VEHICLETYPE)
        return self._set_many(slots, args, self._module_text, reinit=True)

    def _set_many(self, slots, args, text, reinit=False):
        # slots[i] := args[i] after the checks; reply text() or the error
        pairs = [(slots[i], args[i]) for i in range(min(len(args), len(slots)))]
        err = _checked(pairs)
        if err:
            return [err]
        for n, v in pairs:
            self._set(n, v)
        if not self._commit(reinit=reinit, net=True):
            return [ERR_NOT_SAVED]
        return [text()]

    def _gprs_text(self):
        net = self.net
        if net.server_ok:
            tail = "\r\n GPRS: OK\r\n Server: Connected OK"
        elif net.gprs_ok:
            tail = "\r\n GSM: OK\r\n Server: Not connected"
        else:
            tail = "\r\n GSM/GPRS: Not connected (0x%s)" % hex4(net.state)
        return "GPRS:\r\n APN:%s\r\n User:%s\r\n Password:%s\r\n GSM:%s%s" % (
            self._p(PARAM_GPRSAPN),
            self._p(PARAM_GPRSUSER),
            self._p(PARAM_GPRSPASS),
            net.operator,
            tail,
        )

    def _gprs_q(self, sender, word, args):
        return [self._gprs_text()]

    def _gprs(self, sender, word, args):
        # <apn> [<user> [<password>]]; "-" = empty for user and password
        vals = [args[i] if i == 0 else _dash(args[i]) for i in range(min(len(args), 3))]
        slots = (PARAM_GPRSAPN, PARAM_GPRSUSER, PARAM_GPRSPASS)
        return self._set_many(slots, vals, self._gprs_text)

    def _gsmlock_text(self):
        lock = self._p(PARAM_GSMLOCK)
        return "GSMLOCK: %s\r\nCurrent: %s" % (lock if lock else "(none)", self.net.operator)

    def _gsmlock_q(self, sender, word, args):
        return [self._gsmlock_text()]

    def _gsmlock(self, sender, word, args):
        return self._set_many((PARAM_GSMLOCK,), args[:1] or [""], self._gsmlock_text)

    def _server_text(self):
        return "Server:\r\n IP:%s\r\n Password:%s\r\n Paranoid:%s" % (
            self._p(PARAM_SERVERIP),
            self._p(PARAM_SERVERPASS),
            self._p(PARAM_PARANOID),
        )

    def _server_q(self, sender, word, args):
        return [self._server_text()]

    def _server(self, sender, word, args):
        slots = (PARAM_SERVERIP, PARAM_SERVERPASS, PARAM_PARANOID)
        return self._set_many(slots, args, self._server_text)

    def _diag(self, sender, word, args):
        net = self.net
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

    def _data_q(self, sender, word, args):  # ovms.datause (the app sets net.datause)
        return [du.text() if (du := getattr(self.net, "datause", None)) else "DATA: not counted"]

    def _features_q(self, sender, word, args):
        f = self.cfg.features
        entries = ["\r\n %d:%d" % (k, f[k]) for k in range(N_FEATURES) if f[k]]
        return listing("Features:", entries)

    def _feature(self, sender, word, args):
        # <k> <value>: no reply (and no change) on a missing value or a bad k
        if len(args) < 2 or not digits(args[0]):
            return []
        k = int(args[0])
        if k >= N_FEATURES:
            return []
        err = check_feature(k, args[1])
        if err:
            return [err]
        self.cfg.set_feature(k, args[1], save=False)
        if not self._commit(reinit=k == FEATURE_CANWRITE):
            return [ERR_NOT_SAVED]
        return ["Feature has been set."]

    def _chargemode(self, sender, word, args):
        if upper(args[0][:3]) not in _CHARGE_MODES:
            return []
        return [NOT_SUPPORTED]

    def _unsupported(self, sender, word, args):
        return [NOT_SUPPORTED]

    def _version(self, sender, word, args):
        v = self.vehicle
        module = v.version_text() if v is not None else self._p(PARAM_VEHICLETYPE)
        return ["OVMS Firmware version: %s/%s/V%s" % (self.version, module, self.hardware)]

    def _reset(self, sender, word, args):
        if self.on_reset is not None:
            self.on_reset()
        return []

    def _help(self, sender, word, args):
        return [HELP_TEXT]


def _dash(a):
    return "" if a == "-" else a


def upper(w):
    # ASCII-only upper case: CPython's str.upper() maps e.g. "ſ" to "S" and
    # "ß" to "SS", MicroPython's does not; commands are ASCII anyway
    for ch in w:
        if ch > "\x7f":
            return "".join([c.upper() if c <= "\x7f" else c for c in w])
    return w.upper()


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
