# The car's side of the OVMS v2 server protocol: one clear message from the server in,
# clear reply lines out (commands, pings, app counts, acknowledgements). The vehicle is
# reached through its hooks only (server_command, server_record, match, version_text).
# Licence: MIT (this project).
#
# Spec: ovms-v2-protocol.md §6 (records), §8 (commands), §9 (paranoid),
# §10 (server messages); ovms-v2-sms.md §9. Pure and synchronous: time comes
# in as now_s, the modem actions (SMS, USSD, AT, reboot) as callbacks.
#
#   h = Handler(config, vehicle, framework, randbytes=os.urandom)
#   lines = h.connected(now_s)              # after login: ET, crash record
#   out = h.handle("MP-0 C203", now_s)      # list of lines, or a Deferred
#   wire = h.outgoing(out)                  # §8.6 guard + paranoid wrap
#   h.periodic(now_s)                       # records due (ovms/v2/periodic.py)
#
# Decisions where the spec is silent:
# - D43: every C gets exactly one c (commands 1 and 3: their full series), since
#   today's server routes replies by queue order (§8.6). A C whose command is not
#   a decimal number 0..65535 (Cabc, C, C1x, C99999), or a paranoid EMC that does
#   not unwrap, is answered "c0,1,Invalid syntax": result 1 (failed) with the
#   framework's own reason text; 0 as the command because there is no number to
#   echo and a "c1"/"c3" echo would make the server wait for a 16/32 series. A
#   command whose handler fails unexpectedly is answered "c<cmd>,1,Internal error"
#   (logged), never left without a reply.
# - C2/C4: k must be decimal digits, else "Parameter out of range". A failed
#   flash write answers ",1,Error: settings could not be saved" and restores
#   the parameters.
# - C7 runs the text through the SMS framework as the registered phone with
#   the authority of the DIAG console (trusted: the server connection is
#   authenticated with the server password). Several reply texts are joined
#   with CR; an empty reply is "c7,0,"; a text that is no command at all is
#   "c7,1,Unknown command" (and is not forwarded as "SMS FROM").
# - D90: whether the text is a command is decided by the interpreter's own parser
#   (ovms.sms.is_command, also used for MQTT commands): CR, LF and TAB separate words.
#   Before, C7 had a copy that did not treat TAB as a blank, so "\tSTAT" was "Unknown
#   command" here although the interpreter runs it.
# - C40/C41/C49 without their callback: ",1,Not available".
# - C41: today's server routes c replies FIFO (§8.6), so exactly one reply is
#   sent, after the answer arrived: "c41,0,<answer>" (commas -> ".", LF -> CR)
#   or "c41,1,Invalid USSD result". No early "c41,0".
# - A c line is never sent on a connection before its first C (§8.6).
# - Crash record after login: H*-OVM-DebugCrash,0,2592000,<fw>/RT2.5/V<hw>,
#   <crashes>,<reason 4 hex>,0[,<last crash text>] (the boot log's, firmware/app.py).
# - The periodic set and its send-on-change memory: ovms/v2/periodic.py.

from ovms import log
from ovms.compat import const
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
    PARAM_PARANOID,
    PARAM_REGPHONE,
    PARAM_SERVERIP,
    PARAM_SERVERPASS,
    PARAM_VEHICLEID,
    PARAM_VEHICLETYPE,
    check_feature,
    check_param,
)
from ovms.sms import is_command, rollback, save_or_rollback
from ovms.units import atoi, digits
from ovms.v2 import codec
from ovms.v2.periodic import (  # noqa: F401 (part of this module's interface)
    APPS_S,
    BUSY_S,
    FIRST_SET_S,
    IDLE_S,
    TPMS_NONE,
    Periodic,
    interval_s,
    location_l,
    periodic_due,
)
from ovms.v2.replies import (  # noqa: F401 (Deferred: part of this module's interface)
    Deferred,
    fail,
    is_awaitable,
    ok40,
    ok49,
    ussd_reply,
)

_INVALID_SYNTAX = const("Invalid syntax")
_INTERNAL_ERROR = const("Internal error")
GARBLED = "MP-0 c0,1,Invalid syntax"
_OUT_OF_RANGE = const("Parameter out of range")
_NOT_SAVED = const("Error: settings could not be saved")
_NOT_AVAILABLE = const("Not available")
UNKNOWN_COMMAND = "Unknown command"

_CRASH_LIFETIME_S = const(2592000)


_N_PARAMS_SETTABLE = const(24)  # C4 accepts 0..23
_REINIT_PARAMS = (PARAM_MILESKM, PARAM_VEHICLETYPE)
_NET_PARAMS = (
    PARAM_SERVERIP,
    PARAM_GPRSAPN,
    PARAM_GPRSUSER,
    PARAM_GPRSPASS,
    PARAM_VEHICLEID,
    PARAM_SERVERPASS,
    PARAM_GSMLOCK,
)


