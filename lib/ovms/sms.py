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
#   nobody. Module password (ovms.sms_guard): prefix match (spec), an empty parameter 1 matches
#   nothing; there is no factory password (D35, ovms.config / ovms.owner).
# - Until a phone is registered (parameter 0 not a phone number) the only command
#   accepted by SMS is REGISTER with the module password (AP too needs a
#   registered module). The DIAG console (trusted=True) is always accepted.
# - Mode 3: "Permission denied" only when both the phone and the password
#   check fail (the 2013 quirk sent it even when the password then passed).
# - Rate limit (D37, ovms.sms_guard): 3 failed authorisations within
#   10 min from one sender ignore it completely (no reply, no processing, no
#   forwarding) for 10 min; across all senders at most 10 wrong passwords, then
#   one every 6 min, beyond that every SMS needing a password is dropped
#   unanswered. The registered phone is never counted, blocked or stopped.
#   Without now_s the last time given is used; with a clock (D92) only the clock.
# - Values are checked before they are stored (D39, ovms.sms_cmds): a bad
#   value gets an "Error: ..." reply and nothing changes.
# - D98: the framework command bodies (ovms.sms_cmds) are not resident: they are
#   loaded for each command and unloaded after it (ovms.sms_run._framework); the table
#   and the texts other modules need are in ovms.sms_table. If they cannot be loaded
#   (no memory), the reply is ERR_NOT_LOADED and nothing changes.
# - D123: the handling code is not resident either: handle() loads ovms.sms_run (the
#   parsing, the authorisation, the commands, the forwarding; it imports
#   ovms.sms_guard, the password checks and D37's limits) for one SMS and unloads both
#   after it (ovms/lazy.py), ≈ 1 KB of heap back between SMS. Resident are the state
#   (below), a thin handle()/push() and the owner check. If that code cannot be loaded
#   (MemoryError, ImportError) nothing runs and nothing changes: the registered owner
#   (or the DIAG console) gets ERR_NOT_LOADED, anyone else nothing (no hint that a
#   command exists), logged lossily (D96); never a traceback. is_command() loads it
#   the same way; when it cannot, it says True so that handle() answers ERR_NOT_LOADED
#   to server command 7 / MQTT instead of "Unknown command".
# - D124: the guess limits' counters (D37) must survive between SMS: they are
#   attributes of the interpreter itself (fails, guesses, refill_s, wrong, dropped),
#   and .guard is the interpreter (fw.guard is fw): a resident Guard class and
#   instance would cost ≈ 150 bytes more. ovms.sms_guard's functions take it.
# - Feature 14 bit 0x04 suppresses every reply (settings still change), bit
#   0x02 the "Permission denied" reply. A blocked or unauthorised sender never
#   gets anything else back.
# - Commands the Twizy cannot carry out (HOMELINK, LOCK, UNLOCK, VALET,
#   UNVALET, CHARGEMODE, CHARGESTART, CHARGESTOP) reply NOT_SUPPORTED instead
#   of the 2013 confirmation text (still auth mode 2; CHARGEMODE with an
#   unknown mode still gets no reply, as in 2013).
# - Parsing (ovms.sms_run): CR, LF and TAB become spaces, runs of spaces separate like
#   one, the first word is upper-cased in ASCII only; an empty SMS is dropped.
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
#
# D129: resident (the modem hands every SMS here); HELP_TEXT is ovms.sms_table's (no
# re-export here): 12 names, 12 slots (was 14 names, 17 slots: 144 -> 96 bytes).

from ovms import lazy, log
from ovms.net import NetStatus  # noqa: F401 (also re-exported: ovms.sms.NetStatus)
from ovms.sms_auth import is_owner
from ovms.sms_table import ERR_NOT_LOADED, ERR_NOT_SAVED  # noqa: F401 (ERR_NOT_SAVED: re-exported)

_FRAMEWORK_VERSION = const("3.0.0")
_HARDWARE = const("HOST")

_PUSH_PREFIX = const("MP-0 PA")
_OUTBOX_MAX = const(8)  # push lines kept without on_push
_RUN = const("ovms.sms_run")  # the handling code, loaded per SMS (D123)
_GUARD = const("ovms.sms_guard")  # imported by it (D37's checks)
# copies of ovms.config / ovms.sms_guard numbers, folded here instead of imported
# (a globals entry each); test_sms_lazy checks that they agree
_PARAM_REGPHONE = const(0)
_FEATURE_CARBITS = const(14)
_CARBITS_NO_SMS = const(0x04)
_GLOBAL_GUESSES = const(10)


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


def is_command(text, vehicle=None):
    # the text is an SMS command (the framework's or the vehicle's): what server command
    # 7 and MQTT run; anything else the interpreter would forward as "SMS FROM" (D90).
    # D123: the parser is loaded for it; without it: True, handle() answers ERR_NOT_LOADED
    try:
        return lazy.load(_RUN).is_command(text, vehicle)
    except Exception as e:
        log.lossy(log.get("sms").error, "SMS code not loaded: %r", e)
        return True
    finally:
        lazy.unload(_RUN)
        lazy.unload(_GUARD)


class SmsInterpreter:
    def __init__(
        self,
        config,
        vehicle=None,
        net=None,
        version=_FRAMEWORK_VERSION,
        hardware=_HARDWARE,
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
        # rate limits (D37, ovms.sms_guard); D124: kept here, .guard is this object
        self.guard = self
        self.fails = {}  # sender key -> [first failure s, failures, blocked until s | None]
        self.guesses = _GLOBAL_GUESSES  # wrong passwords still allowed now
        self.refill_s = None  # time the bucket was last topped up
        self.wrong = 0  # wrong passwords seen (all senders)
        self.dropped = 0  # SMS dropped: sender blocked or bucket empty
        self._undo = None  # parameters before the running command (ovms.sms_cmds._commit)
        self._log = log.get("sms")

    # ---- entry point -----------------------------------------------------------
    def handle(self, sender, text, now_s=None, trusted=False):
        # One received SMS -> list of reply texts ([] = no reply).
        # trusted: DIAG console (physical access), passes every auth check.
        # D123: the code is loaded for this SMS (ovms.sms_run) and unloaded after it.
        try:
            run = lazy.load(_RUN)
        except Exception as e:  # no heap for it now (MemoryError), no module (ImportError)
            lazy.unload(_RUN)  # what a half-done import may have left
            lazy.unload(_GUARD)
            log.lossy(self._log.error, "SMS code not loaded: %r", e)
            # nothing ran: the owner hears so, anyone else nothing (fail closed)
            if not text.strip(" \r\n\t") or self.cfg.features[_FEATURE_CARBITS] & _CARBITS_NO_SMS:
                return []
            if trusted or is_owner(self.cfg.params[_PARAM_REGPHONE], sender or ""):
                return [ERR_NOT_LOADED]
            return []
        try:
            return run.handle(self, sender, text, now_s, trusted)
        finally:
            run = None
            lazy.unload(_RUN)  # no reference to them is left: the next gc frees them
            lazy.unload(_GUARD)

    def push(self, text):
        # a "MP-0 PA<text>" push alert for the server
        line = _PUSH_PREFIX + text
        if self.on_push is not None:
            self.on_push(line)
        else:
            if len(self.outbox) >= _OUTBOX_MAX:
                self.outbox.pop(0)
            self.outbox.append(line)
