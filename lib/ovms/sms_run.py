# The handling of one SMS command (ovms.sms.SmsInterpreter.handle): parsing, the
# authorisation, the framework commands, the vehicle's, forwarding. Licence: MIT (this
# project).
#
# Spec: ovms-v2-sms.md §3 (processing), §4 (authorisation), §5 (command table),
# twizy-vehicle.md §7.0 (vehicle table, parsing). The decisions are listed in
# ovms/sms.py; the ones about the code here:
# - D123: not resident. SmsInterpreter.handle() loads this module (and through it
#   ovms.sms_guard) for one SMS and unloads them after it (ovms/lazy.py): an SMS comes a
#   few times an hour, the code would otherwise keep ≈ 1 KB of heap all day. Nothing
#   here keeps state between SMS (it would be lost with the module): the interpreter
#   `fw` holds it (settings, hooks, now_s, the guess limits D37: fw.guard, D124).
# - D98: the framework command bodies (ovms.sms_cmds) are loaded for each command and
#   unloaded after it (_framework); if they cannot be loaded (no memory), the reply is
#   ERR_NOT_LOADED and nothing changes.
# - Parsing: CR, LF and TAB become spaces, leading/trailing spaces are
#   ignored, runs of spaces separate like one; the first word is upper-cased
#   in ASCII only (identical in both runtimes). An entry ending in a space
#   needs an argument, so "PASS " is "PASS" (not a command). An empty SMS is
#   dropped.

from ovms import lazy, log
from ovms.config import (
    CARBITS_NO_DENIED_SMS,
    CARBITS_NO_SMS,
    FEATURE_CARBITS,
    FEATURE_MAXRANGE,
    FEATURE_SUFFRANGE,
    FEATURE_SUFFSOC,
    PARAM_MODULEPASS,
    PARAM_REGPHONE,
    check_feature,
)
from ovms.sms import rollback
from ovms.sms_auth import is_owner, normal_number
from ovms.sms_guard import blocked, failed, may_guess, password_ok, sender_key
from ovms.sms_table import ERR_NOT_LOADED, ERR_NOT_SAVED, PERMISSION_DENIED, TABLE

_FORWARD_MAX = const(170)  # characters of a forwarded text
_CMDS = const("ovms.sms_cmds")  # the framework command bodies, loaded per command (D98)
_ERR_CA_ARGS = const("Error: CA takes at most two values")

# entries the vehicle module replaces (asked first) or extends (appends to
# the framework reply), by entry text (spec §3 step 5, twizy-vehicle.md §7.0)
VEHICLE_REPLACES = ("STAT",)
VEHICLE_EXTENDS = ("HELP",)


# ---- the one SMS-command parser (the interpreter, server command 7, MQTT commands) ----
def clean(text):
    # CR, LF and TAB become spaces, the ends are stripped (also the forwarded text)
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ").strip(" ")


def upper(w):
    # ASCII-only upper case: CPython's str.upper() maps e.g. "ſ" to "S" and
    # "ß" to "SS", MicroPython's does not; commands are ASCII anyway
    for ch in w:
        if ch > "\x7f":
            return "".join([c.upper() if c <= "\x7f" else c for c in w])
    return w.upper()


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


def vehicle_error(cmd, word, args):
    # -> error reply for a vehicle setter with a value out of its cap, else None
    # (D39: the vehicle's RANGE and CA are checked here before the vehicle runs them)
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


_DROP = object()  # _authorise: drop the SMS unanswered (global guess limit)


