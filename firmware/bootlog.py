# Boot log: the reset cause, crash-reboots counted across resets, safe-mode decision.
# Licence: MIT (this project).
#
#   bl = BootLog(path)                   # a small JSON file beside the settings
#   info = bl.boot(cause)                # once per boot, first thing in main
#   info.safe                            # True: start in safe mode (no tasks)
#   bl.note_crash("ticker: ValueError")  # before the firmware resets the board itself
#   bl.mark_stable()                     # once the run has lasted STABLE_MS
#   bl.leave_safe()                      # safe mode held long enough: try normally again
#
# D117: the running firmware keeps none of this module: the app keeps the file's path
# and the boot's BootInfo (a record without methods: it keeps no function, so not this
# module's globals); note_crash, mark_stable and leave_safe each load this module, work
# on a fresh BootLog(path) (the file as the boot wrote it) and drop it again
# (firmware.app.App.boot_log). A BootLog that has not run boot() reads the file first.
#
# cause: a short name from cause_name(machine.reset_cause()) (PIC names as in the DIAG
# text, ovms-v2-sms.md): POR power-on, BOR brown-out, TO watchdog, RI reset instruction
# (machine.reset()), PD deep-sleep wake, HARD reset pin / button, "" unknown (host).
# A boot is a crash-reboot when the watchdog reset the board (TO) or the firmware noted a
# crash before resetting itself (escalation); a server/SMS reboot or a power cycle is not.
#
# D51: "N crashes within M minutes" without a wall clock across resets (the pyboard's RTC
# and the ESP32's RTC memory do not survive every reset): a run that lasts STABLE_MS writes
# a "stable" mark (one flash write per boot, not one per minute: flash wear). SAFE_AFTER
# crash-reboots in a row, none of them after a stable run, start the safe mode: i.e. 3
# crashes within at most 3 x 10 minutes. Any boot that is no crash-reboot ends the streak.
# D52: safe mode is held SAFE_HOLD_MS (1 h), then the board resets for one normal try
# (streak back to 0): a module left in a car for a year is never parked in safe mode for
# good, and a persistent fault costs at most SAFE_AFTER crash-reboots per hour.
#
# The file: {"boots", "crashes" (crash-reboots ever), "streak", "stable" (0/1: the current
# run), "pending" (crash noted, reset not yet seen), "last": [[cause, reason], ...] (the
# LAST_MAX newest)}. Written whole to path + ".tmp", then renamed (LittleFS: atomic; FAT
# deletes first: a torn write loses the log, never the boot). An unreadable file starts a
# fresh log and is counted in .corrupt.

import json
import os

from ovms.compat import const

SAFE_AFTER = 3  # crash-reboots in a row that start the safe mode
STABLE_MS = 600_000  # 10 min: a run this long ends a crash streak
SAFE_HOLD_MS = 3_600_000  # safe mode lasts this long, then one normal try
LAST_MAX = 5  # causes/reasons kept
_REASON_MAX = const(60)  # characters of a crash reason kept

# machine.reset_cause() constant name -> (short name, PIC reset-cause bit of the crash
# record, ovms-v2-protocol.md §7.2: bit0 BOR, bit1 POR, bit2 PD, bit3 TO, bit4 RI)
_CAUSES = (
    ("PWRON_RESET", "POR", 0x02),
    ("BROWN_OUT_RESET", "BOR", 0x01),
    ("DEEPSLEEP_RESET", "PD", 0x04),
    ("WDT_RESET", "TO", 0x08),
    ("SOFT_RESET", "RI", 0x10),
    ("HARD_RESET", "HARD", 0x00),
)


def cause_name(machine_mod=None):
    # the reset cause of this boot as a short name ("" on the host: no machine module)
    m = machine_mod
    if m is None:
        try:
            import machine as m
        except ImportError:
            return ""
    try:
        c = m.reset_cause()
    except AttributeError:
        return ""
    for const_name, short, _ in _CAUSES:
        if getattr(m, const_name, None) == c:
            return short
    return "C%d" % c


def cause_bits(short):
    for _, s, bit in _CAUSES:
        if s == short:
            return bit
    return 0


class BootInfo:
    # this boot, as boot() found it (a record, no methods: D117): cause, crash (this
    # boot is a crash-reboot), reason ("watchdog", "ticker: ValueError: ...", ""),
    # streak, crashes, last ([[cause, reason], ...] oldest first), safe
    pass


def reason_hex(info):
    # the crash record's <reason> field: PIC bits of this boot's cause, 4 hex digits
    return "%04X" % cause_bits(info.cause)


def causes(info):
    # short cause names, newest last (NetStatus.reset_causes: DIAG "..last:")
    return tuple([c for c, _ in info.last if c])


class BootLog:
    def __init__(self, path):
        self.path = path
        self.corrupt = 0
        self.d = None

    def _load(self):
        try:
            with open(self.path) as f:
                d = json.loads(f.read())
            for k in ("boots", "crashes", "streak", "stable"):
                if not isinstance(d.get(k), int):
                    raise ValueError(k)
            if not isinstance(d.get("pending"), str) or not isinstance(d.get("last"), list):
                raise ValueError("fields")
            return d
        except OSError:  # no file yet: first boot
            pass
        except (ValueError, TypeError, AttributeError, KeyError):
            self.corrupt += 1
        return {"boots": 0, "crashes": 0, "streak": 0, "stable": 0, "pending": "", "last": []}

    def _save(self):
        tmp = self.path + ".tmp"
        try:
            with open(tmp, "w") as f:
                f.write(json.dumps(self.d))
            try:
                os.remove(self.path)  # FAT: rename does not replace
            except OSError:
                pass
            os.rename(tmp, self.path)
            return True
        except OSError:  # a full or read-only flash must not stop the boot
            return False

    def boot(self, cause):
        d = self.d = self._load()
        reason = d["pending"]
        crash = bool(reason) or cause == "TO"
        if crash and not reason:
            reason = "watchdog"
        if crash:
            d["crashes"] += 1
            d["streak"] = 1 if d["stable"] else d["streak"] + 1
        else:
            d["streak"] = 0
        d["boots"] += 1
        d["stable"] = 0
        d["pending"] = ""
        last = d["last"]
        last.append([cause, reason[:_REASON_MAX]])
        while len(last) > LAST_MAX:
            last.pop(0)
        self._save()
        i = BootInfo()
        i.cause = cause
        i.crash = crash
        i.reason = reason
        i.streak = d["streak"]
        i.crashes = d["crashes"]
        i.last = last
        i.safe = i.streak >= SAFE_AFTER
        return i

    def note_crash(self, reason):
        # the firmware is about to reset the board because of a crash: the next boot
        # counts as a crash-reboot with this reason
        if self.d is None:
            self.d = self._load()
        self.d["pending"] = reason[:_REASON_MAX] or "crash"
        return self._save()

    def mark_stable(self):
        if self.d is None:
            self.d = self._load()
        if not self.d["stable"]:
            self.d["stable"] = 1
            self.d["streak"] = 0
            return self._save()
        return False

    def leave_safe(self):
        # the safe mode was held long enough: the next boot runs normally once more
        if self.d is None:
            self.d = self._load()
        self.d["streak"] = 0
        self.d["pending"] = ""
        return self._save()


def safe_pin_pressed(board):
    # the board's safe-mode pin held at boot: (name, pull-up, level when pressed)
    spec = getattr(board, "SAFE_PIN", None)
    if spec is None:
        return False
    try:
        from machine import Pin
    except ImportError:
        return False
    name, level = spec
    return Pin(name, Pin.IN, Pin.PULL_UP).value() == level
