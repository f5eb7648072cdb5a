# SMS command interpreter of the OVMS framework: authorisation, framework commands,
# vehicle hooks, forwarding of unknown texts to the server.
# Licence: MIT (this project).
#
# Spec: ovms-v2-sms.md §3 (processing), §4 (authorisation), §5 (command table),
# twizy-vehicle.md §7.0 (vehicle table, parsing). Pure core: time comes in as
# `now_s` (seconds, any monotonic origin), the network state as a NetStatus-like
# object, actions outside the core as callbacks. Runs once per received SMS.
#
#   fw = Framework(config, vehicle, net=NetStatus(), version="3.0.0", hardware="ESP32")
#   replies = fw.handle("+4915100000000", "STAT", now_s=uptime)
#
# handle() returns the reply texts unsplit (ovms.smsout.shape() makes SMS of
# them) or [] for no reply.
#
# Decisions where the spec is silent or the 2013 behaviour was a hole:
# - Registered phone: prefix match as in 2013 (parameter 0 may be a cut-off
#   number), but an empty parameter 0 or the factory "NOPHONE" matches nobody
#   (an alphanumeric sender "NOPHONE" would otherwise pass). Module password:
#   prefix match, an empty parameter 1 matches nothing.
# - Until a phone is registered (parameter 0 empty or NOPHONE) the only command
#   accepted by SMS is REGISTER with the module password (AP too needs a
#   registered module). The DIAG console (trusted=True) is always accepted.
# - Mode 3: "Permission denied" only when both the phone and the password
#   check fail (the 2013 quirk sent it even when the password then passed).
# - Rate limit: 3 failed authorisations within 10 min from one sender number
#   ignore that number completely (no reply, no processing, no forwarding) for
#   10 min. The registered phone is never counted nor blocked. At most 8
#   senders are tracked; when full the oldest entry is evicted. Without
#   now_s the last time given is used.
# - Feature 14 bit 0x04 suppresses every reply (settings still change), bit
#   0x02 the "Permission denied" reply. A blocked or unauthorised sender never
#   gets anything else back.
# - Commands the Twizy cannot carry out (HOMELINK, LOCK, UNLOCK, VALET,
#   UNVALET, CHARGEMODE, CHARGESTART, CHARGESTOP) reply NOT_SUPPORTED instead
#   of the 2013 confirmation text (still auth mode 2; CHARGEMODE with an
#   unknown mode still gets no reply, as in 2013).
# - Parsing: CR, LF and TAB become spaces, leading/trailing spaces are
#   ignored, runs of spaces separate like one; the first word is upper-cased
#   in ASCII only (identical in both runtimes). An entry ending in a space
#   needs an argument, so "PASS " is "PASS" (not a command). An empty SMS is
#   dropped.
# - FEATURE: k must be decimal digits 0-15, else no reply (2013 took atoi,
#   "FEATURE x 1" set feature 0).
# - A failed flash write answers ERR_NOT_SAVED instead of the confirmation
#   and puts the parameters back (RAM and flash agree; nothing is
#   acknowledged that would be lost at the next boot); the same for vehicle
#   commands (RANGE, CA) whose save raises OSError.
# - VERSION: "<version>/<vehicle.version_text()>/V<hardware>"; the module
#   shown is the one actually running (always the Twizy here), e.g.
#   "OVMS Firmware version: 3.0.0/RT2.5/VESP32".
# - NET State / GPRS state are printed as 4 upper-case hex digits.
# - Unmatched texts are forwarded as received (CR/LF as spaces, stripped).

from ovms import log, smsout
from ovms.config import (
    CARBITS_NO_DENIED_SMS,
    CARBITS_NO_SMS,
    FEATURE_CANWRITE,
    FEATURE_CARBITS,
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
)
from ovms.twizy.records import degrees
from ovms.twizy.units import hex4, mi2km

FRAMEWORK_VERSION = "3.0.0"
HARDWARE = "HOST"

PERMISSION_DENIED = "Permission denied"
NOT_SUPPORTED = "Not supported by this vehicle (Renault Twizy)"
ERR_NOT_SAVED = "Error: settings could not be saved"
NOPHONE = "NOPHONE"

FAIL_LIMIT = 3  # failed authorisations ...
FAIL_WINDOW_S = 600  # ... within this many seconds ...
BLOCK_S = 600  # ... ignore the sender for this long
_MAX_TRACKED = 8  # senders with failures remembered (bounded RAM)
_SENDER_KEY_LEN = 32

