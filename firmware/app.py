# The composition root: board -> adapters -> core -> tasks, all under one supervisor.
# Licence: MIT (this project).
#
#   main(board=None, seconds=None) -> App
# board: a board module (firmware/boards/*); None picks by sys.platform (pick_board()).
# seconds: run this long, then stop everything and return (None: until the supervisor
# gives up: a strict failure or an escalation). On the host board `seconds` is wall time
# at the board's SPEED: the virtual clock runs seconds * SPEED simulated seconds.
#
# Boot (main): the reset cause and the boot log first (firmware/bootlog.py), then the
# watchdog, then everything else. D50: the watchdog is created right after the safe-mode
# decision (one small file read), not before it: the safe mode runs without a watchdog
# (a REPL session would otherwise be reset under the owner's hands), and machine.WDT
# cannot be stopped once started.
# Safe mode (N crash-reboots in a row, or the board's SAFE_PIN held at boot): only the
# DIAG console runs (and the REPL after Ctrl-C), no CAN, modem, uplink or watchdog; after
# bootlog.SAFE_HOLD_MS the board resets for one normal try (D52).
# Normal mode: every task runs under firmware/supervisor.Supervisor (log with traceback,
# count per task, restart with back-off, MemoryError -> gc.collect(), escalation ->
# note the crash, flush the outbox, reset). The housekeeping task feeds the watchdog only
# while firmware/progress.Progress sees every part progress (progress.watch_app()).
# D111: the boot itself (firmware/wiring.py, firmware/parts.py) is loaded for the boot
# and dropped once every part is made; this module keeps only what runs after it.
# D117: so is the boot log's code (firmware/bootlog.py): the app keeps its path and the
# boot's BootInfo record; a crash note, the stable mark and the end of a safe mode load
# it for their one write (App.boot_log), which never raises.
# Development builds (board STRICT = True: host, sim) stop on the first unexpected
# exception. D53: Ctrl-C on the console stops the firmware (KeyboardInterrupt is no task
# failure) and main.py gives the REPL (mpremote works as usual); machine.WDT cannot be
# stopped, so from then on a timer feeds it until the next reset (keep_fed). Only
# someone at the console can do this; the next reset runs the firmware again.
# The crash report: the boot's crash count, reset cause bits and last crash reason go to
# the SMS framework's NetStatus (DIAG: "Crashes:n ..last: TO RI") and from there into the
# *-OVM-DebugCrash record the server handler sends after every login.

# D125: this module stays resident, so does its globals table (every name it defines or
# imports, 8 bytes a slot, in steps of 17, 23, 29 slots): the boot's module names and
# the D97 divisor are folded constants, the helpers are read as aio.sleep_ms etc., sys
# is imported where the board is picked, the D97 collection is inline in App.run: 17
# names, not 24.

import asyncio

from firmware.supervisor import Supervisor
from ovms import aio, lazy, log
from ovms.compat import const
from ovms.smsout import shape

BOARDS = {"linux": "host", "pyboard": "pyboard", "esp32": "esp32"}
_WIRING = const("firmware.wiring")  # D111: the boot's code, dropped after the boot
_PARTS = const("firmware.parts")
_BOOTLOG = const("firmware.bootlog")  # D117: loaded for the boot and for each write after it


def pick_board(platform=None):
    # the board module for sys.platform; an unknown platform is an error, not a guess
    import sys

    p = sys.platform if platform is None else platform
    name = BOARDS.get(p)
    if name is None:
        raise ValueError(
            "no board for platform %r: add firmware/boards/<board>.py and list it in "
            "firmware.app.BOARDS, or call main(board)" % p
        )
    return __import__("firmware.boards." + name, None, None, [name])


