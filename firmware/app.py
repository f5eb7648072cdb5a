# The composition root: board -> adapters -> core -> tasks, then a supervisor.
# Licence: MIT (this project).
#
#   main(board=None, seconds=None) -> App
# board: a board module (firmware/boards/*); None picks by sys.platform (linux: host).
# seconds: run this long, then stop everything and return (None: until a task dies).
# A task exception that escapes is logged and ends the run: on a device the watchdog
# is then no longer fed and resets the board (production); without a watchdog main()
# returns to main.py and the REPL (development).

import asyncio
import sys

from firmware.tasks.can_rx import CanRx
from firmware.tasks.housekeeping import Housekeeping
from firmware.tasks.ticker import Link, Ticker
from ovms import log
from ovms.aio import cancel, wait_event
from ovms.config import PARAM_GPRSAPN, PARAM_GPRSPASS, PARAM_GPRSUSER
from ovms.gps import Feed
from ovms.sms import Framework, NetStatus
from ovms.smsout import shape
from ovms.store import Store
from ovms.twizy.vehicle import Twizy


def pick_board():
    p = sys.platform
    if p == "linux":
        import firmware.boards.host as b
    elif p == "pyboard":
        import firmware.boards.pyboard as b
    else:
        import firmware.boards.esp32 as b
    return b


def main(board=None, seconds=None):
    app = App(board if board is not None else pick_board())
    asyncio.run(app.run(seconds))
    return app


class App:
    def __init__(self, board):
        self.board = board
        self.log = log.get("app")
        self.can = self.modem = self.emu = self.uplink = self.server = None
        self.crashes = 0
        self.tasks = []

    async def run(self, seconds=None):
        b = self.board
        self.crashed = asyncio.Event()
        cfg = self.cfg = _settings(b)
        v = self.vehicle = Twizy(cfg)
        self.fw = Framework(cfg, v, net=NetStatus(), hardware=b.HARDWARE)
        self.feed = Feed(v)
        self.tick_ms = b.TICK_MS // getattr(b, "SPEED", 1)
        self.can = _can(b)
        self.modem = await _modem(self)
        self.uplink = await _uplink(self)
        self.link = _link(self)  # the vehicle's channels, each behind a durable outbox
        self.ticker = Ticker(v, self.link, self.tick_ms)
        self.rx = None
        checks = ()
        if self.can is not None:
            self.rx = CanRx(self.can, v)
            checks = (self.can.check,)
        self.house = Housekeeping(
            _wdt(b), self.tick_ms, 10 * self.tick_ms, checks=checks, healthy=self.healthy
        )
        jobs = [self.ticker.run(), self.house.run()]
        if self.rx is not None:
            self.can.start()
            jobs.append(self.rx.run())
        if self.modem is not None:
            self.modem.start()
        if self.uplink is not None:
            jobs.append(self.uplink.run())
        if self.emu is not None:
            from firmware import sim

            jobs.extend(sim.jobs(self))
        self.tasks = [asyncio.create_task(self._guard(j)) for j in jobs]
        try:
            if seconds is None:
                await self.crashed.wait()
            else:
                await wait_event(self.crashed, int(seconds * 1000))
        finally:
            await self._stop()

    def healthy(self):
        return not self.crashes

    async def _guard(self, coro):
        # every task runs inside this: an escaping exception is logged and ends the run
        try:
            await coro
        except Exception as e:
            self.crashes += 1
            self.log.error("task died: %r", e)
            if hasattr(sys, "print_exception"):
                sys.print_exception(e)
            self.crashed.set()

    async def _stop(self):
        for t in self.tasks:
            cancel(t)
        if self.can is not None and hasattr(self.can, "stop"):
            self.can.stop()
        if self.uplink is not None:
            self.uplink.stop()
        if self.modem is not None:
            await self.modem.stop()
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
        }


def _settings(b):
    # settings from the board's store; first boot: the board's defaults, saved
    path = b.CFG_PATH
    _mkdirs(path)
    store = Store(path)
    cfg = store.load()
    defaults = getattr(b, "DEFAULT_PARAMS", None)
    if store.seq == 0 and defaults:
        for k in defaults:
            cfg.set_param(k, defaults[k], save=False)
        cfg.save()
    return cfg


def _mkdirs(path):
    import os

    parts = path.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d:
            try:
                os.mkdir(d)
            except OSError:
                pass


