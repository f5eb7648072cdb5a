# The owner at boot: a second copy of the owner's number, the settings-loss rule,
# the module's unique password. Licence: MIT (this project).
#
#   copy = owner_copy(cfg_path + ".owner")
#   notices = secure_boot(cfg, store, copy, defaults=board_defaults,
#                         unique_id=machine.unique_id(), randbytes=os.urandom)
#   for text in notices: link.send_sms(text)       # to the (restored) owner
#
# The owner copy keeps parameter 0 in <path>.a / <path>.b, written by ovms.store
# (same format and crash safety: two CRC-checked slots, a torn write at any byte
# leaves the previous copy). It is a Store record (ovms.config) with number,
# loaded, writes and errors added; secure_boot() hangs it on the settings' Store,
# whose save() keeps it equal to parameter 0 after every successful settings save
# (ovms.store.sync_copy): it writes only when the owner changed (REGISTER, AP,
# server C4), so a few writes in the module's life. A failed copy write is logged
# and counted, never raised: the settings themselves were saved.
# D116: boot-only; firmware/parts.py unloads this module (and ovms.store) after the
# boot: what stays is the two Store records.
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
from ovms.config import LEGACY_PASSWORD, PARAM_MODULEPASS, PARAM_REGPHONE, Store
from ovms.sms_auth import fresh_password, normal_number
from ovms.store import load_copy, sync_copy

LOST_TEXT = (
    "OVMS: settings were lost and reset to the defaults. This phone stays the owner;"
    " send PASS? for the new module password."
)
LEGACY_TEXT = (
    "OVMS: the factory password OVMS no longer works. Send PASS? for this module's"
    " new unique password."
)


def owner_copy(path, sync=None):
    # -> the owner copy's Store record (load_copy, sync_copy: ovms.store)
    copy = Store(path, sync)
    copy.number = None  # normalised owner number in the copy, None = none
    copy.loaded = False
    copy.writes = 0  # copies written
    copy.errors = 0  # failed writes (logged)
    return copy


def secure_boot(cfg, store, copy, defaults=None, unique_id=None, randbytes=None):
    # -> list of texts for the owner (SMS); see the header
    lg = log.get("owner")
    notices = []
    saved = None
    if copy is not None:  # a copy already read (tests) is not read again
        saved = copy.number if copy.loaded else load_copy(copy)
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
    store.copy = copy  # follows parameter 0 after every save from now on
    cfg.notices = notices
    if dirty:
        try:
            cfg.save()  # also syncs the copy
        except OSError as e:
            lg.error("settings not saved at boot: %s", e)
    elif copy is not None:
        sync_copy(copy, cfg.params[PARAM_REGPHONE])
    return notices