def main(board=None, seconds=None, until=None):
    b = board if board is not None else pick_board()
    path = getattr(b, "BOOT_LOG_PATH", "boot.json")
    bootlog = lazy.load(_BOOTLOG)
    parts = lazy.load(_PARTS)
    parts.mkdirs(path)
    boot = bootlog.BootLog(path).boot(bootlog.cause_name())
    safe = boot.safe or bootlog.safe_pin_pressed(b)
    wdt = None if safe else parts.wdt(b)  # D50
    del parts, bootlog  # D111, D117: dropped after the boot (App.run)
    app = App(b, wdt=wdt, bootlog=path, boot=boot)
    app.safe = safe
    try:
        asyncio.run(app.run_safe(seconds) if safe else app.run(seconds, until))
    except KeyboardInterrupt:  # Ctrl-C: the REPL (main.py), watchdog fed by a timer (D53)
        app.repl_timer = keep_fed(wdt, b.WDT_MS // 4 if wdt is not None else 0)
        raise
    return app


def clock_s():
    # record times: the board clock in seconds (the RTC; D40 in lib/ovms/outbox.py)
    import time

    return int(time.time())


def reboot():
    # server command 5 (after its reply went out), an escalation, the end of a safe mode
    try:
        import machine

        machine.reset()
    except (ImportError, AttributeError):  # host: nothing to reset
        pass


def keep_fed(wdt, period_ms, machine_mod=None):
    # D53: after Ctrl-C on the console the REPL is the owner's (physical access): a timer
    # feeds the watchdog until the next reset, so mpremote keeps its session. -> timer
    if wdt is None:
        return None
    m = machine_mod
    if m is None:
        import machine as m
    t = m.Timer(-1)  # a virtual (soft) timer: STM32 and ESP32
    t.init(period=period_ms, mode=m.Timer.PERIODIC, callback=lambda _t: wdt.feed())
    return t


_GC_EARLY_DIV = const(8)  # D97: collect after an eighth of the free heap was allocated


class App:
    _log = log.get("app")

    def __init__(self, board, wdt=None, bootlog=None, boot=None):
        self.board = board
        self.wdt = wdt
        self.bootlog = bootlog  # the boot log's file (firmware/bootlog.py), None: none
        self.boot = boot  # this boot (firmware.bootlog.BootInfo)
        self.safe = False
        self.can = self.modem = self.emu = self.uplink = self.server = self.mqtt = None
        self.rx = self.console = self.gps = self.clock = self.sms_outbox = None
        self.power = None  # firmware/power.PowerManager (boards with a POWER model)
        self.sup = Supervisor()
        self.reset = reboot  # what an escalation calls last (tests replace it)
        self.before_start = None  # optional f(app) after the jobs are added (tests)

    @property
    def crashes(self):
        # task failures in this run (every task, the loop's orphans included)
        return self.sup.errors()

    async def run(self, seconds=None, until=None):
        b = self.board
        self.sup = Supervisor(strict=getattr(b, "STRICT", False), on_escalate=self._escalate)
        try:  # D111: the boot's code for the boot only
            await lazy.load(_WIRING).normal(self)
        finally:
            _drop_boot()
        c = self.clock
        clock_task = self._clock_task = asyncio.create_task(c.run()) if c is not None else None
        if self.before_start is not None:
            self.before_start(self)
        # D97: on MicroPython a collection also after every _GC_EARLY_DIV-th of the heap
        # left free once everything is made (gc.threshold), not only when an allocation
        # fails: the allocator then restarts from the lowest free block after each
        # collection, so the objects that live long pack low instead of spreading over
        # the whole free heap and cutting it into pieces too small for the next line
        # (MicroPython's own advice against fragmentation). CPython has no such call. An
        # eighth, not a quarter: with a quarter the 88 KB heap-report day failed after
        # 6.2 h (194-byte allocations, the heap cut into pieces); with an eighth it ran
        # the whole day, the largest free block never under 4.9 KB.
        import gc

        if hasattr(gc, "threshold"):
            gc.collect()
            gc.threshold(gc.mem_free() // _GC_EARLY_DIV)
        try:
            self.sup.start()
            if self.can is not None:
                self.can.start()
            await self._wait(seconds, until)
        finally:
            aio.cancel(clock_task)
            await self._stop()

    async def _wait(self, seconds, until):
        done = self.sup.done
        if seconds is None:
            await done.wait()
            return
        c = self.clock
        if c is None:
            await aio.wait_event(done, int(seconds * 1000))
            return
        # simulated end; until(app): keep going (at most 10x as long) until it holds
        end_ms = int(seconds * 1000 * getattr(self.board, "SPEED", 1))
        while not done.is_set() and c.now < 10 * end_ms:
            if c.now >= end_ms and (until is None or until(self)):
                return
            if self._clock_task.done():  # the virtual clock died: simulated time has
                self._log.error("the virtual clock stopped at %d ms", c.now)  # stopped
                return
            # a look every 20 ms of wall time; sleep_ms allocates nothing (a wait_event
            # here made a wait_for task every pass: at a 72 KB heap a MemoryError in it
            # ended the whole simulated run, outside every supervised task)
            await aio.sleep_ms(20)

    async def run_safe(self, seconds=None):
        # safe mode: the DIAG console only (no CAN, modem, uplink, watchdog)
        self.sup = Supervisor(strict=getattr(self.board, "STRICT", False))
        try:
            lazy.load(_WIRING).safe(self)
            hold = lazy.load(_BOOTLOG).SAFE_HOLD_MS if seconds is None else int(seconds * 1000)
        finally:
            _drop_boot()
        self._log.error("SAFE MODE: DIAG console and REPL only, no tasks")
        self.sup.start()
        try:
            if not await aio.wait_event(self.sup.done, hold) and seconds is None:
                self.boot_log("leave_safe")  # D52: one normal try after the hold
                self.reset()
        finally:
            self.sup.stop()

    def _escalate(self, job):
        # a task keeps failing: note why, flush the outbox journal, reset the board
        reason = "%s: %s" % (job.name, job.last)
        self._log.error("escalation: %s -> reset", reason)
        self.boot_log("note_crash", reason)
        for obj in (self.uplink, getattr(self, "outbox", None), getattr(self, "dataplan", None)):
            flush = getattr(obj, "flush", None)  # the durable outbox's journal
            if flush is not None:
                try:
                    flush()
                except Exception as e:  # the reset must happen anyway
                    self._log.error("flush before reset failed: %r", e)
        self.reset()

    async def _stop(self):
        self.sup.stop()
        await aio.sleep_ms(0)
        if self.can is not None and hasattr(self.can, "stop"):
            self.can.stop()
        if self.uplink is not None:
            self.uplink.stop()
        if self.mqtt is not None:
            self.mqtt.stop()
        if self.modem is not None:
            await self.modem.stop()
        w = getattr(self, "gps_writer", None)  # host: the emulator's NMEA connection
        if w is not None:
            w.close()
        if self.emu is not None:
            await self.emu.close()
        if self.server is not None:
            await self.server.close()

    def boot_log(self, change, *args):
        # D117: one write to the boot log (BootLog.note_crash, mark_stable, leave_safe),
        # its code loaded for it and dropped after it. Never raises: no room for the code
        # or a failed write is logged and what called it goes on (D96). -> True if written
        if self.bootlog is None:
            return False
        try:
            return getattr(lazy.load(_BOOTLOG).BootLog(self.bootlog), change)(*args)
        except Exception as e:  # MemoryError, ImportError: the crash handling goes on
            self._log.error("boot log %s failed: %r", change, e)
            return False
        finally:
            lazy.unload(_BOOTLOG)

    def mark_stable(self):
        # the housekeeping's on_stable, once the run lasted STABLE_MS (D51)
        return self.boot_log("mark_stable")

    def on_sms(self, sender, text):
        # modem -> SMS framework (time: the vehicle's seconds since boot) -> shaped replies
        return shape(self.fw.handle(sender, text, self.vehicle.st.tick))

    # ---- callbacks the boot hands out (bound methods: D111, no closure of the boot) ----
    def vehicle_s(self):
        # the SMS interpreter's clock (D92): the vehicle's seconds since boot
        return self.vehicle.st.tick

    def send_sms(self, phone, text):
        # the server handler's SMS (server command 40)
        return self.modem.send_sms(phone, shape([text]))

    def push(self, line):
        # the SMS framework's push alerts ("SMS FROM: ...") into the one server outbox
        return self.outbox.outbox.put("P", line)

    def gps_run(self):
        # the standalone GPS's job: its NMEA lines into the vehicle (a new coroutine
        # per (re)start)
        from firmware.tasks.gps import nmea_task

        return nmea_task(self.gps, self.feed)

    def flush_and_reboot(self):
        # server command 5: the outboxes to flash first
        for obj in (getattr(self, "link", None), getattr(self, "dataplan", None)):
            if obj is not None:  # the month's data counter too (D71)
                obj.flush()
        reboot()

    def summary(self):
        st = self.vehicle.st
        c = self.can
        m = self.modem.counters if self.modem is not None else {}
        return {
            "frames": st.frames,  # decoded (handed to the vehicle)
            "drops": sum(st.dropped),  # decoder drops (short DLC, group order/invalid)
            "overruns": c.overruns if c is not None else 0,
            "filtered": getattr(c, "filtered", 0),
            "ticks": self.ticker.ticks,
            "sms_in": m.get("sms_in", 0),
            "sms_out": m.get("sms_out", 0),
            "crashes": self.crashes,
            "watchdog_starved": self.house.starved,
            "power": self.power.summary() if self.power is not None else None,
        }


def _drop_boot():
    # D111: the boot's modules out of sys.modules (and out of the firmware package); the
    # next gc frees them: nothing made at boot keeps a function of theirs
    lazy.unload(_WIRING)
    lazy.unload(_PARTS)
    lazy.unload(_BOOTLOG)  # D117
