# The host simulation: the SIM800 emulator in-process, a scripted owner, a console report.
# Licence: MIT (this project). Host only: it hands the app a host board (firmware/boards/
# host.py) whose hooks open the emulators; device code never imports this.
#
#   micropython -m tools.sim [seconds [speed]]      (make sim SIM_SECONDS=20 SIM_SPEED=1)
#
# What it prints: the modem coming up, the vehicle's STAT text every SIM_STAT_EVERY_S
# ticks, every SMS the owner sends (SIM_SMS: injected through the emulator, so it takes
# the real path: +CMTI -> AT+CMGR -> framework -> AT+CMGS) and every SMS the module sends,
# then a summary: per-task errors and restarts (firmware/supervisor.py); the exit status
# is non-zero when any task failed (the host board is STRICT: the first failure ends the
# run). Time: the host board's virtual clock (firmware/simclock.py) runs SPEED x the wall
# clock and holds while the fake CAN has frames waiting, so a slow machine replays the
# same frames and ticks, only slower.

import asyncio
import sys

from ovms.aio import sleep_ms
from tools.sim800emu import Sim800Emu, nodelay

OUT = print  # where the report goes (tests replace it)
_T = "host_tests/fixtures/traces/Twizy-Virtual-BMS__Protocol."
# the bundled real recordings, back to back: key on, drive end, charge start, charge end
TRACES = (
    _T + "Init-Drv.candump.log",
    _T + "End-Drv.candump.log",
    _T + "Init-Chg.candump.log",
    _T + "End-Chg.candump.log",
)


async def open_modem(app, kw):
    from firmware.hal.sim800 import Sim800

    emu = Sim800Emu(seed=1)
    port = await emu.start()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    nodelay(w)
    app.emu = emu
    return Sim800(r, w, reset_pin=emu.pin, dtr_pin=emu.dtr, **kw)


async def open_server(app):
    # the in-process OVMS v2 server the module logs in to -> its port
    from tools.ovms_v2_server import FakeServer

    srv = FakeServer({app.cfg.param(8).upper(): app.cfg.param(9)})
    await srv.start()
    app.server = srv
    return srv.port


async def open_gps(app):
    # the emulator's NMEA port as the board's standalone GPS UART -> StreamReader
    port = await app.emu.start_nmea()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    app.gps_writer = w
    return r


def jobs(app):
    # (name, coroutine function) pairs for the app's supervisor
    return [("sim_script", lambda: _script(app)), ("sim_report", lambda: _report(app))]


def _t(app):
    return "[%4ds]" % app.vehicle.st.tick


def _one_line(text):
    return " | ".join([p.strip() for p in text.replace("\r", "\n").split("\n") if p.strip()])