# ---- one SMS -----------------------------------------------------------------------
def handle(fw, sender, text, now_s, trusted):
    # One received SMS -> list of reply texts ([] = no reply); see SmsInterpreter.handle
    if fw.clock is not None:
        now_s = fw.clock()
    elif now_s is None:
        now_s = fw.now_s
    fw.now_s = now_s
    sender = sender or ""
    text = clean(text)
    word, args, line = parse(text)
    if not word:
        return []
    registered = trusted or is_owner(fw.cfg.params[PARAM_REGPHONE], sender)
    key = None
    if not registered:
        key = sender_key(sender)
        if blocked(fw.guard, key, now_s):
            return []
    entry = entry_of(line)
    cmd = None
    if entry is not None:
        mode = entry[1]
    elif fw.vehicle is not None:
        cmd = fw.vehicle.match(word)
        if cmd is None:
            _forward(fw, sender, text)
            return []
        mode = 3  # all vehicle commands (twizy-vehicle.md §7.0)
    else:
        _forward(fw, sender, text)
        return []

    ok, args = _authorise(fw, entry, mode, args, registered, trusted, now_s)
    if ok is _DROP:
        return []
    if not ok:
        if key is not None:  # the owner is never counted
            failed(fw.guard, key, now_s, args is None, fw._log)
        if _carbits(fw) & CARBITS_NO_DENIED_SMS:
            return _out(fw, [])
        return _out(fw, [PERMISSION_DENIED])

    if cmd is not None:
        err = vehicle_error(cmd, word, args)
        if err:
            return _out(fw, [err])
    fw._undo = list(fw.cfg.params)
    try:
        if cmd is not None:
            out = fw.vehicle.sms(word, args) or []
        else:
            out = _run(fw, entry, sender, word, args)
    except OSError as e:  # flash write failed inside a vehicle command
        rollback(fw.cfg, fw._undo, e)
        out = [ERR_NOT_SAVED]
    fw._undo = None
    return _out(fw, out)


def _run(fw, entry, sender, word, args):
    name = entry[0]
    v = fw.vehicle
    if v is not None and name in VEHICLE_REPLACES:
        out = v.sms(word, args)
        if out is not None:
            return out
    out = _framework(fw, entry[2], sender, word, args)
    if out is None:  # the command code could not be loaded: no vehicle text added
        return [ERR_NOT_LOADED]
    if out and v is not None and name in VEHICLE_EXTENDS:
        ext = v.sms(word, args)
        if ext:
            out[-1] = out[-1] + "".join(ext)
    return out


def _framework(fw, handler, sender, word, args):
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
        log.lossy(fw._log.error, "SMS commands not loaded: %r", e)
        return None
    try:
        return getattr(cmds, handler)(fw, sender, word, args)
    finally:
        lazy.unload(_CMDS)  # no reference to it is left: the next gc frees it


def _out(fw, out):
    # feature 14 bit 0x04: no SMS at all (settings have been changed)
    if _carbits(fw) & CARBITS_NO_SMS:
        return []
    return out


def _carbits(fw):
    return fw.cfg.features[FEATURE_CARBITS]


# ---- authorisation (spec §4, D36, D37) ----------------------------------------------
def _authorise(fw, entry, mode, args, registered, trusted, now_s):
    # -> (True, args without the password) | (False, None: a wrong password;
    # args: no password given) | (_DROP, args): global guess limit reached
    if trusted:
        if mode == 1:
            return True, args[1:]
        return True, args
    # not registered yet: REGISTER with the module password only
    if normal_number(fw.cfg.params[PARAM_REGPHONE]) is None and (
        entry is None or entry[0] != "REGISTER"
    ):
        return False, args
    if mode == 1 or (mode == 3 and not registered):
        if not args:
            return False, args
        if not registered and not may_guess(fw.guard, now_s):
            return _DROP, args
        if password_ok(fw.cfg.params[PARAM_MODULEPASS], args[0]):
            return True, args[1:]
        if registered:  # the owner's own typo: never counted
            return False, args
        return False, None
    return registered, args


# ---- forwarding (spec §3 step 7) ------------------------------------------------------
def _forward(fw, sender, text):
    if not fw.net.server_ok:
        return
    fw.push("SMS FROM: %s - MSG: %s" % (sender, text[:_FORWARD_MAX]))
