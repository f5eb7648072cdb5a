# The device side of `make heap-report`: the whole firmware (frozen) in the 32-bit unix
# port with a board-sized heap, its modem and server over loopback TCP to the processes
# tools/heap_report.py runs, its CAN bus streamed from the real traces (StreamCan).
# Licence: MIT (this project). Host tool: runs on MicroPython, device code never imports it.
#
#   micropython -X heapsize=64K -m tools.heap_device EMU_PORT SERVER_PORT HOURS CAN_HOURS
#       SPEED TRACE...
#
# Every simulated minute it prints one line
#   HEAP t=<sim s> alloc=<bytes after gc> free=<bytes>
# followed by micropython.mem_info() (its "max free sz" is the largest free block, in
# 16-byte blocks), and at the end
#   HEAPDONE memory_errors=<n> task_errors=<n> ticks=<n> frames=<n> ...

import gc
import sys

import micropython
from heap_can import FrameFileCan

from ovms.aio import sleep_ms

_ARGS = {}


class Board:
    NAME = "heap"
    HARDWARE = "HEAP32"
    CAN_DRIVER = "board"  # open_can below: the traces streamed (StreamCan)
    CAN_BITRATE = 500_000
    CAN_FIFO = 32
    CLOCK = "virtual"
    CLOCK_STEP_MS = 10
    SPEED = 60
    MODEM = "emu"  # through the hooks below: a real TCP socket to the emulator process
    MODEM_TIMING = None
    GNSS = True
    GPS_UART = None
    CONSOLE = "stdin"  # the DIAG console on the REPL stream, as the pyboard and ESP32 files
    CFG_PATH = "state/ovms.cfg"
    BOOT_LOG_PATH = "state/boot.json"
    OUTBOX_PATH = "state/outbox"
    SAFE_PIN = None
    NET = "modem"
    SERVER = "fake"
    DEFAULT_PARAMS = {
        0: "+4915100000000",
        3: "SMS,IP",
        4: "127.0.0.1",
        5: "internet",
        8: "TWIZYHEAP",
        9: "HEAPPASS",
    }
    UPLINK_DRAIN_BYTES = 512  # a 64 KB board's uplink drains every 512 bytes (D133)
    WDT_MS = 0
    TICK_MS = 1000
    STRICT = False  # production rules: a MemoryError is counted and the task restarted

    @staticmethod
    async def open_modem(app, kw):
        import asyncio

        from firmware.hal.sim800 import Sim800

        r, w = await asyncio.open_connection("127.0.0.1", _ARGS["emu"])
        # a UART has no Nagle: without TCP_NODELAY the loopback holds each small write
        # until the last one is acknowledged (~40 ms, 24 simulated s at speed 600), and a
        # CIPSEND payload written in slices (D107) would span minutes of simulated time
        w.s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
        return Sim800(r, w, **kw)

    @staticmethod
    def open_can(ids, clock):
        return _can(clock, ids)

    @staticmethod
    async def open_server(app):
        return _ARGS["server"]

    @staticmethod
    def jobs(app):
        return [("heap_probe", lambda: _probe(app))]


def _can(clock, ids):
    return FrameFileCan(
        _ARGS["traces"],
        depth=Board.CAN_FIFO,
        loop=True,
        clock=clock,
        stop_after_ms=int(_ARGS["can_hours"] * 3600 * 1000),
        ids=ids,
    )


async def _probe(app):
    # HEAP_MAP_AT=<sim s> (environment): the whole block map once, at that time
    import os

    map_at = int(os.getenv("HEAP_MAP_AT") or -1)
    census_at = int(os.getenv("HEAP_CENSUS_AT") or -1)
    census_above = int(os.getenv("HEAP_CENSUS_ABOVE") or -1)
    if hasattr(gc, "called"):  # the diagnostic build: record the code run from now on
        gc.called()
    peak_above = int(os.getenv("HEAP_CENSUS_PEAK") or -1)
    if peak_above >= 0 and hasattr(gc, "peak_hook"):  # only the diagnostic build has it
        gc.peak_hook(lambda live: _at_peak(live, peak_above))
    next_s = 0
    while True:
        t = app.clock.now // 1000 if app.clock is not None else 0
        if t >= next_s:
            next_s = t + 60
            gc.collect()
            print("HEAP t=%d alloc=%d free=%d" % (t, gc.mem_alloc(), gc.mem_free()))
            census = 0 <= census_at <= t < census_at + 60
            if 0 <= census_above < gc.mem_alloc():  # the first sample above: why so high
                census = True
                census_above = -1
            micropython.mem_info(1 if census or 0 <= map_at <= t < map_at + 60 else 0)
            if census:
                _census()
        c = app.clock  # simulated seconds (the virtual clock), not wall time
        await (c.sleep_ms(1000) if c is not None else sleep_ms(1000))


