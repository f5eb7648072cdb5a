# Builds the board's parts for the app: settings, CAN adapter, modem, DIAG console, GPS,
# watchdog, outboxes. Licence: MIT (this project). Used by firmware/app.py and
# firmware/wiring.py at boot only, then dropped (D111): nothing made here may keep a
# function of this module (a closure, a class) once the parts are made; what runs later
# lives in the modules that run it (console.Duplex, progress.watch_app, app.clock_s).
#
# Board constants read (firmware/boards/*.py): CAN_DRIVER ("machine" | "pyb" | "fake" |
# None), MODEM ("uart" | "emu" | None), CONSOLE ("stdin" | ("uart", id, baud, tx, rx) |
# None | a ready stream object), GPS_UART (None | "emu" | (id, baud, rxbuf) with GPS_TX /
# GPS_RX), CLOCK ("virtual" on the host), WDT_MS, BOOT_LOG_PATH, SAFE_PIN.

import asyncio
import sys

from firmware.app import clock_s
from ovms import lazy
from ovms.config import PARAM_GPRSAPN, PARAM_GPRSPASS, PARAM_GPRSUSER, Store


def clock(b):
    # the host's virtual clock (firmware/simclock.py), or None: the real asyncio clock
    if getattr(b, "CLOCK", None) != "virtual":
        return None
    from firmware.simclock import VirtualClock

    return VirtualClock(speed=getattr(b, "SPEED", 1), step_ms=getattr(b, "CLOCK_STEP_MS", 10))


def can(b, ids, vclock=None):
    # the CAN adapter, listen-only from its construction; ids: the vehicle's CAN IDs
    kind = b.CAN_DRIVER
    if kind == "board":  # a host tool's own fake controller (tools/heap_device.py)
        return b.open_can(ids, vclock)
    if kind == "fake":
        from firmware.hal.can_fake import FakeCan

        speed = 1 if vclock is not None else b.SPEED  # the clock does the pacing
        return FakeCan(
            b.CAN_TRACES,
            speed=speed,
            depth=b.CAN_FIFO,
            bitrate=b.CAN_BITRATE,
            ids=ids,
            clock=vclock,
        )
    if kind == "machine":
        from firmware.hal import can_machine as m
    elif kind == "pyb":
        from firmware.hal import can_pyb as m
    elif kind is None:
        return None
    else:
        raise ValueError("unknown CAN_DRIVER %r" % kind)
    return m.from_board(b, ids)


def settings(b):
    # settings from the board's store and the owner's copy beside it (ovms.owner): first
    # boot: the board's defaults and a unique module password, saved; settings lost: the
    # owner kept, cfg.notices holds the SMS to send him (D35, D38). D116: the boot's
    # rules (ovms.owner) and the store's code (ovms.store) are dropped after it: what
    # stays is cfg.store and its owner copy, two Store records (ovms.config)
    import os

    path = b.CFG_PATH
    mkdirs(path)
    store = Store(path)
    cfg = store.load()
    defaults = getattr(b, "DEFAULT_PARAMS", None)
    try:
        owner = lazy.load("ovms.owner")
        copy = owner.owner_copy(path + ".owner")
        owner.secure_boot(cfg, store, copy, defaults, unique_id(), getattr(os, "urandom", None))
    finally:
        lazy.unload("ovms.owner")
        lazy.unload("ovms.store")
    return cfg


def unique_id():
    # the board's unique id (bytes), None where the port has none (unix, qemu)
    try:
        import machine

        return machine.unique_id()
    except (ImportError, AttributeError, OSError):
        return None


def mkdirs(path):
    import os

    dirs = path.split("/")[:-1]
    for i in range(1, len(dirs) + 1):
        d = "/".join(dirs[:i])
        if d:
            try:
                os.mkdir(d)
            except OSError:
                pass


async def modem(app):
    # the SIM800: the in-process emulator (host), the board's UART, or none
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
    if b.MODEM == "emu":  # the simulation's hook (tools/sim.py): device code never
        return await b.open_modem(app, kw)  # imports tools/
    if b.MODEM != "uart":
        return None
    return modem_uart(b, kw)


def modem_uart(b, kw):
    # the SIM800 on the board's UART
    from machine import UART, Pin

    from firmware.hal.sim800 import Sim800

    pins = {}
    if hasattr(b, "MODEM_TX"):
        pins = {"tx": b.MODEM_TX, "rx": b.MODEM_RX}
    uart = UART(b.MODEM_UART, b.MODEM_BAUD, rxbuf=b.MODEM_RXBUF, **pins)
    rst = Pin(b.MODEM_RESET_PIN, Pin.OUT, value=1)
    dtr = getattr(b, "MODEM_DTR_PIN", None)  # sleep mode 1 (issue 13)
    if dtr is not None:
        kw["dtr_pin"] = Pin(dtr, Pin.OUT, value=0)
    return Sim800(asyncio.StreamReader(uart), asyncio.StreamWriter(uart, {}), rst, **kw)


def console_stream(b):
    # the DIAG console's stream (None: no console on this board)
    c = getattr(b, "CONSOLE", None)
    if c is None:
        return None
    from firmware.tasks.console import Duplex

    if c == "stdin":
        # the REPL's stream (USB VCP / UART0): Ctrl-C still raises KeyboardInterrupt in
        # the firmware (the interrupt character is handled below the stream), which ends
        # asyncio.run() and leaves mpremote the REPL
        return Duplex(asyncio.StreamReader(sys.stdin), asyncio.StreamWriter(sys.stdout, {}))
    if isinstance(c, tuple) and c[0] == "uart":
        from machine import UART

        _, uid, baud, tx, rx = c
        pins = {"tx": tx, "rx": rx} if tx is not None else {}
        u = UART(uid, baud, **pins)
        return Duplex(asyncio.StreamReader(u), asyncio.StreamWriter(u, {}))
    if isinstance(c, str):
        raise ValueError("unknown CONSOLE %r" % c)
    return c  # a ready stream (tests)


def gps_reader(b):
    # the standalone NMEA GPS's StreamReader on a device UART (None: no such GPS)
    g = getattr(b, "GPS_UART", None)
    if g is None or isinstance(g, str):
        return None
    from machine import UART

    uid, baud, rxbuf = g
    pins = {"tx": b.GPS_TX, "rx": b.GPS_RX} if hasattr(b, "GPS_TX") else {}
    return asyncio.StreamReader(UART(uid, baud, rxbuf=rxbuf, **pins))


def wdt(b):
    if not getattr(b, "WDT_MS", 0):
        return None
    from machine import WDT

    return WDT(timeout=b.WDT_MS)


def outbox(b, name):
    # one channel's durable outbox: <OUTBOX_PATH>/<name>.<n> journal files, at most
    # OUTBOX_BYTES (default: a folder "outbox" beside the settings file, 32 KB)
    from ovms.outbox import Outbox

    folder = getattr(b, "OUTBOX_PATH", None)
    if folder is None:
        cfg = b.CFG_PATH
        folder = (cfg[: cfg.rfind("/")] if "/" in cfg else ".") + "/outbox"
    mkdirs(folder + "/" + name)
    return Outbox(folder + "/" + name, clock_s, max_bytes=getattr(b, "OUTBOX_BYTES", 32768))
