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
# while firmware/progress.Progress sees every part progress (parts.progress()).
# Development builds (board STRICT = True: host, sim) stop on the first unexpected
# exception. D53: Ctrl-C on the console stops the firmware (KeyboardInterrupt is no task
# failure) and main.py gives the REPL (mpremote works as usual); machine.WDT cannot be
# stopped, so from then on a timer feeds it until the next reset (parts.keep_fed). Only
# someone at the console can do this; the next reset runs the firmware again.
# The crash report: the boot's crash count, reset cause bits and last crash reason go to
# the SMS framework's NetStatus (DIAG: "Crashes:n ..last: TO RI") and from there into the
# *-OVM-DebugCrash record the server handler sends after every login.

import asyncio
import sys

from firmware import parts
from firmware.bootlog import SAFE_HOLD_MS, STABLE_MS, BootLog, cause_name, safe_pin_pressed
from firmware.supervisor import Supervisor
from firmware.tasks.can_rx import CanRx
from firmware.tasks.console import Console
from firmware.tasks.dataplan import install as install_dataplan
from firmware.tasks.gps import nmea_task
from firmware.tasks.housekeeping import Housekeeping
from firmware.tasks.ticker import Link, Ticker
from ovms import lazy, log
from ovms.aio import cancel, sleep_ms, wait_event
from ovms.gps import Feed
from ovms.sms import NetStatus, SmsInterpreter
from ovms.smsout import shape
from ovms.twizy.frames import USED_IDS
from ovms.twizy.vehicle import Twizy

BOARDS = {"linux": "host", "pyboard": "pyboard", "esp32": "esp32"}


