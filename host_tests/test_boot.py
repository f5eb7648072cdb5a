# Boot log (firmware/bootlog.py): reset cause names, crash-reboots counted across resets,
# the safe-mode decision after a crash streak, a torn or missing file. Device-portable
# (the app-level safe mode and crash report: test_app_boot.py). Both runtimes.
# Licence: MIT (this project).
from support import rmtree, tmpdir

from firmware import bootlog as bl
from firmware.bootlog import SAFE_AFTER, BootLog, cause_name


class _Machine:
    # a stand-in for the machine module's reset-cause API (stm32 values)
    PWRON_RESET = 1
    HARD_RESET = 2
    WDT_RESET = 3
    DEEPSLEEP_RESET = 4
    SOFT_RESET = 5

    def __init__(self, c):
        self.c = c

    def reset_cause(self):
        return self.c


def test_cause_names_and_bits():
    assert cause_name(_Machine(1)) == "POR" and cause_name(_Machine(3)) == "TO"
    assert cause_name(_Machine(5)) == "RI" and cause_name(_Machine(2)) == "HARD"
    assert cause_name(_Machine(4)) == "PD" and cause_name(_Machine(9)) == "C9"
    # the PIC reason bits of the crash record (protocol §7.2)
    assert bl.cause_bits("TO") == 8 and bl.cause_bits("POR") == 2 and bl.cause_bits("RI") == 16
    assert bl.cause_bits("") == 0


def test_crash_streak_safe_mode_and_back():
    d = tmpdir("boot")
    p = d + "/boot.json"
    try:
        i = BootLog(p).boot("POR")
        assert not i.crash and i.crashes == 0 and not i.safe and bl.reason_hex(i) == "0002"
        # watchdog resets in a row, none after a stable run
        for n in range(1, SAFE_AFTER + 1):
            i = BootLog(p).boot("TO")
            assert i.crash and i.reason == "watchdog" and i.streak == n
            assert i.safe == (n >= SAFE_AFTER) and bl.reason_hex(i) == "0008"
        assert i.crashes == SAFE_AFTER and bl.causes(i)[-1] == "TO"
        # the firmware's own crash reset (escalation) counts, with its reason
        b = BootLog(p)
        i = b.boot("TO")
        b.note_crash("ticker: ValueError: bug")
        i = BootLog(p).boot("RI")
        assert i.crash and i.reason == "ticker: ValueError: bug" and i.safe
        # a safe mode held long enough: one normal try (D52)
        b = BootLog(p)
        i = b.boot("TO")
        assert i.safe
        b.leave_safe()
        i = BootLog(p).boot("RI")
        assert not i.crash and not i.safe and i.streak == 0
        # a stable run ends a streak: the next crash starts at 1
        b = BootLog(p)
        b.boot("TO")
        b.boot  # noqa: B018
        i = BootLog(p).boot("TO")
        assert i.streak == 2
        b = BootLog(p)
        b.boot("TO")
        assert b.mark_stable() and not b.mark_stable()  # one write per boot
        # D117: the app marks through a fresh BootLog on the file the boot wrote
        b.boot("POR")
        assert BootLog(p).mark_stable() and not BootLog(p).mark_stable()
        i = BootLog(p).boot("TO")
        assert i.streak == 1 and not i.safe
        # a power-on (no crash) ends it as well
        i = BootLog(p).boot("POR")
        assert i.streak == 0 and not i.crash
        # the last few causes only
        assert len(i.last) == bl.LAST_MAX and i.crashes == 10
    finally:
        rmtree(d)


def test_corrupt_or_missing_file_starts_fresh():
    d = tmpdir("boot")
    p = d + "/boot.json"
    try:
        for junk in ("{not json", '{"boots": "x"}', "[]", ""):
            with open(p, "w") as f:
                f.write(junk)
            b = BootLog(p)
            i = b.boot("TO")
            assert b.corrupt == 1 and i.crashes == 1 and i.streak == 1
            import os

            os.remove(p)
        # an unwritable path: the boot goes on (nothing kept)
        b = BootLog(d + "/no/such/dir/boot.json")
        i = b.boot("POR")
        assert not i.safe and not b.note_crash("x")
    finally:
        rmtree(d)
