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
# - The commands themselves (C2/C4, C7, D90, C40/C41/C49): ovms/v2/commands.py.
# - D99: that module is loaded when a C arrives and unloaded once it is answered
#   (Handler.command), since commands come a few times a day and a 64 KB board heap
#   cannot keep their code's objects all day. If it cannot be loaded (ImportError, or
#   MemoryError in a fragmented heap) the command is answered "c<cmd>,1,Internal
#   error" like any failed handler (D43), counted in errors and logged.
# - D105: the same for the other v2 code used a few times a day: the login handshake
#   and the paranoid token and digest (ovms/v2/login.py, login_code()) and the app set
#   on Z>0 (ovms/v2/commands.py, app_set()).
# - A c line is never sent on a connection before its first C (§8.6).
# - Crash record after login: H*-OVM-DebugCrash,0,2592000,<fw>/RT2.5/V<hw>,
#   <crashes>,<reason 4 hex>,0[,<last crash text>] (the boot log's, firmware/app.py).
# - The periodic set and its send-on-change memory: ovms/v2/periodic.py.

# - D125: the parameter numbers and the number helpers are read as config.PARAM_X and
#   units.atoi (a resident module's globals table holds every name it imports: 12 names
#   here, not 16, one table step less).

from ovms import config, lazy, log, units
from ovms.compat import const
from ovms.v2 import codec
from ovms.v2.periodic import Periodic  # the status set (its names: import them there)

_GARBLED = const("MP-0 c0,1,Invalid syntax")  # D43
_COMMANDS = const("ovms.v2.commands")  # loaded per command (D99)
_LOGIN = const("ovms.v2.login")  # loaded per login, paranoid token and digest (D105)

_CRASH_LIFETIME_S = const(2592000)


def login_code(name, *args):
    # -> ovms/v2/login.py's name(*args). D105: the login code is loaded for the call and
    # dropped after it (a coroutine it returns keeps its globals until it is done): the
    # uplink's login, the paranoid token and digest (made once per token and module
    # password). No room or no module for it: ProtocolError (the session ends, counted,
    # and is tried again)
    try:
        try:
            return getattr(lazy.load(_LOGIN), name)(*args)
        except (ImportError, MemoryError) as e:
            raise codec.ProtocolError("login code not loaded: %r" % (e,))
    finally:
        lazy.unload(_LOGIN)


class Deferred:
    # a command reply that needs an awaited modem action (USSD, SMS, AT);
    # the async shell awaits .aw then calls done(result) or fail(exc). Resident (not in
    # ovms/v2/commands.py, which makes it): firmware/tasks/uplink.py tests isinstance.
    def __init__(self, aw, finish, code):
        self.aw = aw
        self.finish = finish
        self.code = code

    def done(self, result):
        return self.finish(result)

    def fail(self, exc):
        # the awaited action failed (any exception): the command still gets its c
        return ["MP-0 c%d,1,%s" % (self.code, exc)]


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
        return v.version_text() if v is not None else self.cfg.params[config.PARAM_VEHICLETYPE]

    # ---- paranoid mode ---------------------------------------------------------
    def paranoid(self):
        return self.cfg.params[config.PARAM_PARANOID].startswith("P")

    def _ptoken(self):
        if self.ptoken is None:
            if self.randbytes is None:
                raise ValueError("paranoid mode needs a random source")
            self.ptoken = login_code("make_token", self.randbytes)
        return self.ptoken

    def pdigest(self):
        modpass = self.cfg.params[config.PARAM_MODULEPASS]
        key = (modpass, self._ptoken())
        if self._pdigest_for != key:
            self._pdigest = login_code("paranoid_digest", modpass, key[1])
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
            n = units.atoi(data) if units.digits(data[:1]) else 0  # the leading digits: no sign
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

    def app_set(self):
        # Z>0: S, L, W, F, D at once. D105: made by ovms/v2/commands.py, loaded for it and
        # dropped after (an app connects a few times a day); no room or no module for it:
        # no set now (counted in errors, logged), the periodic set follows at the apps'
        # cadence
        try:
            try:
                cmds = lazy.load(_COMMANDS)
            except (ImportError, MemoryError) as e:
                self.errors += 1
                log.lossy(log.get("v2").error, "app set failed: %r", e)
                return []
            return cmds.app_set(self)
        finally:
            cmds = None
            lazy.unload(_COMMANDS)

    def _garbled(self, code):
        # a wrapped message we cannot read: a C still gets its one reply (D43)
        if code != "C":
            return []
        self.got_command = True
        return [_GARBLED]

    # ---- commands (§8) ---------------------------------------------------------------
    def command(self, data, now_s=0):
        # exactly one reply (D43), whatever the command text
        i = data.find(",")
        cmd = data if i < 0 else data[:i]
        self.got_command = True
        if not units.digits(cmd) or len(cmd) > 5 or int(cmd) > 65535:
            return [_GARBLED]
        code = int(cmd)
        # D99: the command code is imported for this command only and unloaded after it
        # (ovms/lazy.py): heap on a 64 KB board. A Deferred it returns keeps the module's
        # globals (through its finish function) until the answer is made, then they go.
        try:
            run = lazy.load(_COMMANDS).run
            out = run(self, code, i >= 0, "" if i < 0 else data[i + 1 :], now_s)
        except Exception as e:  # a bug, or no heap / no module for the command code:
            self.errors += 1  # that must not cost the reply (the server's queue, D43)
            log.lossy(log.get("v2").error, "command %d failed: %r", code, e)
            return ["MP-0 c%d,1,Internal error" % code]
        finally:
            lazy.unload(_COMMANDS)
        if not out:
            return ["MP-0 c%d,3" % code]
        return out

    def after_send(self):
        # call once the replies of a command are written: C5 reboots now
        if self.reboot_pending:
            self.reboot_pending = False
            if self.on_reboot is not None:
                self.on_reboot()
