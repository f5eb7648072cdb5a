# The owner at boot: a second copy of the owner's number, the settings-loss rule,
# the module's unique password. Licence: MIT (this project).
#
#   copy = OwnerCopy(cfg_path + ".owner")
#   notices = secure_boot(cfg, store, copy, defaults=board_defaults,
#                         unique_id=machine.unique_id(), randbytes=os.urandom)
#   for text in notices: link.send_sms(text)       # to the (restored) owner
#
# OwnerCopy keeps parameter 0 in <path>.a / <path>.b, written by ovms.store.Store
# (same format and crash safety: two CRC-checked slots, a torn write at any byte
# leaves the previous copy). Config.save() calls sync() after every successful
# settings save; it writes only when the owner changed (REGISTER, AP, server C4),
# so a few writes in the module's life. A failed copy write is logged and
# counted, never raised: the settings themselves were saved.
#
# secure_boot() runs once after Store.load(), before anything reads the settings; its
# texts are also left in cfg.notices for the wiring to send once the link is up:
# - D38: no valid settings (store.seq == 0) but an owner in the copy means the
#   settings were lost (both slots corrupt, files gone). The defaults (and the
#   board's defaults) come back, parameter 0 is the saved owner, a new unique
#   password is made, and LOST_TEXT is returned for an SMS to that owner. SMS
#   REGISTER is not reopened: with an owner it needs the (new, unknown) password.
#   Without settings and without a copy the module is fresh.
# - D35: a fresh module (no valid settings, empty password) gets a unique password
#   (ovms.sms_auth.fresh_password: board unique id + random bytes), logged on the
#   DIAG console at boot and shown there by PASS? any time. Stored settings with the
#   2013 universal password "OVMS" get a unique one too, and a registered owner is
#   told (LEGACY_TEXT). Without a random source (e.g. the emulated Cortex-M without
#   os.urandom) the password stays empty: it matches nothing, so SMS REGISTER stays
#   closed until the owner types PASS <password> (or AP) on the DIAG console.
# - With valid settings the copy follows them (settings are the authority: a torn
#   newest slot falls back to an older slot, which was saved before its copy).
# Boot never raises for a broken flash: a failed save is logged, the module runs
# with the settings in RAM (and tells the owner again at the next boot).

from ovms import log
from ovms.config import LEGACY_PASSWORD, PARAM_MODULEPASS, PARAM_REGPHONE
from ovms.sms_auth import fresh_password, normal_number
from ovms.store import Store

LOST_TEXT = (
    "OVMS: settings were lost and reset to the defaults. This phone stays the owner;"
    " send PASS? for the new module password."
)
LEGACY_TEXT = (
    "OVMS: the factory password OVMS no longer works. Send PASS? for this module's"
    " new unique password."
)


class _Params:
    # what Store.save() needs: .params
    def __init__(self, owner):
        self.params = [owner] + [""] * 31


class OwnerCopy:
    def __init__(self, path, sync=None):
        self.store = Store(path, sync)
        self.number = None  # normalised owner number in the copy, None = none
        self.loaded = False
        self.writes = 0  # copies written
        self.errors = 0  # failed writes (logged)

    def load(self):
        # -> the saved owner number (normalised) or None
        cfg = self.store.load()
        self.loaded = True
        self.number = normal_number(cfg.params[PARAM_REGPHONE]) if self.store.seq else None
        return self.number

    def sync(self, p0):
        # keep the copy equal to parameter 0; writes only on a change
        if not self.loaded:
            self.load()
        number = normal_number(p0)
        if number == self.number:
            return
        try:
            self.store.save(_Params(number or ""))
        except OSError as e:
            self.errors += 1
            log.get("owner").error("owner copy not written: %s", e)
            return
        self.writes += 1
        self.number = number


def secure_boot(cfg, store, copy, defaults=None, unique_id=None, randbytes=None):
    # -> list of texts for the owner (SMS); see the header
    lg = log.get("owner")
    notices = []
    saved = copy.load() if copy is not None else None
    fresh = store.seq == 0
    dirty = False
    if fresh and defaults:
        for k in defaults:
            cfg.set_param(k, defaults[k], save=False)
        dirty = True
    if fresh and saved is not None:
        cfg.set_param(PARAM_REGPHONE, saved, save=False)
        cfg.set_param(PARAM_MODULEPASS, "", save=False)
        notices.append(LOST_TEXT)
        lg.error("settings lost: owner %s kept, defaults restored", saved)
        dirty = True
    p1 = cfg.params[PARAM_MODULEPASS]
    legacy = p1 == LEGACY_PASSWORD
    if (fresh and p1 == "") or legacy:
        pw = fresh_password(unique_id, randbytes)
        cfg.set_param(PARAM_MODULEPASS, pw, save=False)
        dirty = True
        if pw:
            lg.warning("module password: %s (PASS? on the DIAG console shows it)", pw)
        else:
            lg.warning("no random source: no module password; SMS REGISTER is closed")
            lg.warning("until a password is set here: PASS <password>")
        if legacy and not fresh and normal_number(cfg.params[PARAM_REGPHONE]) is not None:
            notices.append(LEGACY_TEXT)
    cfg.owner_copy = copy
    cfg.notices = notices
    if dirty:
        try:
            cfg.save()  # also syncs the copy
        except OSError as e:
            lg.error("settings not saved at boot: %s", e)
    elif copy is not None:
        copy.sync(cfg.params[PARAM_REGPHONE])
    return notices