_PEAKS = [0]


def _at_peak(live, above):
    # HEAP_CENSUS_PEAK=<bytes>: a collection found more live than ever before and above
    # that: the census now, while whatever the running task holds is still alive (the
    # hook is scheduled by the diagnostic build's collector; at most three censuses)
    if live < above or _PEAKS[0] >= 3:
        return
    _PEAKS[0] += 1
    gc.peak_hook(None)
    print("PEAK-CENSUS live=%d" % live)
    micropython.mem_info(1)
    _census()
    gc.peak_hook(lambda n: _at_peak(n, max(above, live + 512)))


def _census():
    # HEAP_CENSUS_AT=<sim s> (environment): tools/heap_census.py once, at that time; the
    # host writes the heap's address (from the block map just printed) into census.addr
    import os
    import time

    for _ in range(200):
        try:
            with open("census.addr") as f:
                pool_start, pool_bytes, heap_bytes = [int(x, 0) for x in f.read().split()]
            break
        except (OSError, ValueError):
            time.sleep_ms(50)
    else:
        print("CENSUS-END (no census.addr from the host)")
        return
    os.remove("census.addr")
    import heap_census

    heap_census.run(pool_start, pool_bytes, heap_bytes)


_WRAPPED = []  # (module or class, name, the original): put back once all parts are made


def _staged(mod, name, is_async=False):
    # wrap mod.name so that it prints "STAGE <name> <bytes kept>" (heap after gc, before
    # and after the call): the start-up breakdown of make heap-report
    f = getattr(mod, name)
    _WRAPPED.append((mod, name, f))

    def before():
        gc.collect()
        return gc.mem_alloc()

    def after(b):
        gc.collect()
        print("STAGE %s %d" % (name, gc.mem_alloc() - b))

    if is_async:

        async def wrapped(*a, **k):
            b = before()
            r = await f(*a, **k)
            after(b)
            return r

    else:

        def wrapped(*a, **k):
            b = before()
            r = f(*a, **k)
            after(b)
            return r

    setattr(mod, name, wrapped)


_LAZY = (  # modules firmware/app.py and its boot import inside functions (the heap board's)
    "firmware.wiring",
    "firmware.parts",
    "firmware.hal.sim800",
    "firmware.tasks.uplink",
    "ovms.v2.handler",
    "ovms.outbox",
    "firmware.tasks.gps",
    "firmware.tasks.can_rx",
    "firmware.tasks.console",
    "firmware.simclock",
)


def _stages(app_mod):
    # the boot's modules (firmware/wiring.py, parts.py: dropped after the boot, D111)
    from firmware import parts, wiring
    from firmware.tasks import can_rx

    for name in ("settings", "can"):
        _staged(parts, name)
    _staged(parts, "modem", True)
    _staged(can_rx, "CanRx")
    for name in ("Twizy", "SmsInterpreter", "Feed", "Ticker", "Housekeeping", "watch_app"):
        _staged(wiring, name)
    _staged(wiring, "_link")
    for name in ("_uplink", "_gps_job"):
        _staged(wiring, name, True)


def main(argv):
    _ARGS["emu"] = int(argv[0])
    _ARGS["server"] = int(argv[1])
    hours = float(argv[2])
    _ARGS["can_hours"] = float(argv[3])
    Board.SPEED = int(argv[4])
    _ARGS["traces"] = tuple(argv[5:])
    from firmware import app as app_mod

    for m in _LAZY:  # imported inside functions: counted with the imports, not the stage
        __import__(m)
    gc.collect()
    print("STAGE import %d" % gc.mem_alloc())
    _stages(app_mod)
    sup_start = app_mod.Supervisor.start

    def start(sup):
        for mod, name, f in _WRAPPED:  # the wrappers' closures are the harness's, not the
            setattr(mod, name, f)  # firmware's: gone before anything is measured
        _WRAPPED.clear()
        app_mod.Supervisor.start = sup_start
        gc.collect()
        print("STAGE objects-made %d" % gc.mem_alloc())
        sup_start(sup)

    app_mod.Supervisor.start = start
    a = app_mod.main(Board, hours * 3600 / Board.SPEED)
    s = a.summary()
    mem = 0
    errors = 0
    for j in a.sup.jobs + [a.sup.loop_job]:
        mem += j.memory_errors
        errors += j.errors
    gc.collect()
    print(
        "HEAPDONE memory_errors=%d task_errors=%d ticks=%d frames=%d sms_in=%d sms_out=%d "
        "alloc=%d"
        % (mem, errors, s["ticks"], s["frames"], s["sms_in"], s["sms_out"], gc.mem_alloc())
    )
    for line in a.sup.report():
        print("task " + line)
    return 0


main(sys.argv[1:])
