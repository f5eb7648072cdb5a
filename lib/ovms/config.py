# Parameters (32 text slots) and features (16 integers) of the OVMS framework.
# Licence: MIT (this project).
#
# Spec: ovms-v2-sms.md §1-2. Features 8-15 persist in parameters 24-31 as the
# text given; at boot the feature value is atoi() of that text (D5: full width,
# negatives become 0). Persistence itself is pluggable: `store` (if set) gets
# save(config) after every change; the firmware's is a Store (below, ovms.store),
# which after every successful save also keeps its owner copy (ovms.owner): the
# owner's number kept in a second place.
#
# D116: only what the steady state reads stays resident. Store is the settings'
# place in flash as a record (path, newest slot, the owner copy's record): its code,
# the file format, the slot logic and the owner copy (ovms.store) is loaded per
# load/save and dropped after it (ovms/lazy.py), and ovms.owner (the boot's rules)
# is boot-only. A save that cannot load its code (MemoryError, ImportError) or runs
# out of memory before the write raises OSError, as a failed flash write does: the
# callers (ovms.sms save_or_rollback, the server commands) answer ERR_NOT_SAVED and
# put RAM back; nothing was written.
#
# D35: there is no factory module password (ETSI EN 303 645 §5.1: no universal
# default password). A Config without settings has an empty parameter 1, which
# matches no password; the boot (ovms.owner.secure_boot) gives a fresh module a
# unique one. The 2013 default "OVMS" is LEGACY_PASSWORD: found in stored
# settings it is replaced at boot.
#
# D39: values are checked before they are stored (check_param, check_feature;
# the SMS commands reply the error text and change nothing):
# - no control characters (< 0x20, 0x7F-0x9F) in any parameter; the slots that
#   end up inside a quoted AT command or the server login line (4 server, 5-7
#   GPRS APN/user/password, 8 vehicle id, 13 GSM operator) take printable ASCII
#   only and no '"'; the server address only letters, digits, '.', '-', ':';
# - at most _PARAM_MAX_LEN characters: longer values are refused, not clipped;
# - features: decimal (atoi rules, D5) within _FEATURE_MAX (9, 10: SOC 0-100 %;
#   11, 12: ranges 0-500 km/mi; the rest 0-127, the PIC's signed char).
# Config itself still clips to 31 characters and, as the last line of defence
# for paths that do not check (server C4, old settings files), drops control
# characters and '"' from the AT slots: they never reach an AT command.

# D125: a module's globals table holds every name it defines or imports, grows in steps
# (..., 37, 47, 59 slots of 8 bytes) and never shrinks; 52 names here took 59 slots. So
# what only this module reads is a folded constant (_NAME = const(...): no entry), the
# helpers are read as units.atoi / units.digits, and Store.load/save import lazy when
# they run.
from ovms import units

N_PARAMS = 32
N_FEATURES = 16
_PARAM_MAX_LEN = const(31)

PARAM_REGPHONE = 0
PARAM_MODULEPASS = 1
PARAM_MILESKM = 2
PARAM_NOTIFIES = 3
PARAM_SERVERIP = 4
PARAM_GPRSAPN = 5
PARAM_GPRSUSER = 6
PARAM_GPRSPASS = 7
PARAM_VEHICLEID = 8
PARAM_SERVERPASS = 9
PARAM_PARANOID = 10
PARAM_GSMLOCK = 13
PARAM_VEHICLETYPE = 14
_PARAM_FEATURE_BASE = const(16)  # features 8-15 persist in parameters 24-31
PARAM_DATAPROFILE = 16  # "rt25" (empty) or "economy" (ovms.datause, D70)
PARAM_DATABUDGET = 17  # monthly data budget in KB, empty / 0 = none (D74)

FEATURE_STREAM = 8
FEATURE_MINSOC = 9
FEATURE_SUFFSOC = 10
FEATURE_SUFFRANGE = 11
FEATURE_MAXRANGE = 12
FEATURE_CARBITS = 14
FEATURE_CANWRITE = 15

CARBITS_NO_DENIED_SMS = 0x02
CARBITS_NO_SMS = 0x04

