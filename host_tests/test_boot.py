# Boot log and safe mode (firmware/bootlog.py, firmware.app.main): reset cause names,
# crash-reboots counted across resets, the safe mode after a crash streak, the crash
# report fields. Both runtimes. Licence: MIT (this project).
import asyncio

from support import rmtree, run_async, tmpdir

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
        assert not i.crash and i.crashes == 0 and not i.safe and i.reason_hex() == "0002"
        # watchdog resets in a row, none after a stable run
        for n in range(1, SAFE_AFTER + 1):
            i = BootLog(p).boot("TO")
            assert i.crash and i.reason == "watchdog" and i.streak == n
            assert i.safe == (n >= SAFE_AFTER) and i.reason_hex() == "0008"
        assert i.crashes == SAFE_AFTER and i.causes()[-1] == "TO"
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


def _board(d, **over):
    from firmware import sim

    kw = {"CFG_PATH": d + "/ovms.cfg", "BOOT_LOG_PATH": d + "/boot.json", "SIM_SMS": ()}
    kw.update(over)
    return sim.host_board(10, **kw)


def test_main_starts_safe_mode_after_crash_streak():
    from firmware import app as app_mod
    from firmware import sim

    d = tmpdir("boot")
    try:
        b = BootLog(d + "/boot.json")
        for _ in range(SAFE_AFTER):
            b.boot("RI")
            b.note_crash("modem: MemoryError")

        class _Stream:
            # a console that types DIAG once, then nothing more
            def __init__(self):
                self.data = [b"DIAG\r"]
                self.out = b""

            async def read(self, n):
                if self.data:
                    return self.data.pop(0)
                await asyncio.Event().wait()

            def write(self, data):
                self.out += data

            async def drain(self):
                pass

        s = _Stream()
        sim.OUT = lambda t: None
        try:
            asyncio.new_event_loop()
            a = app_mod.main(_board(d, CONSOLE=s), 0.2)
        finally:
            sim.OUT = print
        # safe mode: only the DIAG console ran; no CAN, modem, uplink or tasks
        assert a.safe and a.boot.streak == SAFE_AFTER and a.boot.crashes == SAFE_AFTER
        assert a.can is None and a.modem is None and a.uplink is None
        assert [j.name for j in a.sup.jobs] == ["console"]
        # (the host has no reset cause: this boot's cause is "", its PIC bits 0000)
        assert a.fw.net.crashes == SAFE_AFTER and a.fw.net.crash_reason == "0000"
        assert a.fw.net.crash_text == "modem: MemoryError"
        text = s.out.decode()
        assert "Crashes:%d" % SAFE_AFTER in text and "..last: RI RI RI\r\n" in text
    finally:
        rmtree(d)


def test_escalation_notes_crash_flushes_and_resets():
    from firmware import app as app_mod
    from firmware import sim

    d = tmpdir("boot")
    try:
        board = _board(d, STRICT=False)
        a = app_mod.App(board, bootlog=BootLog(d + "/boot.json"))
        a.bootlog.boot("POR")
        resets = []
        flushed = []
        a.reset = lambda: resets.append(1)

        def wire(app):
            app.sup.escalate_n = 3
            app.sup.backoff_min_ms = 1
            app.sup.backoff_max_ms = 1
            app.uplink.flush = lambda: flushed.append(1)

            async def bug():
                await app.clock.sleep_ms(100)
                raise ValueError("tick bug")

            app.sup.job("ticker").factory = bug

        a.before_start = wire
        sim.OUT = lambda t: None
        try:
            run_async(a.run(30))
        finally:
            sim.OUT = print
        j = a.sup.job("ticker")
        assert resets == [1] and flushed == [1] and a.sup.escalated is j and j.errors == 3
        assert a.house.starved >= 0  # the run ended at once: no feed decision needed
        # the next boot is a crash-reboot with the reason noted before the reset
        i = BootLog(d + "/boot.json").boot("RI")
        assert i.crash and i.reason == "ticker: ValueError: tick bug" and i.streak == 1
    finally:
        rmtree(d)


def test_crash_report_reaches_the_server():
    # after a crash-reboot the first record of the server session carries the crash
    # count, the reset-cause bits and the noted reason (a trailing field, protocol §3)
    from firmware import app as app_mod
    from firmware import sim

    d = tmpdir("boot")
    try:
        b = BootLog(d + "/boot.json")
        b.boot("POR")
        b.note_crash("uplink: ValueError: bad line")

        def got_it(app):
            return app.server is not None and len(app.server.received) >= 1

        sim.OUT = lambda t: None
        try:
            asyncio.new_event_loop()
            a = app_mod.main(_board(d), 0.5, got_it)
        finally:
            sim.OUT = print
        assert not a.safe and a.boot.crash and a.boot.crashes == 1
        assert a.server.received[0] == (
            "MP-0 H*-OVM-DebugCrash,0,2592000,3.0.0/RT2.5/VHOST,1,0000,0,"
            "uplink: ValueError: bad line"
        )
        assert a.fw.net.reset_causes == ("POR",)
    finally:
        rmtree(d)