class Handler(Periodic):
    def __init__(self, config, vehicle, framework=None, randbytes=None, version=None,
                 hardware=None, on_reboot=None, send_sms=None, send_ussd=None,
                 send_at=None):  # fmt: skip
        self.cfg = config
        self.vehicle = vehicle
        self.fw = framework
        self.randbytes = randbytes
        self.version = version or (framework.version if framework else "3.0.0")
        self.hardware = hardware or (framework.hardware if framework else "HOST")
        # callbacks: on_reboot(); send_sms(phone, text) -> ignored or awaitable;
        # send_ussd(code) -> answer text / None / awaitable; send_at(cmd)
        self.on_reboot = on_reboot
        self.send_sms = send_sms
        self.send_ussd = send_ussd
        self.send_at = send_at
        self.on_ack = None  # f(data of an "MP-0 h<ackcode>" from the server)
        self.errors = 0  # commands whose handler raised (answered ",1,Internal error")
        self.apps = 0  # Z<n> of this connection
        self.got_command = False  # a C arrived on this connection (§8.6)
        self.reboot_pending = False
        self.ptoken = None  # paranoid token, kept for the uptime (§9)
        self._pdigest = None
        self._pdigest_for = None
        self._last_set_s = None  # time of the last periodic set
        self._login_s = 0

    # ---- connection events ------------------------------------------------------
    def connected(self, now_s):
        # a fresh login: reset per-connection state, return the first lines
        self.apps = 0
        self.got_command = False
        self._login_s = now_s
        self._last_set_s = None
        out = []
        if self.paranoid():
            out.append("MP-0 ET" + self._ptoken())
        if not self.crash_due():  # economy: once a boot (ovms/v2/periodic.py, D70)
            return out
        net = self.fw.net if self.fw is not None else None
        crashes = net.crashes if net is not None else 0
        # the boot's crash report (firmware/app.py sets crash_reason: 4 hex digits of
        # reset-cause bits, crash_text: the last crash, a trailing field, §3)
        reason = getattr(net, "crash_reason", None) or "0000"
        text = getattr(net, "crash_text", None) or ""
        text = text.replace("\r", " ").replace("\n", " ")[:80]
        out.append(
            "MP-0 H*-OVM-DebugCrash,0,%d,%s/%s/V%s,%d,%s,0%s"
            % (
                _CRASH_LIFETIME_S,
                self.version,
                self._module(),
                self.hardware,
                crashes,
                reason,
                ("," + text) if text else "",
            )
        )
        return out

    def _module(self):
        v = self.vehicle
        return v.version_text() if v is not None else self.cfg.params[PARAM_VEHICLETYPE]

    # ---- paranoid mode ---------------------------------------------------------
    def paranoid(self):
        return self.cfg.params[PARAM_PARANOID].startswith("P")

    def _ptoken(self):
        if self.ptoken is None:
            if self.randbytes is None:
                raise ValueError("paranoid mode needs a random source")
            self.ptoken = codec.make_token(self.randbytes)
        return self.ptoken

    def pdigest(self):
        modpass = self.cfg.params[PARAM_MODULEPASS]
        key = (modpass, self._ptoken())
        if self._pdigest_for != key:
            self._pdigest = codec.paranoid_digest(modpass, key[1])
            self._pdigest_for = key
        return self._pdigest

    def outgoing(self, lines):
        # clear lines about to be sent -> lines to encrypt: drops c lines
        # before the first C of the connection, wraps when paranoid
        par = self.paranoid() and self.ptoken is not None
        out = []
        for m in lines:
            if m.startswith("MP-0 c") and not self.got_command:
                continue
            out.append(codec.wrap(m, self.pdigest()) if par else m)
        return out

    # ---- incoming messages (§10) -------------------------------------------------
    def handle(self, clear, now_s=0):
        # one clear message from the server -> reply lines ([] = none) or Deferred
        if clear.startswith("MP-0 EM"):
            if self.ptoken is None:
                return self._garbled(clear[7:8])  # not paranoid: cannot unwrap
            try:
                clear = codec.unwrap(clear, self.pdigest())
            except codec.ProtocolError:
                return self._garbled(clear[7:8])
        if len(clear) < 6:
            return []
        code = clear[5]
        data = clear[6:]
        if code == "A":
            return ["MP-0 a"]
        if code == "Z":
            n = atoi(data) if digits(data[:1]) else 0  # the leading digits: no sign
            self.apps = n
            if self.vehicle is not None:
                self.vehicle.net.apps = n
            if n > 0:
                return self.app_set()
            return []
        if code == "C":
            return self.command(data, now_s)
        if code == "h" and self.on_ack is not None:
            self.on_ack(data)
        return []  # a, ET, unknown: nothing to do

    def _garbled(self, code):
        # a wrapped message we cannot read: a C still gets its one reply (D43)
        if code != "C":
            return []
        self.got_command = True
        return [GARBLED]

    # ---- commands (§8) ---------------------------------------------------------------
    def command(self, data, now_s=0):
        # exactly one reply (D43), whatever the command text
        i = data.find(",")
        cmd = data if i < 0 else data[:i]
        self.got_command = True
        if not digits(cmd) or len(cmd) > 5 or int(cmd) > 65535:
            return [GARBLED]
        code = int(cmd)
        try:
            out = self._command(code, i >= 0, "" if i < 0 else data[i + 1 :], now_s)
        except Exception as e:  # a bug must not cost the reply (the server's queue)
            self.errors += 1
            log.get("v2").error("command %d failed: %r", code, e)
            return [fail(code, _INTERNAL_ERROR)]
        if not out:
            return ["MP-0 c%d,3" % code]
        return out

    def _command(self, code, has, params, now_s):
        if self.vehicle is not None:
            cfg = self.cfg
            undo = list(cfg.params)
            try:
                out = self.vehicle.server_command(code, params)
            except OSError as e:  # C202/C204: the flash write failed, nothing changes
                rollback(cfg, undo, e, "v2")
                return [fail(code, _NOT_SAVED)]
            if out is not None:
                return out
        if code == 1:
            f = self.cfg.features
            return ["MP-0 c1,0,%d,%d,%d" % (k, N_FEATURES, f[k]) for k in range(N_FEATURES)]
        if code == 2:
            return self._set(2, has, params, N_FEATURES)
        if code == 3:
            p = self.cfg.params
            return [
                "MP-0 c3,0,%d,%d,%s" % (k, N_PARAMS, "" if k == PARAM_SERVERPASS else p[k])
                for k in range(N_PARAMS)
            ]
        if code == 4:
            return self._set(4, has, params, _N_PARAMS_SETTABLE)
        if code == 5:
            self.reboot_pending = True
            return ["MP-0 c5,0"]
        if code == 7:
            return self._sms_command(params, now_s)
        if code == 40:
            j = params.find(",")
            if not has or j < 0:
                return [fail(40, _INVALID_SYNTAX)]
            return self._call(40, self.send_sms, (params[:j], params[j + 1 :]), ok40)
        if code == 41:
            if not has or not params:
                return [fail(41, _INVALID_SYNTAX)]
            return self._call(41, self.send_ussd, (params,), ussd_reply)
        if code == 49:
            if not has or not params:
                return [fail(49, _INVALID_SYNTAX)]
            return self._call(49, self.send_at, (params,), ok49)
        return ["MP-0 c%d,3" % code]

    def _call(self, code, cb, args, finish):
        if cb is None:
            return [fail(code, _NOT_AVAILABLE)]
        try:
            r = cb(*args)
        except OSError as e:
            return [fail(code, e)]
        if is_awaitable(r):
            return Deferred(r, finish, code)
        return finish(r)

    def _set(self, code, has, params, limit):
        # C2 (features) / C4 (parameters): "<k>,<value>"
        if not has:
            return [fail(code, _INVALID_SYNTAX)]
        j = params.find(",")
        if j < 0:
            return [fail(code, _INVALID_SYNTAX)]
        k_text = params[:j]
        value = params[j + 1 :]
        if not digits(k_text) or int(k_text) >= limit:
            return [fail(code, _OUT_OF_RANGE)]
        k = int(k_text)
        # the same value checks as the SMS path (D39): a server cannot store what an SMS
        # could not (control characters towards AT commands, over-long values, caps)
        err = check_feature(k, value) if code == 2 else check_param(k, value)
        if err:
            return [fail(code, err.replace(",", ";"))]
        cfg = self.cfg
        undo = list(cfg.params)
        if code == 2:
            cfg.set_feature(k, value, save=False)
        else:
            cfg.set_param(k, value, save=False)
        if not save_or_rollback(cfg, undo):
            return [fail(code, _NOT_SAVED)]
        fw = self.fw
        if fw is not None:
            reinit = (code == 2 and k == FEATURE_CANWRITE) or (code == 4 and k in _REINIT_PARAMS)
            if reinit and fw.on_vehicle_reinit is not None:
                fw.on_vehicle_reinit()
            if code == 4 and k in _NET_PARAMS and fw.on_net_change is not None:
                fw.on_net_change()
        return ["MP-0 c%d,0" % code]

    def _sms_command(self, text, now_s):
        # C7: an SMS command run as the registered phone (§8.4)
        fw = self.fw
        if fw is None:
            return ["MP-0 c7,3"]
        if not is_command(text, self.vehicle):
            return [fail(7, UNKNOWN_COMMAND)]
        replies = fw.handle(self.cfg.params[PARAM_REGPHONE], text, now_s, trusted=True)
        body = "\r".join(replies).replace("\r\n", "\r").replace("\n", "\r").replace(",", ";")
        return ["MP-0 c7,0," + body]

    def after_send(self):
        # call once the replies of a command are written: C5 reboots now
        if self.reboot_pending:
            self.reboot_pending = False
            if self.on_reboot is not None:
                self.on_reboot()