def _can(b):
    kind = b.CAN_DRIVER
    if kind == "fake":
        from firmware.hal.can_fake import FakeCan

        return FakeCan(b.CAN_TRACES, speed=b.SPEED, depth=b.CAN_FIFO, bitrate=b.CAN_BITRATE)
    if kind == "machine":
        from firmware.hal import can_machine as m
    elif kind == "pyb":
        from firmware.hal import can_pyb as m
    else:
        return None
    return m.from_board(b)


async def _modem(app):
    b = app.board
    kw = {
        "on_sms": app.on_sms,
        "on_csq": app.feed.csq,
        "on_gnss": app.feed.cgnsinf,
        "gnss": b.GNSS,
        "timing": getattr(b, "MODEM_TIMING", None),
        "apn": app.cfg.param(PARAM_GPRSAPN),
        "user": app.cfg.param(PARAM_GPRSUSER),
        "password": app.cfg.param(PARAM_GPRSPASS),
    }
    if b.MODEM == "emu":
        from firmware import sim

        return await sim.open_modem(app, kw)
    if b.MODEM != "uart":
        return None
    from machine import UART, Pin

    from firmware.hal.sim800 import Sim800

    pins = {}
    if hasattr(b, "MODEM_TX"):
        pins = {"tx": b.MODEM_TX, "rx": b.MODEM_RX}
    uart = UART(b.MODEM_UART, b.MODEM_BAUD, rxbuf=b.MODEM_RXBUF, **pins)
    rst = Pin(b.MODEM_RESET_PIN, Pin.OUT, value=1)
    return Sim800(asyncio.StreamReader(uart), asyncio.StreamWriter(uart, {}), rst, **kw)


async def _uplink(app):
    # the OVMS v2 server session (firmware/tasks/uplink.py) over the board's IP path:
    # NET "modem" = GPRS through the SIM800, "native" = the board's own IP stack
    # (asyncio.open_connection), None = no server connection. It idles while no
    # server is configured (parameters 4, 8); SERVER/PARAMS/... SMS reconnect it.
    # Its outbox (records and alerts for the server) is durable: a journal in the
    # board's OUTBOX_PATH folder (lib/ovms/outbox.py); the SMS outbox is made by _link.
    import os

    from firmware.tasks.uplink import Timing, Uplink
    from ovms.v2.server import Handler

    b = app.board
    net = getattr(b, "NET", "modem")
    if net == "modem" and app.modem is not None:
        open_stream = app.modem.open_tcp
    elif net == "native":
        from firmware.hal.netstream import open_tcp as open_stream
    else:
        return None
    port = getattr(b, "SERVER_PORT", 6867)
    if getattr(b, "SERVER", None) == "fake":
        from firmware import sim

        port = await sim.open_server(app)
    modem = app.modem
    app.sms_outbox = _outbox(b, "sms")
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
        outbox=_outbox(b, "srv"),
        sms_outbox=app.sms_outbox,
    )
    app.fw.on_net_change = up.reconnect
    return up


def _outbox(b, name):
    # one channel's durable outbox: <OUTBOX_PATH>/<name>.<n> journal files, at most
    # OUTBOX_BYTES (default: a folder "outbox" beside the settings file, 32 KB)
    from ovms.outbox import Outbox

    folder = getattr(b, "OUTBOX_PATH", None)
    if folder is None:
        cfg = b.CFG_PATH
        folder = (cfg[: cfg.rfind("/")] if "/" in cfg else ".") + "/outbox"
    _mkdirs(folder + "/" + name)
    return Outbox(folder + "/" + name, _clock_s, max_bytes=getattr(b, "OUTBOX_BYTES", 32768))


def _link(app):
    # the vehicle's channels: the server part shares the uplink's outbox, SMS alerts
    # have their own (made in _uplink, or here when there is no server connection)
    sms = getattr(app, "sms_outbox", None)
    if sms is None:
        sms = app.sms_outbox = _outbox(app.board, "sms")
    link = Link(app.cfg, app.modem, app.uplink, sms_outbox=sms)
    app.outbox = link  # flush() before a planned reset (the supervisor's escalation)
    return link


def _clock_s():
    # record times: the board clock in seconds (the RTC; D40 in lib/ovms/outbox.py)
    import time

    return int(time.time())


def _flush_and_reboot(app):
    # server command 5: the outboxes to flash first
    link = getattr(app, "link", None)
    if link is not None:
        link.flush()
    _reboot()


def _reboot():
    # server command 5, after its reply went out
    try:
        import machine

        machine.reset()
    except (ImportError, AttributeError):  # host: nothing to reset
        pass


def _wdt(b):
    if not getattr(b, "WDT_MS", 0):
        return None
    from machine import WDT

    return WDT(timeout=b.WDT_MS)
