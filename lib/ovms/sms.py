# SMS command interpreter of the OVMS framework: authorisation, framework commands,
# vehicle hooks, forwarding of unknown texts to the server.
# Licence: MIT (this project).
#
# Spec: ovms-v2-sms.md §3 (processing), §4 (authorisation), §5 (command table),
# twizy-vehicle.md §7.0 (vehicle table, parsing). Pure core: time comes in as
# `now_s` (seconds, any monotonic origin), the network state as a NetStatus-like
# object, actions outside the core as callbacks. Runs once per received SMS.
#
#   fw = SmsInterpreter(config, vehicle, net=NetStatus(), version="3.0.0", hardware="ESP32")
#   replies = fw.handle("+4915100000000", "STAT", now_s=uptime)
#
# handle() returns the reply texts unsplit (ovms.smsout.shape() makes SMS of
# them) or [] for no reply.
#
# Decisions where the spec is silent or the 2013 behaviour was a hole:
# - Registered phone: exact match after number normalisation (D36, see
#   ovms.sms_auth); an empty parameter 0, "NOPHONE" or any non-number matches
#   nobody. Module password: prefix match (spec), an empty parameter 1 matches
#   nothing; there is no factory password (D35, ovms.config / ovms.owner).
# - Until a phone is registered (parameter 0 not a phone number) the only command
#   accepted by SMS is REGISTER with the module password (AP too needs a
#   registered module). The DIAG console (trusted=True) is always accepted.
# - Mode 3: "Permission denied" only when both the phone and the password
#   check fail (the 2013 quirk sent it even when the password then passed).
# - Rate limit (D37, ovms.sms_auth.Guard): 3 failed authorisations within
#   10 min from one sender ignore it completely (no reply, no processing, no
#   forwarding) for 10 min; across all senders at most 10 wrong passwords, then
#   one every 6 min, beyond that every SMS needing a password is dropped
#   unanswered. The registered phone is never counted, blocked or stopped.
#   Without now_s the last time given is used; with a clock (D92) only the clock.
# - Values are checked before they are stored (D39, ovms.sms_cmds): a bad
#   value gets an "Error: ..." reply and nothing changes.
# - D98: the framework command bodies (ovms.sms_cmds) are not resident: they are
#   loaded for each command and unloaded after it (_framework); the table and the
#   texts other modules need are in ovms.sms_table. If they cannot be loaded (no
#   memory), the reply is ERR_NOT_LOADED and nothing changes.
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

from ovms import lazy, log
from ovms.compat import const
from ovms.config import (  # noqa: F401 (NOPHONE: re-exported)
    CARBITS_NO_DENIED_SMS,
    CARBITS_NO_SMS,
    FEATURE_CARBITS,
    NOPHONE,
    PARAM_MODULEPASS,
    PARAM_REGPHONE,
)
from ovms.net import NetStatus  # noqa: F401 (re-exported: ovms.sms.NetStatus)
from ovms.sms_auth import Guard, is_owner, normal_number, password_ok, sender_key
from ovms.sms_table import (  # noqa: F401 (re-exported: ovms.sms is the public name)
    ERR_NOT_LOADED,
    ERR_NOT_SAVED,
    ERR_NUMBER,
    HELP_TEXT,
    NOT_SUPPORTED,
    TABLE,
    upper,
    vehicle_error,
)

_FRAMEWORK_VERSION = const("3.0.0")
HARDWARE = "HOST"

PERMISSION_DENIED = "Permission denied"

_PUSH_PREFIX = const("MP-0 PA")
_FORWARD_MAX = const(170)  # characters of a forwarded text
_OUTBOX_MAX = const(8)  # push lines kept without on_push
_CMDS = const("ovms.sms_cmds")  # the framework command bodies, loaded per command (D98)

# entries the vehicle module replaces (asked first) or extends (appends to
# the framework reply), by entry text (spec §3 step 5, twizy-vehicle.md §7.0)
VEHICLE_REPLACES = ("STAT",)
VEHICLE_EXTENDS = ("HELP",)


