# The framework SMS command table and the texts other modules need without running a
# command (spec §5). Licence: MIT (this project).
#
# Resident (ovms.sms matches texts against TABLE); the command bodies are in
# ovms.sms_cmds, loaded only while a command runs (D98, ovms.sms._framework). Measured
# on the 32-bit unix build with the firmware frozen: this module keeps 208 bytes of heap
# after import (TABLE and HELP_TEXT are literals in flash); sms_cmds cost 2016 resident.

from ovms.compat import const
from ovms.config import FEATURE_MAXRANGE, FEATURE_SUFFRANGE, FEATURE_SUFFSOC, check_feature

NOT_SUPPORTED = "Not supported by this vehicle (Renault Twizy)"
ERR_NOT_SAVED = "Error: settings could not be saved"
ERR_NUMBER = "Error: this sender is not a phone number that can be registered"
# the command code could not be loaded (no memory for it now, D98); nothing was changed
ERR_NOT_LOADED = "Error: command not available now, please try again later"
_ERR_CA_ARGS = const("Error: CA takes at most two values")

# The framework command table, in matching order (spec §5):
# (entry text, auth mode, name of the handler function in ovms.sms_cmds)
TABLE = (
    ("REGISTER?", 3, "register_q"),
    ("REGISTER", 1, "register"),
    ("PASS?", 3, "pass_q"),
    ("PASS ", 2, "pass_"),
    ("GPS", 3, "gps"),
    ("STAT", 3, "stat"),
    ("PARAMS?", 3, "params_q"),
    ("PARAMS ", 2, "params"),
    ("AP ", 1, "ap"),
    ("MODULE?", 3, "module_q"),
    ("MODULE ", 2, "module"),
    ("GPRS?", 3, "gprs_q"),
    ("GPRS ", 2, "gprs"),
    ("GSMLOCK?", 3, "gsmlock_q"),
    ("GSMLOCK", 2, "gsmlock"),
    ("SERVER?", 3, "server_q"),
    ("SERVER ", 2, "server"),
    ("DIAG", 3, "diag"),
    ("FEATURES?", 3, "features_q"),
    ("FEATURE ", 2, "feature"),
    ("HOMELINK ", 2, "unsupported"),
    ("LOCK ", 2, "unsupported"),
    ("UNLOCK ", 2, "unsupported"),
    ("VALET ", 2, "unsupported"),
    ("UNVALET ", 2, "unsupported"),
    ("CHARGEMODE ", 2, "chargemode"),
    ("CHARGESTART", 2, "unsupported"),
    ("CHARGESTOP", 2, "unsupported"),
    ("VERSION", 3, "version"),
    ("RESET", 3, "reset"),
    ("HELP", 3, "help_"),
    ("DATA?", 3, "data_q"),  # D71: mobile data this month; not in HELP (spec text)
)

# the entries above but DATA?, each after a space (as the spec writes it); a literal, not
# joined at import, so it stays in flash (test_sms checks it against TABLE)
HELP_TEXT = (
    "Commands: REGISTER? REGISTER PASS? PASS  GPS STAT PARAMS? PARAMS  AP  MODULE? MODULE  "
    "GPRS? GPRS  GSMLOCK? GSMLOCK SERVER? SERVER  DIAG FEATURES? FEATURE  HOMELINK  LOCK  "
    "UNLOCK  VALET  UNVALET  CHARGEMODE  CHARGESTART CHARGESTOP VERSION RESET HELP"
)


def upper(w):
    # ASCII-only upper case: CPython's str.upper() maps e.g. "ſ" to "S" and
    # "ß" to "SS", MicroPython's does not; commands are ASCII anyway
    for ch in w:
        if ch > "\x7f":
            return "".join([c.upper() if c <= "\x7f" else c for c in w])
    return w.upper()


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
