# Parameters (32 text slots) and features (16 integers) of the OVMS framework.
# Licence: MIT (this project).
#
# Spec: ovms-v2-sms.md §1-2. Features 8-15 persist in parameters 24-31 as the
# text given; at boot the feature value is atoi() of that text (D5: full width,
# negatives become 0). Persistence itself is pluggable: `store` (if set) gets
# save(config) after every change; see ovms.store.

from ovms.twizy.units import atoi

N_PARAMS = 32
N_FEATURES = 16
PARAM_MAX_LEN = 31

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
PARAM_FEATURE_BASE = 16

FEATURE_STREAM = 8
FEATURE_MINSOC = 9
FEATURE_SUFFSOC = 10
FEATURE_SUFFRANGE = 11
FEATURE_MAXRANGE = 12
FEATURE_CARBITS = 14
FEATURE_CANWRITE = 15

CARBITS_NO_DENIED_SMS = 0x02
CARBITS_NO_SMS = 0x04

DEFAULTS = {PARAM_REGPHONE: "NOPHONE", PARAM_MODULEPASS: "OVMS", PARAM_MILESKM: "K"}


class Config:
    def __init__(self, params=None, store=None):
        self.params = [""] * N_PARAMS
        for k in DEFAULTS:
            self.params[k] = DEFAULTS[k]
        if params:
            for k in params:
                self.params[k] = _clip(params[k])
        self.features = [0] * N_FEATURES
        self.load_features()
        self.store = store

    def load_features(self):
        for k in range(8, N_FEATURES):
            self.features[k] = _feature_value(self.params[PARAM_FEATURE_BASE + k])

    def param(self, n):
        return self.params[n]

    def set_param(self, n, text, save=True):
        self.params[n] = _clip(text)
        if PARAM_FEATURE_BASE + 8 <= n < N_PARAMS:
            self.features[n - PARAM_FEATURE_BASE] = _feature_value(self.params[n])
        if save:
            self.save()

    def set_feature(self, k, text, save=True):
        # Features 8-15 are stored as the argument text, 0-7 are volatile.
        text = "%s" % text
        if k >= 8:
            self.set_param(PARAM_FEATURE_BASE + k, text, save)
        else:
            self.features[k] = _feature_value(text)

    def save(self):
        if self.store is not None:
            self.store.save(self)

    def units(self):
        # first character of parameter 2; no slicing: called from the tick
        return "M" if self.params[PARAM_MILESKM].startswith("M") else "K"

    def notify_sms(self):
        return "SMS" in self.params[PARAM_NOTIFIES]

    def notify_ip(self):
        return "IP" in self.params[PARAM_NOTIFIES]


def _clip(text):
    return text[:PARAM_MAX_LEN]


def _feature_value(text):
    v = atoi(text)
    return v if v > 0 else 0