def rollback(cfg, undo, err, who="sms"):
    # a flash write failed: log it and put the parameters back to `undo` (a copy taken
    # before the change), so RAM and flash agree (SMS commands, server C2/C4/C202/C204)
    log.get(who).error("saving settings failed: %s", err)
    if undo is not None:
        cfg.params[:] = undo
        cfg.load_features()


def save_or_rollback(cfg, undo):
    # save the settings; False (and rolled back) if the flash write failed: nothing is
    # acknowledged that the next boot would lose
    try:
        cfg.save()
        return True
    except OSError as e:
        rollback(cfg, undo, e)
        return False


# ---- the one SMS-command parser (the interpreter, server command 7, MQTT commands) ----
def clean(text):
    # CR, LF and TAB become spaces, the ends are stripped (also the forwarded text)
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ").strip(" ")


def parse(text):
    # a clean()ed text -> (WORD in ASCII upper case, args, line as matched against the
    # table); WORD "" for an empty text. Runs of spaces separate like one.
    words = [w for w in text.split(" ") if w]
    if not words:
        return "", [], ""
    word = upper(words[0])
    args = words[1:]
    return word, args, (word + " " + " ".join(args) if args else word)


def entry_of(line):
    # the framework table's entry the line starts with, or None (spec §5 order)
    for e in TABLE:
        if line.startswith(e[0]):
            return e
    return None


def is_command(text, vehicle=None):
    # the text is an SMS command (the framework's or the vehicle's): what server command
    # 7 and MQTT run; anything else the interpreter would forward as "SMS FROM" (D90)
    word, _, line = parse(clean(text))
    if not word:
        return False
    return entry_of(line) is not None or (vehicle is not None and vehicle.match(word) is not None)


_DROP = object()  # _authorise: drop the SMS unanswered (global guess limit)