# MQTT uplink (issue 12: lib/ovms/mqtt/topics.py, firmware/tasks/mqtt.py)
PARAM_MQTT_HOST = 18  # broker "host[:port]" (port 1883 when left out)
PARAM_MQTT_PREFIX = 19  # topic prefix; empty: "ovms/<user>/<vehicle id>" (D76)
PARAM_MQTT_USER = 20  # broker user (its password: parameter 9, as on OVMS v3)
PARAM_UPLINK = 21  # "v2" (or empty), "mqtt" or "both"
PARAM_MQTT_DISCOVERY = 22  # Home Assistant discovery "on" ("off" or empty: none)

NOPHONE = "NOPHONE"  # parameter 0 of a module without an owner
LEGACY_PASSWORD = "OVMS"  # the 2013 factory password, never accepted (D35)


def owner_phone(p0):
    # parameter 0 -> the number alerts go to; None without an owner ("" or NOPHONE).
    # Who may command is stricter: ovms.sms_auth.is_owner (a real number only, D36)
    return None if not p0 or p0 == NOPHONE else p0


# D39: feature caps (inclusive maximum per slot; minimum 0)
_FEATURE_MAX = const((127, 127, 127, 127, 127, 127, 127, 127, 127, 100, 100, 500, 500, 127, 127,
                      127))  # fmt: skip
# parameters that go into quoted AT commands or the server login line: 4 server, 5-7 GPRS
# APN/user/password, 8 vehicle id, 13 GSM operator, 18 MQTT broker (D39)
_AT_PARAMS = const((4, 5, 6, 7, 8, 13, 18))
_HOST_CHARS = const("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:")

_ERR_TOO_LONG = const("Error: parameter %d is longer than %d characters")
_ERR_BAD_CHARS = const("Error: parameter %d contains characters that are not allowed")
_ERR_FEATURE = const("Error: feature %d must be a number from 0 to %d")
_ERR_PROFILE = const("Error: parameter 16 must be rt25 or economy")
_ERR_BUDGET = const("Error: parameter 17 must be a number of KB from 0 to 1000000")
_STORE = const("ovms.store")  # the store's code, loaded per load/save (D116)
# parameters 21 (uplink) and 22 (discovery): the values they take
_MQTT_CHOICES = const((("", "v2", "mqtt", "both"), ("", "on", "off")))


class Config:
    def __init__(self, params=None, store=None):
        self.params = [""] * N_PARAMS  # defaults: no owner, no password (D35), km
        self.params[PARAM_REGPHONE] = NOPHONE
        self.params[PARAM_MILESKM] = "K"
        if params:
            for k in params:
                self.params[k] = _clean(k, params[k])
        self.features = [0] * N_FEATURES
        self.load_features()
        self.store = store
        self.notices = []  # texts for the owner from the boot (ovms.owner.secure_boot)

    def load_features(self):
        for k in range(8, N_FEATURES):
            self.features[k] = max(units.atoi(self.params[_PARAM_FEATURE_BASE + k]), 0)

    def param(self, n):
        return self.params[n]

    def set_param(self, n, text, save=True):
        self.params[n] = _clean(n, text)
        if _PARAM_FEATURE_BASE + 8 <= n < N_PARAMS:
            self.features[n - _PARAM_FEATURE_BASE] = max(units.atoi(self.params[n]), 0)
        if save:
            self.save()

    def set_feature(self, k, text, save=True):
        # Features 8-15 are stored as the argument text, 0-7 are volatile.
        text = "%s" % text
        if k >= 8:
            self.set_param(_PARAM_FEATURE_BASE + k, text, save)
        else:
            self.features[k] = max(units.atoi(text), 0)

    def save(self):
        # raises OSError: not saved (flash write failed, or no room for the code: D116)
        if self.store is not None:
            self.store.save(self)

    def units(self):
        # first character of parameter 2; no slicing: called from the tick
        return "M" if self.params[PARAM_MILESKM].startswith("M") else "K"

    def notify_sms(self):
        return "SMS" in self.params[PARAM_NOTIFIES]

    def notify_ip(self):
        return "IP" in self.params[PARAM_NOTIFIES]