PUSH_PREFIX = "MP-0 PA"
_FORWARD_MAX = 170  # characters of a forwarded text

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

# entries the vehicle module replaces (asked first) or extends (appends to
# the framework reply), by entry text (spec §3 step 5, twizy-vehicle.md §7.0)
VEHICLE_REPLACES = ("STAT",)
VEHICLE_EXTENDS = ("HELP",)

_CHARGE_MODES = ("STA", "STO", "RAN", "PER")

# generic status text (spec §6), used only without a vehicle STAT handler
_GEN_MODES = {0: "Standard", 1: "Storage", 3: "Range", 4: "Performance"}
_GEN_STATES = {
    1: "Charging",
    2: "Charging, Topping off",
    4: "Charging Done",
    13: "Preparing",
    15: "Charging, Heating",
}


def save_or_rollback(cfg, undo):
    # save the settings; if the flash write fails put the parameters back to
    # `undo` (a copy taken before the change) and return False: nothing is
    # acknowledged that the next boot would lose (SMS commands and server C2/C4)
    try:
        cfg.save()
        return True
    except OSError as e:
        log.get("sms").error("saving settings failed: %s", e)
        if undo is not None:
            cfg.params[:] = undo
            cfg.load_features()
        return False


class NetStatus:
    # What the modem/network task knows; the interpreter only reads it.
    def __init__(self):
        self.operator = ""  # current GSM operator (short name), "" = none
        self.state = 0  # network state machine code, shown as 0xNNNN
        self.gprs_ok = False  # GSM registered (and GPRS up if an APN is set)
        self.server_ok = False  # logged in to the OVMS server
        self.crashes = 0  # crash resets counted by the firmware
        self.reset_causes = ()  # last reset cause names: "BOR" "POR" "PD" "TO" ...
        self.v12_dv = 0  # 12 V line in 1/10 V, 0 = not measured
        self.red_led = 0  # LED codes as shown by DIAG
        self.grn_led = 0


class _NoState:
    # stands in for vehicle.st without a vehicle: every value 0
    def __getattr__(self, name):
        return 0


