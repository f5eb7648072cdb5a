# The host simulation: the SIM800 emulator in-process, a scripted owner, a console report.
# Licence: MIT (this project). Host only: it hands the app a host board (firmware/boards/
# host.py) whose hooks open the emulators; device code never imports this.
#
#   python3 -m tools.sim [SECONDS [SPEED]] [--scenario NAME] [--seed N] [--from T]
#       [--seconds S] [--speed X] [--server HOST:PORT --vehicle ID --netpass PW
#       [--paranoid]]                   (tools/sim_args.py: the options, D64)
#   micropython -m tools.sim ...         (the same on the unix port; make sim)
#
# CAN: the virtual Twizy (tools/vtwizy: a seeded model sending the car's whole traffic,
# its GPS fed to the emulated GNSS), or with SIM_TRACES=bundled the real traces looped.
# Server: the in-process test server, or --server: any OVMS v2 server, logged in to
# through the emulated SIM800's GPRS exactly as the car does.
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
from tools import sim_args, sim_report
from tools.sim800emu import Sim800Emu, loopback, nodelay

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
    _wire_emu(app, emu)
    return Sim800(r, w, reset_pin=emu.pin, dtr_pin=emu.dtr, **kw)


def _wire_emu(app, emu):
    # the virtual Twizy's GPS into the emulated GNSS; --server: its parameters for this
    # run (not saved) and, for a host outside 127.x, the real network for the modem
    can = app.can
    if hasattr(can, "sc"):
        clock = app.clock
        emu.gnss_source = lambda: can.sc.gps_at(can.scenario_ms(clock.ticks_ms()))
    b = app.board
    srv = getattr(b, "SIM_SERVER", None)
    if srv is not None:
        emu.remote_ok = not loopback(srv[0])
        cfg = app.cfg
        cfg.set_param(4, srv[0], save=False)
        for n, k in ((8, "SIM_VEHICLE"), (9, "SIM_NETPASS")):
            if getattr(b, k, None):
                cfg.set_param(n, getattr(b, k), save=False)
        cfg.set_param(10, "P" if getattr(b, "SIM_PARANOID", False) else "", save=False)


async def open_server(app):
    # the in-process OVMS v2 server the module logs in to -> its port
    from tools.ovms_v2_server import FakeServer

    srv = FakeServer({app.cfg.param(8).upper(): app.cfg.param(9)})
    await srv.start()
    app.server = srv
    return srv.port


async def open_gps(app):
    # the emulator's NMEA port as the board's standalone GPS UART -> StreamReader
    # one fix per simulated second (the emulator sleeps on the virtual clock), as a GPS
    # receiver sends them, whatever the speed
    if app.clock is not None:
        app.emu.nmea_sleep = app.clock.sleep_ms
    port = await app.emu.start_nmea(period_ms=1000)
    r, w = await asyncio.open_connection("127.0.0.1", port)
    app.gps_writer = w
    return r


def jobs(app):
    # (name, coroutine function) pairs for the app's supervisor
    sim_report.install(app)  # the summary's counters (records, alerts)
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
    sc = getattr(c, "sc", None)
    speed = "unpaced" if b.SPEED >= sim_args.UNPACED else "x%s" % b.SPEED
    if sc is not None:
        OUT(
            "sim: virtual Twizy, scenario %s seed %d from %s, speed %s; tick every %d ms"
            % (sc.name, sc.seed, _hms(c.from_ms), speed, app.tick_ms)
        )
    else:
        OUT(
            "sim: %d CAN frames from %d trace(s), %d.%d s per pass, speed %s; tick every %d ms"
            % (
                c.n,
                len(b.CAN_TRACES),
                c.span_ms // 1000,
                c.span_ms // 100 % 10,
                speed,
                app.tick_ms,
            )
        )
    OUT(
        "sim: owner %s, notifications %s, settings in %s"
        % (app.cfg.param(0), app.cfg.param(3), b.CFG_PATH)
    )
    ready = False
    online = False
    mq_online = False
    events = 0
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
        mq = getattr(app, "mqtt", None)
        if mq is not None and mq.logged_in != mq_online:
            mq_online = mq.logged_in
            OUT("%s MQTT %s" % (_t(app), "connected, prefix " + mq._pre if mq_online else "down"))
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
        # the scenario's events once the simulated time reaches them (the stream
        # reads one frame ahead: across a parked stretch that is hours ahead)
        while sc is not None and events < len(sc.events):
            t_ms, what = sc.events[events]
            if t_ms > c.scenario_ms(app.clock.now):
                break
            events += 1
            if t_ms >= c.from_ms:
                OUT("%s car: %s (scenario %s)" % (_t(app), what, _hms(t_ms)))
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
    p = s.get("power")
    if p is not None:  # issue 13: the module's own draw (firmware/power.py)
        OUT(
            "summary: power %s now; modelled %s mA avg, %s Wh/day at 12 V (%s)"
            % (p["state"], _fixed(p["avg_ua"], 1), _fixed(p["mwh_day"], 2), p["share"])
        )
    if getattr(app, "mqtt", None) is not None:
        OUT("summary: " + app.mqtt.diag_text())
    for line in sim_report.lines(app):
        OUT("summary: " + line)
    for line in app.sup.report():
        OUT("summary: task " + line)
    if app.sup.failure is not None:
        OUT("summary: stopped by the first task failure (%s: %s)" % app.sup.failure)


