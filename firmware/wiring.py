# The app's boot: board parts -> core -> uplinks -> tasks under the supervisor.
# Licence: MIT (this project). Loaded by firmware/app.py for the boot and dropped after it
# (D111), with firmware/parts.py:
#
#   await wiring.normal(app)   every part made, every job added (not started)
#   wiring.safe(app)           safe mode: settings, the SMS framework, the DIAG console
#
# D111: code that runs once per boot costs heap for as long as its module is loaded
# (globals table, one function object per def, every imported name). This module and
# firmware/parts.py are removed from sys.modules once the parts are made, so the next gc
# frees them. Rule: nothing made here may keep a function defined here (a lambda, a
# closure, a class): such a function holds this module's globals, and so the whole
# module, for as long as it lives. Callbacks that outlive the boot are bound methods of
# App (app.send_sms, app.push, app.vehicle_s, app.flush_and_reboot, app.gps_run,
# app.mark_stable) or live
# in the module that runs them (progress.watch_app, console.Duplex, app.clock_s).

from firmware import parts
from firmware.app import clock_s
from firmware.bootlog import STABLE_MS, causes, reason_hex
from firmware.progress import watch_app
from firmware.tasks.dataplan import install as install_dataplan
from firmware.tasks.housekeeping import Housekeeping
from firmware.tasks.ticker import Ticker
from ovms import lazy
from ovms.gps import Feed
from ovms.sms import NetStatus, SmsInterpreter
from ovms.twizy.frames import USED_IDS
from ovms.twizy.vehicle import Twizy


async def normal(app):
    # every part and every job of a normal boot (app.sup made, nothing started)
    b = app.board
    sup = app.sup
    c = app.clock = parts.clock(b)
    _core(app)
    v = app.vehicle
    app.tick_ms = b.TICK_MS if c is not None else b.TICK_MS // getattr(b, "SPEED", 1)
    app.can = parts.can(b, USED_IDS, c)  # the vehicle's IDs: a driver knows none
    app.modem = await parts.modem(app)
    app.uplink = await _uplink(app)
    app.link = _link(app)  # the vehicle's channels, each behind a durable outbox
    for text in app.cfg.notices:  # boot news for the owner (ovms.owner, D35/D38):
        app.link.send_sms(text)  # into the SMS outbox, sent once the modem is up
    app.ticker = Ticker(v, app.link, app.tick_ms, clock=c)
    app.dataplan = install_dataplan(app, clock_s)  # mobile data (D70-D74)
    sup.add("ticker", app.ticker.run)
    checks = ()
    if app.can is not None:
        from firmware.tasks.can_rx import CanRx

        app.rx = CanRx(app.can, v)
        checks = (app.can.check,)
        sup.add("can_rx", app.rx.run)
    if app.modem is not None:
        sup.add("modem", app.modem.run)  # reader + supervisor (firmware/hal/sim800)
    if app.uplink is not None:
        sup.add("uplink", app.uplink.run)
    if app.mqtt is not None:
        sup.add("mqtt", app.mqtt.run)  # firmware/tasks/mqtt.py
    app.progress = watch_app(app)
    app.house = Housekeeping(
        app.wdt,
        app.tick_ms,
        10 * app.tick_ms,
        checks=checks,
        progress=app.progress.check,
        stable_ms=STABLE_MS,
        on_stable=app.mark_stable if app.bootlog is not None else None,  # D117
        clock=c,
    )
    sup.add("house", app.house.run)
    _power_job(app)  # issue 13: power states, sleep, the power model
    _console_job(app)
    await _gps_job(app)
    jobs = getattr(b, "jobs", None)  # a simulation's own jobs (tools/sim.py)
    if jobs is not None:
        for name, job in jobs(app):
            sup.add(name, job)


def safe(app):
    # safe mode: the DIAG console only (no CAN, modem, uplink, watchdog)
    app.cfg = parts.settings(app.board)
    app.vehicle = None
    app.fw = SmsInterpreter(app.cfg, None, net=NetStatus(), hardware=app.board.HARDWARE)
    _crash_report(app, app.fw.net)
    _console_job(app)