class Framework:
    def __init__(
        self,
        config,
        vehicle=None,
        net=None,
        version=FRAMEWORK_VERSION,
        hardware=HARDWARE,
        on_reset=None,
        on_vehicle_reinit=None,
        on_net_change=None,
        on_push=None,
    ):
        self.cfg = config
        self.vehicle = vehicle
        self.net = net if net is not None else NetStatus()
        self.version = version
        self.hardware = hardware
        # hooks into the wiring (each a callable without arguments, or None)
        self.on_reset = on_reset  # RESET: restart modem and network
        self.on_vehicle_reinit = on_vehicle_reinit  # parameter 2/14 or feature 15 changed
        self.on_net_change = on_net_change  # server/GPRS/GSM settings changed
        self.on_push = on_push  # f(line): a server push line; None: kept in .outbox
        self.outbox = []  # push lines when on_push is None (at most 8, oldest dropped)
        self.now_s = 0
        self._undo = None  # parameters before the running command (see _commit)
        self._fails = {}  # sender key -> [first failure s, failures, blocked until s]
        self._log = log.get("sms")

    # ---- entry point -----------------------------------------------------------
    def handle(self, sender, text, now_s=None, trusted=False):
        # One received SMS -> list of reply texts ([] = no reply).
        # trusted: DIAG console (physical access), passes every auth check.
        if now_s is None:
            now_s = self.now_s
        else:
            self.now_s = now_s
        sender = sender or ""
        text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ").strip(" ")
        words = [w for w in text.split(" ") if w]
        if not words:
            return []
        registered = trusted or self.registered(sender)
        if not registered and self._blocked(sender, now_s):
            return []
        word = _upper(words[0])
        args = words[1:]
        line = word + " " + " ".join(args) if args else word

        entry = None
        for e in TABLE:
            if line.startswith(e[0]):
                entry = e
                break
        if entry is not None:
            mode = entry[1]
            is_vehicle = False
        elif self.vehicle is not None and self.vehicle.match(word):
            mode = 3  # all vehicle commands (twizy-vehicle.md §7.0)
            is_vehicle = True
        else:
            self._forward(sender, text)
            return []

        ok, args = self._authorise(entry, mode, sender, args, registered, trusted)
        if not ok:
            self._failed(sender, now_s)
            if self._carbits() & CARBITS_NO_DENIED_SMS:
                return self._out([])
            return self._out([PERMISSION_DENIED])

        self._undo = list(self.cfg.params)
        try:
            if is_vehicle:
                out = self.vehicle.sms(word, args) or []
            else:
                out = self._run(entry, sender, word, args)
        except OSError as e:  # flash write failed inside a vehicle command
            self._log.error("saving settings failed: %s", e)
            self.cfg.params[:] = self._undo
            self.cfg.load_features()
            out = [ERR_NOT_SAVED]
        self._undo = None
        return self._out(out)

    def _run(self, entry, sender, word, args):
        name = entry[0]
        v = self.vehicle
        if v is not None and name in VEHICLE_REPLACES:
            out = v.sms(word, args)
            if out is not None:
                return out
        out = getattr(self, entry[2])(sender, word, args)
        if out and v is not None and name in VEHICLE_EXTENDS:
            ext = v.sms(word, args)
            if ext:
                out[-1] = out[-1] + "".join(ext)
        return out

    def _out(self, out):
        # feature 14 bit 0x04: no SMS at all (settings have been changed)
        if self._carbits() & CARBITS_NO_SMS:
            return []
        return out

    def _carbits(self):
        return self.cfg.features[FEATURE_CARBITS]

    # ---- authorisation (spec §4) -------------------------------------------------
    def registered(self, sender):
        p0 = self.cfg.params[PARAM_REGPHONE]
        return _owner_set(p0) and sender.startswith(p0)

    def password_ok(self, arg):
        p1 = self.cfg.params[PARAM_MODULEPASS]
        return p1 != "" and arg.startswith(p1)

    def _authorise(self, entry, mode, sender, args, registered, trusted):
        # -> (ok, args without the password)
        if trusted:
            if mode == 1:
                return True, args[1:]
            return True, args
        # not registered yet: REGISTER with the module password only
        if not _owner_set(self.cfg.params[PARAM_REGPHONE]) and (
            entry is None or entry[0] != "REGISTER"
        ):
            return False, args
        if mode == 1 or (mode == 3 and not registered):
            if args and self.password_ok(args[0]):
                return True, args[1:]
            return False, args
        return registered, args

    def _blocked(self, sender, now_s):
        f = self._fails.get(sender[:_SENDER_KEY_LEN])
        if f is None or f[2] is None:
            return False
        if now_s - f[2] < 0:
            return True
        del self._fails[sender[:_SENDER_KEY_LEN]]  # block over: start afresh
        return False

    def _failed(self, sender, now_s):
        if self.registered(sender):
            return
        key = sender[:_SENDER_KEY_LEN]
        fails = self._fails
        f = fails.get(key)
        if f is not None and now_s - f[0] >= FAIL_WINDOW_S:
            f = None
        if f is None:
            if key not in fails and len(fails) >= _MAX_TRACKED:
                self._evict(now_s)
            f = [now_s, 0, None]
            fails[key] = f
        f[1] += 1
        if f[1] >= FAIL_LIMIT:
            f[2] = now_s + BLOCK_S
            self._log.warning(
                "%d failed authorisations from %s: ignored for %d s", f[1], key, BLOCK_S
            )

    def _evict(self, now_s):
        fails = self._fails
        oldest = None
        for k in list(fails):
            f = fails[k]
            if f[2] is None and now_s - f[0] >= FAIL_WINDOW_S:
                del fails[k]
            elif oldest is None or f[0] < fails[oldest][0]:
                oldest = k
        if len(fails) >= _MAX_TRACKED and oldest is not None:
            del fails[oldest]

    # ---- forwarding (spec §3 step 7) ---------------------------------------------
    def _forward(self, sender, text):
        if not self.net.server_ok:
            return
        self.push("SMS FROM: %s - MSG: %s" % (sender, text[:_FORWARD_MAX]))

    def push(self, text):
        # a "MP-0 PA<text>" push alert for the server
        line = PUSH_PREFIX + text
        if self.on_push is not None:
            self.on_push(line)
        else:
            if len(self.outbox) >= 8:
                self.outbox.pop(0)
            self.outbox.append(line)

    # ---- helpers for the setting commands ----------------------------------------
    def _set(self, n, text):
        self.cfg.set_param(n, text, save=False)

    def _commit(self, reinit=False, net=False):
        # save, then tell the wiring; False if the flash write failed, and
        # then the parameters are put back as they were (nothing changed)
        if not save_or_rollback(self.cfg, self._undo):
            return False
        if reinit and self.on_vehicle_reinit is not None:
            self.on_vehicle_reinit()
        if net and self.on_net_change is not None:
            self.on_net_change()
        return True

    def _p(self, n):
        return self.cfg.params[n]

    # ---- framework commands (spec §5, table order) -------------------------------
    def _register_q(self, sender, word, args):
        return ["Registered number: " + self._p(PARAM_REGPHONE)]

    def _register(self, sender, word, args):
        self._set(PARAM_REGPHONE, sender)
        if not self._commit():
            return [ERR_NOT_SAVED]
        return ["Your phone has been registered as the owner."]

    def _pass_q(self, sender, word, args):
        return ["Module password: " + self._p(PARAM_MODULEPASS)]

    def _pass(self, sender, word, args):
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
        if st.car_doors1 & 0x04:
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
        return _listing("Params:", entries)

    def _params(self, sender, word, args):
        for i in range(len(args)):
            n = 2 + i
            if n >= N_PARAMS:
                break
            self._set(n, _dash(args[i]))
        if not self._commit(reinit=True, net=True):
            return [ERR_NOT_SAVED]
        return ["Parameters have been set."]

    def _ap(self, sender, word, args):
        # auto-provision: parameters 0, 1, 2, ... ; no reply
        for i in range(len(args)):
            if i >= N_PARAMS:
                break
            self._set(i, _dash(args[i]))
        self._commit(reinit=True, net=True)
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
        for i in range(min(len(args), 4)):
            self._set(slots[i], args[i])
        if not self._commit(reinit=True, net=True):
            return [ERR_NOT_SAVED]
        return [self._module_text()]

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
        self._set(PARAM_GPRSAPN, args[0])
        if len(args) > 1:
            self._set(PARAM_GPRSUSER, _dash(args[1]))
        if len(args) > 2:
            self._set(PARAM_GPRSPASS, _dash(args[2]))
        if not self._commit(net=True):
            return [ERR_NOT_SAVED]
        return [self._gprs_text()]

    def _gsmlock_text(self):
        lock = self._p(PARAM_GSMLOCK)
        return "GSMLOCK: %s\r\nCurrent: %s" % (lock if lock else "(none)", self.net.operator)

    def _gsmlock_q(self, sender, word, args):
        return [self._gsmlock_text()]

    def _gsmlock(self, sender, word, args):
        self._set(PARAM_GSMLOCK, args[0] if args else "")
        if not self._commit(net=True):
            return [ERR_NOT_SAVED]
        return [self._gsmlock_text()]

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
        for i in range(min(len(args), 3)):
            self._set(slots[i], args[i])
        if not self._commit(net=True):
            return [ERR_NOT_SAVED]
        return [self._server_text()]

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
        return [out]

    def _features_q(self, sender, word, args):
        f = self.cfg.features
        entries = ["\r\n %d:%d" % (k, f[k]) for k in range(N_FEATURES) if f[k]]
        return _listing("Features:", entries)

    def _feature(self, sender, word, args):
        # <k> <value>: no reply (and no change) on a missing value or a bad k
        if len(args) < 2 or not _digits(args[0]):
            return []
        k = int(args[0])
        if k >= N_FEATURES:
            return []
        self.cfg.set_feature(k, args[1], save=False)
        if not self._commit(reinit=k == FEATURE_CANWRITE):
            return [ERR_NOT_SAVED]
        return ["Feature has been set."]

    def _chargemode(self, sender, word, args):
        if _upper(args[0][:3]) not in _CHARGE_MODES:
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

    def _state(self):
        v = self.vehicle
        return v.st if v is not None else _NoState()


def _owner_set(p0):
    return p0 != "" and p0 != NOPHONE


def _digits(a):
    # ASCII decimal digits only (CPython's isdigit() also accepts "²")
    for ch in a:
        if not "0" <= ch <= "9":
            return False
    return a != ""


def _dash(a):
    return "" if a == "-" else a


def _upper(w):
    # ASCII-only upper case: CPython's str.upper() maps e.g. "ſ" to "S" and
    # "ß" to "SS", MicroPython's does not; commands are ASCII anyway
    for ch in w:
        if ch > "\x7f":
            return "".join([c.upper() if c <= "\x7f" else c for c in w])
    return w.upper()


def _listing(head, entries):
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
