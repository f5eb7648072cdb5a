# Safe mode and crash report through the app on the host board (firmware.app.main with
# firmware/bootlog.py): a crash streak starts the safe mode (DIAG console only), an
# escalation notes the crash, flushes and resets, the next login's DebugCrash record
# carries the crash. Both runtimes (needs the host board and loopback sockets).
# Licence: MIT (this project).
import asyncio

from support import rmtree, run_async, tmpdir

from firmware.bootlog import SAFE_AFTER, BootLog


def _board(d, **over):
    from tools import sim

    kw = {"CFG_PATH": d + "/ovms.cfg", "BOOT_LOG_PATH": d + "/boot.json", "SIM_SMS": ()}
    kw.update(over)
    return sim.host_board(10, **kw)


def test_main_starts_safe_mode_after_crash_streak():
    from firmware import app as app_mod
    from tools import sim

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
    from tools import sim

    d = tmpdir("boot")
    try:
        board = _board(d, STRICT=False)
        BootLog(d + "/boot.json").boot("POR")
        a = app_mod.App(board, bootlog=d + "/boot.json")
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
        assert not _loaded("firmware.bootlog")  # D117: loaded for the note, dropped after
    finally:
        rmtree(d)


def _loaded(name):
    import sys

    import firmware

    return name in sys.modules or hasattr(firmware, name[name.rfind(".") + 1 :])


def test_escalation_without_room_for_the_boot_log_still_flushes_and_resets():
    # D117: the crash note cannot load its code: logged, and the crash handling goes on
    from firmware import app as app_mod
    from ovms import lazy

    d = tmpdir("boot")
    real = lazy.load

    def no_room(name):
        if name == "firmware.bootlog":
            raise MemoryError()
        return real(name)

    try:
        a = app_mod.App(_board(d), bootlog=d + "/boot.json")
        resets = []
        flushed = []
        a.reset = lambda: resets.append(1)
        a.uplink = type("U", (), {"flush": lambda self: flushed.append(1)})()
        job = type("J", (), {"name": "ticker", "last": "ValueError: tick bug"})()
        lazy.load = no_room
        try:
            a._escalate(job)
            assert not a.mark_stable()
        finally:
            lazy.load = real
        assert resets == [1] and flushed == [1] and not _loaded("firmware.bootlog")
        assert not BootLog(d + "/boot.json").boot("RI").crash  # nothing was noted
    finally:
        rmtree(d)


def test_the_app_keeps_no_boot_log_code_after_the_boot():
    from firmware import app as app_mod
    from tools import sim

    d = tmpdir("boot")
    try:
        sim.OUT = lambda t: None
        try:
            asyncio.new_event_loop()
            a = app_mod.main(_board(d), 0.2)
        finally:
            sim.OUT = print
        assert a.bootlog == d + "/boot.json" and not _loaded("firmware.bootlog")
        assert a.mark_stable() and not _loaded("firmware.bootlog")
        assert BootLog(d + "/boot.json").boot("TO").streak == 1  # the stable mark counted
    finally:
        rmtree(d)


def test_crash_report_reaches_the_server():
    # after a crash-reboot the first record of the server session carries the crash
    # count, the reset-cause bits and the noted reason (a trailing field, protocol §3)
    from firmware import app as app_mod
    from tools import sim

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