def _core(app):
    b = app.board
    cfg = app.cfg = parts.settings(b)
    # the owner's view (issue 10 §3: D65-D68, e.g. no status record before real
    # data); a board's VEHICLE_EXACT = True: the 2013 module byte for byte (D69)
    app.vehicle = Twizy(cfg, exact=getattr(b, "VEHICLE_EXACT", False))
    # one clock for every way into the SMS interpreter (D92): the vehicle's seconds
    app.fw = SmsInterpreter(cfg, app.vehicle, net=NetStatus(), hardware=b.HARDWARE,
                            clock=app.vehicle_s)  # fmt: skip
    _crash_report(app, app.fw.net)
    app.feed = Feed(app.vehicle)


def _crash_report(app, net):
    bt = app.boot
    if bt is None:
        return
    net.crashes = bt.crashes
    net.reset_causes = causes(bt)
    net.crash_reason = reason_hex(bt)  # the record's <reason>: PIC reset-cause bits
    net.crash_text = bt.reason  # a trailing field of the record (protocol §3: allowed)
    app._log.warning(
        "reset cause %s%s; crash-reboots %d (streak %d)",
        bt.cause or "-",
        (" after crash: " + bt.reason) if bt.crash else "",
        bt.crashes,
        bt.streak,
    )


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
        on_reboot=app.flush_and_reboot,
        send_sms=app.send_sms if modem else None,
        send_ussd=modem.ussd if modem else None,
        send_at=modem.cmd if modem else None,
    )
    timing = Timing(port=port)
    timing.drain_bytes = getattr(b, "UPLINK_DRAIN_BYTES", timing.drain_bytes)  # D133
    up = Uplink(
        open_stream,
        app.cfg,
        app.vehicle,
        app.fw,
        randbytes=os.urandom,
        handler=handler,
        timing=timing,
        outbox=parts.outbox(b, "srv"),
        sms_outbox=app.sms_outbox,
    )
    app.fw.on_net_change = up.reconnect
    return up


def _link(app):
    # the vehicle's channels: the server part shares the uplink's outbox, SMS alerts
    # have their own (made in _uplink, or here when there is no server connection)
    sms = app.sms_outbox
    if sms is None:
        sms = app.sms_outbox = parts.outbox(app.board, "sms")
    if app.mqtt is not None:
        from firmware.tasks.mqtt_wiring import make_link

        link = make_link(app, sms)  # MQTT's own outbox (both: each uplink its own)
    else:
        from firmware.tasks.link import Link

        link = Link(app.cfg, app.modem, app.uplink, sms_outbox=sms)
    app.outbox = link  # flush() before a planned reset (the supervisor's escalation)
    if link.outbox is not None:
        # the SMS framework's push alerts ("SMS FROM: ...") join the one server outbox
        app.fw.on_push = app.push
    return link


def _v3metrics():
    from ovms.twizy import v3metrics  # the Twizy's OVMS v3 metrics (MQTT only)

    return v3metrics


def _power_job(app):
    if not getattr(app.board, "POWER", False):
        return  # D102: no power manager on this board: its code stays out of the heap
    from firmware.power import build

    p = app.power = build(app)
    if p is not None:
        app.sup.add("power", p.run)
        app.fw.net.power_line = p.text  # DIAG's "Power:" line (ovms/sms_cmds.py)


def _console_job(app):
    s = parts.console_stream(app.board)
    if s is not None:
        from firmware.tasks.console import Console

        app.console = Console(s, app.fw)
        app.sup.add("console", app.console.run)


async def _gps_job(app):
    b = app.board
    if getattr(b, "GPS_UART", None) == "emu":
        reader = await b.open_gps(app)  # the simulation's hook (tools/sim.py)
    else:
        reader = parts.gps_reader(b)
    if reader is not None:
        app.gps = reader
        app.sup.add("gps", app.gps_run)
