# The framework SMS command table and the texts other modules need without running a
# command (spec §5). Licence: MIT (this project).
#
# Resident, and only literals (in flash; the heap keeps this module's globals): the texts
# ovms.sms answers when its code cannot be loaded and other modules (ovms.v2.commands)
# need. The matching (ovms.sms_run, D123) and the command bodies (ovms.sms_cmds, D98)
# are loaded only while an SMS is handled.

PERMISSION_DENIED = "Permission denied"

NOT_SUPPORTED = "Not supported by this vehicle (Renault Twizy)"
ERR_NOT_SAVED = "Error: settings could not be saved"
ERR_NUMBER = "Error: this sender is not a phone number that can be registered"
# the command code could not be loaded (no memory for it now, D98); nothing was changed
ERR_NOT_LOADED = "Error: command not available now, please try again later"

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