def pick_board(platform=None):
    # the board module for sys.platform; an unknown platform is an error, not a guess
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
    bootlog = BootLog(getattr(b, "BOOT_LOG_PATH", "boot.json"))
    parts.mkdirs(bootlog.path)
    boot = bootlog.boot(cause_name())
    safe = boot.safe or safe_pin_pressed(b)
    wdt = None if safe else parts.wdt(b)  # D50
    app = App(b, wdt=wdt, bootlog=bootlog, boot=boot)
    app.safe = safe
    try:
        asyncio.run(app.run_safe(seconds) if safe else app.run(seconds, until))
    except KeyboardInterrupt:  # Ctrl-C: the REPL (main.py), watchdog fed by a timer (D53)
        app.repl_timer = parts.keep_fed(wdt, b.WDT_MS // 4 if wdt is not None else 0)
        raise
    return app


GC_EARLY_DIV = 8  # D97: collect after an eighth of the free heap was allocated


class App:
    def __init__(self, board, wdt=None, bootlog=None, boot=None):
        self.board = board
        self.wdt = wdt
        self.bootlog = bootlog
        self.boot = boot
        self.safe = False
        self.log = log.get("app")
        self.can = self.modem = self.emu = self.uplink = self.server = None
        self.rx = self.console = self.gps = self.clock = None
        self.power = None  # firmware/power.PowerManager (boards with a POWER model)
        self.sup = Supervisor()
        self.reset = parts.reboot  # what an escalation calls last (tests replace it)
        self.before_start = None  # optional f(app) after the jobs are added (tests)

    @property
    def crashes(self):
        # task failures in this run (every task, the loop's orphans included)
        return self.sup.errors()

    def _core(self):
        b = self.board
        cfg = self.cfg = parts.settings(b)
        # the owner's view (issue 10 §3: D65-D68, e.g. no status record before real
        # data); a board's VEHICLE_EXACT = True: the 2013 module byte for byte (D69)
        v = self.vehicle = Twizy(cfg, exact=getattr(b, "VEHICLE_EXACT", False))
        # one clock for every way into the SMS interpreter (D92): the vehicle's seconds
        self.fw = SmsInterpreter(
            cfg, v, net=NetStatus(), hardware=b.HARDWARE, clock=lambda: v.st.tick
        )
        self._crash_report(self.fw.net)
        self.feed = Feed(v)

    def _crash_report(self, net):
        bt = self.boot
        if bt is None:
            return
        net.crashes = bt.crashes
        net.reset_causes = bt.causes()
        net.crash_reason = bt.reason_hex()  # the record's <reason>: PIC reset-cause bits
        net.crash_text = bt.reason  # a trailing field of the record (protocol §3: allowed)
        self.log.warning(
            "reset cause %s%s; crash-reboots %d (streak %d)",
            bt.cause or "-",
            (" after crash: " + bt.reason) if bt.crash else "",
            bt.crashes,
            bt.streak,
        )

    async def run(self, seconds=None, until=None):
        b = self.board
        sup = self.sup = Supervisor(strict=getattr(b, "STRICT", False), on_escalate=self._escalate)
        c = self.clock = parts.clock(b)
        self._core()
        v = self.vehicle
        self.tick_ms = b.TICK_MS if c is not None else b.TICK_MS // getattr(b, "SPEED", 1)
        self.can = parts.can(b, USED_IDS, c)  # the vehicle's IDs: a driver knows none
        self.modem = await parts.modem(self)
        self.uplink = await _uplink(self)
        self.link = _link(self)  # the vehicle's channels, each behind a durable outbox
        for text in self.cfg.notices:  # boot news for the owner (ovms.owner, D35/D38):
            self.link.send_sms(text)  # into the SMS outbox, sent once the modem is up
        self.ticker = Ticker(v, self.link, self.tick_ms, clock=c)
        self.dataplan = install_dataplan(self, parts.clock_s)  # mobile data (D70-D74)
        sup.add("ticker", self.ticker.run)
        checks = ()
        if self.can is not None:
            self.rx = CanRx(self.can, v)
            checks = (self.can.check,)
            sup.add("can_rx", self.rx.run)
        if self.modem is not None:
            sup.add("modem", self.modem.run)  # reader + supervisor (firmware/hal/sim800)
        if self.uplink is not None:
            sup.add("uplink", self.uplink.run)
        if getattr(self, "mqtt", None) is not None:
            sup.add("mqtt", self.mqtt.run)  # firmware/tasks/mqtt.py
        self.progress = parts.progress(self)
        self.house = Housekeeping(
            self.wdt,
            self.tick_ms,
            10 * self.tick_ms,
            checks=checks,
            progress=self.progress.check,
            stable_ms=STABLE_MS,
            on_stable=self.bootlog.mark_stable if self.bootlog is not None else None,
            clock=c,
        )
        sup.add("house", self.house.run)
        self._power_job()  # issue 13: power states, sleep, the power model
        self._console_job()
        await self._gps_job()
        jobs = getattr(self.board, "jobs", None)  # a simulation's own jobs (tools/sim.py)
        if jobs is not None:
            for name, job in jobs(self):
                sup.add(name, job)
        clock_task = self._clock_task = asyncio.create_task(c.run()) if c is not None else None
        if self.before_start is not None:
            self.before_start(self)
        _gc_early()
        try:
            sup.start()
            if self.can is not None:
                self.can.start()
            await self._wait(seconds, until)
        finally:
            cancel(clock_task)
            await self._stop()

    async def _wait(self, seconds, until):
        done = self.sup.done
        if seconds is None:
            await done.wait()
            return
        c = self.clock
        if c is None:
            await wait_event(done, int(seconds * 1000))
            return
        # simulated end; until(app): keep going (at most 10x as long) until it holds
        end_ms = int(seconds * 1000 * getattr(self.board, "SPEED", 1))
        while not done.is_set() and c.now < 10 * end_ms:
            if c.now >= end_ms and (until is None or until(self)):
                return
            if self._clock_task.done():  # the virtual clock died: simulated time has
                self.log.error("the virtual clock stopped at %d ms", c.now)  # stopped
                return
            await wait_event(done, 20)

    def _power_job(self):
        if not getattr(self.board, "POWER", False):
            return  # D102: no power manager on this board: its code stays out of the heap
        from firmware.power import build

        p = self.power = build(self)
        if p is not None:
            self.sup.add("power", p.run)
            self.fw.net.power_line = p.text  # DIAG's "Power:" line (ovms/sms_cmds.py)

    def _console_job(self):
        s = parts.console_stream(self.board)
        if s is not None:
            self.console = Console(s, self.fw)
            self.sup.add("console", self.console.run)

    async def _gps_job(self):
        b = self.board
        if getattr(b, "GPS_UART", None) == "emu":
            reader = await b.open_gps(self)  # the simulation's hook (tools/sim.py)
        else:
            reader = parts.gps_reader(b)
        if reader is not None:
            feed = self.feed
            self.gps = reader
            self.sup.add("gps", lambda: nmea_task(reader, feed))

    async def run_safe(self, seconds=None):
        # safe mode: the DIAG console only (no CAN, modem, uplink, watchdog)
        self.sup = Supervisor(strict=getattr(self.board, "STRICT", False))
        self.cfg = parts.settings(self.board)
        self.vehicle = None
        self.fw = SmsInterpreter(self.cfg, None, net=NetStatus(), hardware=self.board.HARDWARE)
        self._crash_report(self.fw.net)
        self.log.error("SAFE MODE: DIAG console and REPL only, no tasks")
        self._console_job()
        self.sup.start()
        hold = SAFE_HOLD_MS if seconds is None else int(seconds * 1000)
        try:
            if not await wait_event(self.sup.done, hold) and seconds is None:
                self.bootlog.leave_safe()  # D52: one normal try after the hold
                self.reset()
        finally:
            self.sup.stop()

    def _escalate(self, job):
        # a task keeps failing: note why, flush the outbox journal, reset the board
        reason = "%s: %s" % (job.name, job.last)
        self.log.error("escalation: %s -> reset", reason)
        if self.bootlog is not None:
            self.bootlog.note_crash(reason)
        for obj in (self.uplink, getattr(self, "outbox", None), getattr(self, "dataplan", None)):
            flush = getattr(obj, "flush", None)  # the durable outbox's journal
            if flush is not None:
                try:
                    flush()
                except Exception as e:  # the reset must happen anyway
                    self.log.error("flush before reset failed: %r", e)
        self.reset()

    async def _stop(self):
        self.sup.stop()
        await sleep_ms(0)
        if self.can is not None and hasattr(self.can, "stop"):
            self.can.stop()
        if self.uplink is not None:
            self.uplink.stop()
        if getattr(self, "mqtt", None) is not None:
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

    def on_sms(self, sender, text):
        # modem -> SMS framework (time: the vehicle's seconds since boot) -> shaped replies
        return shape(self.fw.handle(sender, text, self.vehicle.st.tick))

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


async def _uplink(app):
    # the OVMS v2 server session (firmware/tasks/uplink.py) over the board's IP path:
    # NET "modem" = GPRS through the SIM800, "native" = the board's own IP stack
    # (asyncio.open_connection), None = no server connection. It idles while no
    # server is configured (parameters 4, 8); SERVER/PARAMS/... SMS reconnect it.
    # Its outbox (records and alerts for the server) is durable: a journal in the
    # board's OUTBOX_PATH folder (lib/ovms/outbox.py); the SMS outbox is made by _link.
    import os

    from firmware.tasks.uplink import Timing, Uplink
    from ovms.v2.handler import Handler

    b = app.board
    net = getattr(b, "NET", "modem")
    if net == "modem" and app.modem is not None:
        open_stream = app.modem.open_tcp
    elif net == "native":
        from firmware.hal.netstream import open_tcp as open_stream
    else:
        return None
    from firmware.tasks import mqtt_wiring

    # the MQTT uplink (parameters 18-22, issue 12): v2, MQTT or both (parameter 21)
    run_v2, app.mqtt = mqtt_wiring.build(app, open_stream, parts.outbox, _v3metrics)
    if app.mqtt is None:
        # D100: no MQTT until the next boot (parameter 21 is read at boot): the wiring and
        # the topic names are dropped, ≈ 1 KB of a small board's heap back
        del mqtt_wiring
        lazy.unload("firmware.tasks.mqtt_wiring")
        lazy.unload("ovms.mqtt.topics")
    if not run_v2:
        return None
    port = getattr(b, "SERVER_PORT", 6867)
    if getattr(b, "SERVER", None) == "fake":
        port = await b.open_server(app)  # the simulation's hook (tools/sim.py)
    modem = app.modem
    app.sms_outbox = parts.outbox(b, "sms")
    handler = Handler(
        app.cfg,
        app.vehicle,
        app.fw,
        randbytes=os.urandom,
        hardware=b.HARDWARE,
        on_reboot=lambda: _flush_and_reboot(app),
        send_sms=(lambda phone, text: modem.send_sms(phone, shape([text]))) if modem else None,
        send_ussd=modem.ussd if modem else None,
        send_at=modem.cmd if modem else None,
    )
    up = Uplink(
        open_stream,
        app.cfg,
        app.vehicle,
        app.fw,
        randbytes=os.urandom,
        handler=handler,
        timing=Timing(port=port),
        outbox=parts.outbox(b, "srv"),
        sms_outbox=app.sms_outbox,
    )
    app.fw.on_net_change = up.reconnect
    return up


def _link(app):
    # the vehicle's channels: the server part shares the uplink's outbox, SMS alerts
    # have their own (made in _uplink, or here when there is no server connection)
    sms = getattr(app, "sms_outbox", None)
    if sms is None:
        sms = app.sms_outbox = parts.outbox(app.board, "sms")
    if getattr(app, "mqtt", None) is not None:
        from firmware.tasks.mqtt_wiring import make_link

        link = make_link(app, sms)  # MQTT's own outbox (both: each uplink its own)
    else:
        link = Link(app.cfg, app.modem, app.uplink, sms_outbox=sms)
    app.outbox = link  # flush() before a planned reset (the supervisor's escalation)
    if link.outbox is not None:
        # the SMS framework's push alerts ("SMS FROM: ...") join the one server outbox
        app.fw.on_push = lambda line: link.outbox.put("P", line)
    return link


def _v3metrics():
    from ovms.twizy import v3metrics  # the Twizy's OVMS v3 metrics (MQTT only)

    return v3metrics


def _flush_and_reboot(app):
    # server command 5: the outboxes to flash first
    for obj in (getattr(app, "link", None), getattr(app, "dataplan", None)):
        if obj is not None:  # the month's data counter too (D71)
            obj.flush()
    parts.reboot()


def _gc_early():
    # D97: on MicroPython a collection also after every GC_EARLY_DIV-th of the heap left
    # free once everything is made (gc.threshold), not only when an allocation fails: the
    # allocator then restarts from the lowest free block after each collection, so the
    # objects that live long pack low instead of spreading over the whole free heap and
    # cutting it into pieces too small for the next line (MicroPython's own advice
    # against fragmentation). CPython has no such call. An eighth, not a quarter: with a
    # quarter the 88 KB heap-report day failed after 6.2 h (194-byte allocations, the
    # heap cut into pieces); with an eighth it ran the whole day, the largest free block
    # never under 4.9 KB.
    import gc

    if hasattr(gc, "threshold"):
        gc.collect()
        gc.threshold(gc.mem_free() // GC_EARLY_DIV)