def _fixed(v, places):
    from ovms.powermodel import fixed

    return fixed(v, 1000, places)


def host_board(speed=1, **over):
    # the host board module's settings as a class, with overrides (tests, command line)
    import firmware.boards.host as h

    class Board:
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
    if getattr(Board, "SIM_SCENARIO", None):  # the virtual Twizy on the CAN bus
        Board.CAN_DRIVER = "board"
        Board.open_can = staticmethod(_scenario_can(Board))
    if getattr(Board, "SIM_SERVER", None):  # a server outside the process
        Board.SERVER = None
        Board.SERVER_PORT = Board.SIM_SERVER[1]
    return Board


def _scenario_can(board):
    def open_can(ids, clock):
        from tools import vtwizy
        from tools.vtwizy.can import ScenarioCan

        sc = vtwizy.scenario(board.SIM_SCENARIO, getattr(board, "SIM_SEED", 1))
        from_ms = int(getattr(board, "SIM_FROM_S", 0) * 1000)
        return ScenarioCan(
            sc, ids, clock, depth=board.CAN_FIFO, from_ms=from_ms, bitrate=board.CAN_BITRATE
        )

    return open_can


def _hms(ms):
    s = ms // 1000
    return "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)


def run(argv, **board):
    # the command line -> exit status; board: host board overrides (tests: CFG_PATH...)
    from firmware import app as app_mod

    argv = list(argv)
    over = mqtt_args(argv)
    try:
        opt = sim_args.parse(argv)
    except sim_args.UsageError as e:
        sys.stderr.write("sim: %s\n%s\n" % (e, sim_args.USAGE))
        return 2
    if opt.help:
        OUT(sim_args.USAGE)
        return 0
    over.update(
        {
            "SIM_SCENARIO": opt.scenario,
            "SIM_SEED": opt.seed,
            "SIM_FROM_S": opt.from_s or 0,
            "SIM_SERVER": opt.server,
            "SIM_VEHICLE": opt.vehicle,
            "SIM_NETPASS": opt.netpass,
            "SIM_PARANOID": opt.paranoid,
        }
    )
    over.update(board)
    board = host_board(opt.clock_speed(), **over)
    if opt.traces is not None:
        board.CAN_TRACES = opt.traces
    a = app_mod.main(board, opt.wall_seconds())
    print_summary(a)
    return exit_status(a)


def mqtt_args(argv):
    # --mqtt HOST:PORT [--mqtt-prefix P] (taken out of argv): the MQTT uplink to that
    # broker through the emulated SIM800's GPRS instead of the v2 server
    # (firmware/tasks/mqtt_wiring.py: board MQTT / MQTT_PREFIX)
    over = {}
    for flag, key in (("--mqtt", "MQTT"), ("--mqtt-prefix", "MQTT_PREFIX")):
        if flag in argv:
            i = argv.index(flag)
            if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                raise SystemExit("sim: %s needs a value" % flag)
            over[key] = argv[i + 1]
            del argv[i : i + 2]
    return over


def exit_status(app):
    # make sim's exit status: 1 when any task failed (or the run was stopped by one)
    return 1 if app.crashes or app.sup.failure is not None else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