async def _script(app):
    # the owner's SMS, at their sim seconds, through the emulator's SIM storage
    b = app.board
    owner = app.cfg.param(0)
    await app.modem.wait_ready()
    for at_s, text in getattr(b, "SIM_SMS", ()):
        while app.vehicle.st.tick < at_s:
            await sleep_ms(app.tick_ms // 4 or 1)
        OUT("%s SMS in  from %s: %s" % (_t(app), owner, text))
        app.emu.inject_sms(owner, text)
    await asyncio.Event().wait()  # a supervised job runs for ever: returning is a failure


async def _report(app):
    b = app.board
    every = getattr(b, "SIM_STAT_EVERY_S", 5)
    c = app.can
    OUT(
        "sim: %d CAN frames from %d trace(s), %d.%d s per pass, speed x%d; tick every %d ms"
        % (
            c.n,
            len(b.CAN_TRACES),
            c.span_ms // 1000,
            c.span_ms // 100 % 10,
            b.SPEED,
            app.tick_ms,
        )
    )
    OUT(
        "sim: owner %s, notifications %s, settings in %s"
        % (app.cfg.param(0), app.cfg.param(3), b.CFG_PATH)
    )
    ready = False
    online = False
    sent = 0
    got = 0
    last = 0
    srv = app.server
    while True:
        await sleep_ms(app.tick_ms // 5 or 1)
        if not ready and app.modem.state == "READY":
            ready = True
            OUT("%s modem READY (SIM800 emulator on 127.0.0.1:%d)" % (_t(app), app.emu.port))
        while sent < len(app.emu.sent):
            number, text = app.emu.sent[sent]
            sent += 1
            OUT("%s SMS out to   %s: %s" % (_t(app), number, _one_line(text)))
        up = app.uplink
        if up is not None and up.logged_in != online:
            online = up.logged_in
            OUT(
                "%s server %s"
                % (_t(app), "logged in (GPRS via the emulator)" if online else "down")
            )
            if online and srv is not None:
                await srv.send("MP-0 Z1")  # an app is watching: full status at once
        if srv is not None:
            cells = 0
            while got < len(srv.received):
                line = srv.received[got]
                got += 1
                if line.startswith("MP-0 HRT-PWR-BattCell"):
                    cells += 1
                    continue
                OUT("%s server <- %s" % (_t(app), _one_line(line)[:120]))
            if cells:
                OUT("%s server <- (%d RT-PWR-BattCell records)" % (_t(app), cells))
        tick = app.vehicle.st.tick
        if tick != last and tick % every == 0:
            last = tick
            s = app.summary()
            OUT(
                "%s STAT %s  (frames %d)"
                % (_t(app), _one_line(app.vehicle.stat_text()), s["frames"])
            )


def print_summary(app):
    s = app.summary()
    c = app.can
    OUT(
        "summary: %d frames decoded, %d filtered out, %d decoder drops, %d FIFO overruns, "
        "%d trace loops; %d ticks (%d late); SMS in %d / out %d; server lines out %d; "
        "task crashes %d"
        % (
            s["frames"],
            s["filtered"],
            s["drops"],
            s["overruns"],
            c.loops,
            s["ticks"],
            app.ticker.late,
            s["sms_in"],
            s["sms_out"],
            app.uplink.lines_out if app.uplink is not None else 0,
            s["crashes"],
        )
    )
    OUT(
        "summary: tasks (errors/restarts): "
        + ", ".join(["%s %d/%d" % (j.name, j.errors, j.restarts) for j in app.sup.jobs])
        + ", unsupervised %d" % app.sup.loop_job.errors
    )
    for line in app.sup.report():
        OUT("summary: task " + line)
    if app.sup.failure is not None:
        OUT("summary: stopped by the first task failure (%s: %s)" % app.sup.failure)

    p = s.get("power")
    if p is not None:  # issue 13: the module's own draw (firmware/power.py)
        OUT(
            "summary: power %s now; modelled %s mA avg, %s Wh/day at 12 V (%s)"
            % (p["state"], _fixed(p["avg_ua"], 1), _fixed(p["mwh_day"], 2), p["share"])
        )
    if getattr(app, "mqtt", None) is not None:
        OUT("summary: " + app.mqtt.diag_text())

def host_board(speed=1, **over):
    # the host board module's settings as a class, with overrides (tests, command line)
    import firmware.boards.host as h

    class Board:
def _fixed(v, places):
    from ovms.powermodel import fixed

    return fixed(v, 1000, places)


        pass

    for k in dir(h):
        if not k.startswith("__"):
            setattr(Board, k, getattr(h, k))
    Board.SPEED = speed
    Board.CAN_TRACES = TRACES
    # the hooks through which the app reaches the emulators (device code never imports
    # tools/): MODEM "emu", SERVER "fake", GPS_UART "emu", and the sim's own jobs
    Board.open_modem = staticmethod(open_modem)
    Board.open_server = staticmethod(open_server)
    Board.open_gps = staticmethod(open_gps)
    Board.jobs = staticmethod(jobs)
    for k in over:
        setattr(Board, k, over[k])
    return Board


def run(argv):
    from firmware import app as app_mod

    seconds = int(argv[0]) if argv else 20
    speed = int(argv[1]) if len(argv) > 1 else 1
    a = app_mod.main(host_board(speed), seconds)
    print_summary(a)
    return exit_status(a)


def exit_status(app):
    # make sim's exit status: 1 when any task failed (or the run was stopped by one)
    return 1 if app.crashes or app.sup.failure is not None else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