class Store:
    # D116: the settings' two slot files <path>.a/.b (format and crash safety: ovms.store)
    # as a record; also the owner copy's record (ovms.owner.owner_copy: a Store with
    # number, loaded, writes and errors added)
    def __init__(self, path, sync=None):
        self.path = path
        self.seq = 0  # sequence number of the newest good copy, 0 = none
        self.slot = 1  # index of the newest good copy (the next save goes to the other)
        self.scanned = False  # seq and slot known (load() or the first save() looked)
        self.sync = sync  # flush after a write; None: on MicroPython (flash) only
        self.last_written = None  # file name of the last save() (tests tear it)
        self.copy = None  # the owner copy's Store: follows parameter 0 after every save

    def load(self):
        # -> Config with the newest good settings (or the defaults), this store attached
        from ovms import lazy

        try:
            return lazy.load(_STORE).load(self)
        finally:
            lazy.unload(_STORE)

    def save(self, config):
        # write the settings, then keep the owner copy; OSError: nothing written
        from ovms import lazy

        try:
            lazy.load(_STORE).save(self, config)
        except (ImportError, MemoryError):
            raise OSError("no room for the settings code")  # D116: as a failed write
        finally:
            lazy.unload(_STORE)


def check_param(n, text):
    # -> None if `text` may be stored in parameter n, else the error reply (D39)
    if len(text) > _PARAM_MAX_LEN:
        return _ERR_TOO_LONG % (n, _PARAM_MAX_LEN)
    at = n in _AT_PARAMS
    for ch in text:
        if ch < " " or "\x7f" <= ch <= "\x9f" or (at and (ch == '"' or ch > "~")):
            return _ERR_BAD_CHARS % n
        if (n == PARAM_SERVERIP or n == PARAM_MQTT_HOST) and ch not in _HOST_CHARS:
            return _ERR_BAD_CHARS % n
    if PARAM_MQTT_HOST <= n <= PARAM_MQTT_DISCOVERY:
        return _check_mqtt(n, text)
    if _PARAM_FEATURE_BASE + 8 <= n < N_PARAMS:
        return check_feature(n - _PARAM_FEATURE_BASE, text)
    if n == PARAM_DATAPROFILE and text.lower() not in ("", "rt25", "economy"):
        return _ERR_PROFILE
    if (
        n == PARAM_DATABUDGET
        and text
        and not (len(text) < 10 and units.digits(text) and int(text) <= 1000000)
    ):
        return _ERR_BUDGET
    return None


def check_feature(k, text):
    # -> None if feature k may be set to `text` (atoi rules, D5), else the error reply
    if len(text) > _PARAM_MAX_LEN:
        return _ERR_TOO_LONG % (_PARAM_FEATURE_BASE + k, _PARAM_MAX_LEN)
    for ch in text:
        if ch < " " or ch > "~":
            return _ERR_FEATURE % (k, _FEATURE_MAX[k])
    v = units.atoi(text)
    if v < 0 or v > _FEATURE_MAX[k]:
        return _ERR_FEATURE % (k, _FEATURE_MAX[k])
    return None


def _clean(n, text):
    # clip to 31 characters; AT slots lose control characters and '"' (D39)
    text = text[:_PARAM_MAX_LEN]
    if n in _AT_PARAMS:
        for ch in text:
            if ch < " " or ch == '"' or "\x7f" <= ch <= "\x9f":
                return "".join(
                    [c for c in text if c >= " " and c != '"' and not "\x7f" <= c <= "\x9f"]
                )
    return text


def _check_mqtt(n, text):
    # parameters 18-22 (the MQTT uplink) -> None or the error reply
    if n == PARAM_UPLINK or n == PARAM_MQTT_DISCOVERY:
        choices = _MQTT_CHOICES[n - PARAM_UPLINK]
        if text.lower() not in choices:
            return "Error: parameter %d must be one of %s" % (n, "/".join(choices[1:]))
        return None
    if n == PARAM_MQTT_HOST:
        i = text.rfind(":")
        port = text[i + 1 :] if i >= 0 else "1883"
        if text and (i == 0 or not port or len(port) > 5 or min(port) < "0" or max(port) > "9"
                     or not 0 < int(port) < 65536):  # fmt: skip
            return "Error: parameter 18 must be host or host:port"
        return None
    for ch in text:  # 19 prefix, 20 user: no MQTT wildcards, no blanks, ASCII
        if ch in "+# " or ch > "~" or (n == PARAM_MQTT_USER and ch == "/"):
            return _ERR_BAD_CHARS % n
    if text.startswith("/"):
        return _ERR_BAD_CHARS % n
    return None