class SmsInterpreter:
    def __init__(
        self,
        config,
        vehicle=None,
        net=None,
        version=_FRAMEWORK_VERSION,
        hardware=HARDWARE,
        on_reset=None,
        on_vehicle_reinit=None,
        on_net_change=None,
        on_push=None,
        clock=None,
    ):
        self.cfg = config
        self.vehicle = vehicle
        if net is None:
            net = getattr(vehicle, "net", None) or NetStatus()
        self.net = net  # what the tasks know of the network; read only here
        if hasattr(vehicle, "net"):
            vehicle.net = net  # D93: one network status, the vehicle reads the same
        self.version = version
        self.hardware = hardware
        # hooks into the wiring (each a callable without arguments, or None)
        self.on_reset = on_reset  # RESET: restart modem and network
        self.on_vehicle_reinit = on_vehicle_reinit  # parameter 2/14 or feature 15 changed
        self.on_net_change = on_net_change  # server/GPRS/GSM settings changed
        self.on_push = on_push  # f(line): a server push line; None: kept in .outbox
        self.outbox = []  # push lines when on_push is None (at most 8, oldest dropped)
        self.now_s = 0
        # D92: one clock for every way in (SMS, console, server command 7, MQTT): with
        # clock (a callable -> seconds) set, handle() reads it and ignores its callers'
        # now_s, so the rate limits (D37) never see two time origins
        self.clock = clock
        self.guard = Guard()  # rate limits (D37)
        self._fails = self.guard.fails  # per-sender table (tests look at its size)
        self._undo = None  # parameters before the running command (ovms.sms_cmds._commit)
        self._log = log.get("sms")

    # ---- entry point -----------------------------------------------------------
    def handle(self, sender, text, now_s=None, trusted=False):
        # One received SMS -> list of reply texts ([] = no reply).
        # trusted: DIAG console (physical access), passes every auth check.
        if self.clock is not None:
            now_s = self.clock()
        elif now_s is None:
            now_s = self.now_s
        self.now_s = now_s
        sender = sender or ""
        text = clean(text)
        word, args, line = parse(text)
        if not word:
            return []
        registered = trusted or self.registered(sender)
        key = None
        if not registered:
            key = sender_key(sender)
            if self.guard.blocked(key, now_s):
                return []
        entry = entry_of(line)
        cmd = None
        if entry is not None:
            mode = entry[1]
        elif self.vehicle is not None:
            cmd = self.vehicle.match(word)
            if cmd is None:
                self._forward(sender, text)
                return []
            mode = 3  # all vehicle commands (twizy-vehicle.md §7.0)
        else:
            self._forward(sender, text)
            return []

        ok, args = self._authorise(entry, mode, args, registered, trusted, now_s)
        if ok is _DROP:
            return []
        if not ok:
            if key is not None:  # the owner is never counted
                self.guard.failed(key, now_s, args is None, self._log)
            if self._carbits() & CARBITS_NO_DENIED_SMS:
                return self._out([])
            return self._out([PERMISSION_DENIED])

        if cmd is not None:
            err = vehicle_error(cmd, word, args)
            if err:
                return self._out([err])
        self._undo = list(self.cfg.params)
        try:
            if cmd is not None:
                out = self.vehicle.sms(word, args) or []
            else:
                out = self._run(entry, sender, word, args)
        except OSError as e:  # flash write failed inside a vehicle command
            rollback(self.cfg, self._undo, e)
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
        out = self._framework(entry[2], sender, word, args)
        if out is None:  # the command code could not be loaded: no vehicle text added
            return [ERR_NOT_LOADED]
        if out and v is not None and name in VEHICLE_EXTENDS:
            ext = v.sms(word, args)
            if ext:
                out[-1] = out[-1] + "".join(ext)
        return out

    def _framework(self, handler, sender, word, args):
        # D98: the command bodies (ovms.sms_cmds, ~2 KB of heap on a 32-bit board) are
        # imported for this one command and unloaded right after: on a 64 KB heap they
        # would otherwise stay resident for the few commands a day. A failed load
        # (MemoryError in a fragmented heap, ImportError) is logged and returns None
        # (_run answers ERR_NOT_LOADED), nothing changed; never an exception out of
        # handle().
        try:
            cmds = lazy.load(_CMDS)
        except Exception as e:
            lazy.unload(_CMDS)  # what a half-done import may have left
            log.lossy(self._log.error, "SMS commands not loaded: %r", e)
            return None
        try:
            return getattr(cmds, handler)(self, sender, word, args)
        finally:
            lazy.unload(_CMDS)  # no reference to it is left: the next gc frees it

    def _out(self, out):
        # feature 14 bit 0x04: no SMS at all (settings have been changed)
        if self._carbits() & CARBITS_NO_SMS:
            return []
        return out

    def _carbits(self):
        return self.cfg.features[FEATURE_CARBITS]

    # ---- authorisation (spec §4, D36, D37) ----------------------------------------
    def registered(self, sender):
        return is_owner(self.cfg.params[PARAM_REGPHONE], sender)

    def password_ok(self, arg):
        return password_ok(self.cfg.params[PARAM_MODULEPASS], arg)

    def _authorise(self, entry, mode, args, registered, trusted, now_s):
        # -> (True, args without the password) | (False, None: a wrong password;
        # args: no password given) | (_DROP, args): global guess limit reached
        if trusted:
            if mode == 1:
                return True, args[1:]
            return True, args
        # not registered yet: REGISTER with the module password only
        if normal_number(self.cfg.params[PARAM_REGPHONE]) is None and (
            entry is None or entry[0] != "REGISTER"
        ):
            return False, args
        if mode == 1 or (mode == 3 and not registered):
            if not args:
                return False, args
            if not registered and not self.guard.may_guess(now_s):
                return _DROP, args
            if self.password_ok(args[0]):
                return True, args[1:]
            if registered:  # the owner's own typo: never counted
                return False, args
            return False, None
        return registered, args

    # ---- forwarding (spec §3 step 7) ---------------------------------------------
    def _forward(self, sender, text):
        if not self.net.server_ok:
            return
        self.push("SMS FROM: %s - MSG: %s" % (sender, text[:_FORWARD_MAX]))

    def push(self, text):
        # a "MP-0 PA<text>" push alert for the server
        line = _PUSH_PREFIX + text
        if self.on_push is not None:
            self.on_push(line)
        else:
            if len(self.outbox) >= _OUTBOX_MAX:
                self.outbox.pop(0)
            self.outbox.append(line)
