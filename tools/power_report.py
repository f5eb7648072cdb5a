# make power-report: the whole firmware on the host board through a parked week and the
# virtual Twizy's day, and what each board would draw from the 12 V battery (issue 13).
# Licence: MIT (this project). Host tool: CPython or the MicroPython unix port.
#
#   python3 -m tools.power_report [--days N] [--no-day] [--day-hours H]
#
# Both runs are the real firmware (firmware/app.py on the host board: the SIM800
# emulator, the OVMS v2 test server over loopback, the power task and its sleep on the
# virtual clock); simulated time runs as fast as the machine goes (the clock holds while
# the emulated modem works, firmware/power.py). The runs book the time per power state
# (lib/ovms/powermodel.Ledger); the report prices that time with each board's datasheet
# currents (firmware/boards/pyboard.py, esp32.py): the states and the traffic are the
# firmware's, the currents the boards'.
#   parked  N days (default 7) with a silent bus; the owner sends STAT every evening and
#           DIAG once; an alert is queued every 6 hours (as the car's tick would), all
#           while the module sleeps; at the end a key-on (the real Init-Drv recording).
#   day     the virtual Twizy's "day" (tools/vtwizy, D63: night, a 12 V top-up, the
#           commute, a charge with a break, another top-up, night), streamed.
# It prints the time in each state, the wakes, the SMS latencies, the key-on latency,
# the modelled mA and Wh/day per board, and ends with one line per board:
#   power-report: <board> parked <Wh> Wh/day, day <Wh> Wh/day
# Exit status 1 when a must of issue 13 fails (parked > 2 Wh/day, an SMS answered later
# than 60 s, DRIVING later than 2 s after the first frame, an alert or record lost).

import asyncio
import sys

from firmware import app as app_mod
from firmware.hal.can_fake import FakeCan, StreamCan, read_trace
from ovms.powermodel import HOUR_MS, PowerModel, fixed, share_text
from ovms.powerstate import DRIVING, NAMES, PARKED_ASLEEP, PARKED_AWAKE
from tools import sim

OUT = print
OWNER = "+4915100000000"
DAY_MS = 86_400_000
BOARDS = ("pyboard", "esp32")
BACKLOG = 16  # server outbox entries the uplink may lag behind while the car is active
KEYON_TRACE = "host_tests/fixtures/traces/Twizy-Virtual-BMS__Protocol.Init-Drv.candump.log"


class Schedule:
    # outside events on the simulated clock: (t_ms, name, f(app)); also what the power
    # task's host sleep must not jump over (next_ms)
    def __init__(self, app_ref):
        self.items = []
        self.app_ref = app_ref
        self.fired = []  # (t_ms, name)

    def at(self, t_ms, name, f):
        self.items.append([t_ms, name, f])
        self.items.sort(key=lambda e: e[0])

    def next_ms(self):
        return self.items[0][0] if self.items else None

    def hook(self, now):
        while self.items and self.items[0][0] <= now:
            t, name, f = self.items.pop(0)
            self.fired.append((now, name))
            f(self.app_ref[0])


class Watch:
    # the SMS the module sent, the server lines, with their simulated times
    def __init__(self, app_ref):
        self.app_ref = app_ref
        self.sms = []  # (t_ms, number, text)
        self.server = 0

    def hook(self, now):
        a = self.app_ref[0]
        if a is None or a.emu is None:
            return
        sent = a.emu.sent
        while len(self.sms) < len(sent):
            n, t = sent[len(self.sms)]
            self.sms.append((now, n, t))


def _board(d, can_factory, schedule, app_ref, **over):
    b = sim.host_board(
        1,
        CFG_PATH=d + "/ovms.cfg",
        BOOT_LOG_PATH=d + "/boot.json",
        OUTBOX_PATH=d + "/outbox",
        SIM_SMS=(),
        CAN_DRIVER="board",
    )
    b.open_can = staticmethod(can_factory)
    b.power_events = staticmethod(lambda app: [schedule.next_ms])
    b.jobs = staticmethod(lambda app: [])
    for k in over:
        setattr(b, k, over[k])
    return b


def run_app(board, seconds, app_ref, hooks, until=None):
    # the firmware on the board for `seconds` simulated seconds, as fast as it goes
    a = app_mod.App(board)
    app_ref[0] = a

    def start(app):
        app.clock.speed = 0
        for h in hooks:
            app.clock.on_step(h)
        app.clock.busy(lambda: _wall_work(app))  # wall-time work: the clock waits

    a.before_start = start
    sim.OUT = lambda t: None
    try:
        asyncio.new_event_loop()
        asyncio.run(a.run(seconds, until))
    finally:
        sim.OUT = print
    return a


def _wall_work(app):
    # the emulated modem and the server answer on wall time: while they work parked (the
    # boot, an SMS, alerts and records to the server) the simulated time holds, so the
    # booked PARKED-AWAKE time does not depend on the machine's speed (the clock still
    # steps after MAX_SETTLE yields). Driving or charging it runs: the state is the car's
    if app.modem is None or app.modem.state != "READY":
        return True
    up = app.uplink
    if up is not None and not up.logins:
        return True
    pm = app.power
    if pm is None:
        return False
    if pm.rules.state >= PARKED_AWAKE:
        return pm._has_work()
    # driving or charging: the bus sets the pace; the clock waits only when the server
    # outbox falls behind (else a fast machine would fill it faster than the emulated
    # GPRS empties it, and its overflow rule would drop records)
    ob = app.link.outbox
    return ob is not None and app.uplink is not None and ob.queued() > BACKLOG


def drained(app):
    # every alert and record delivered (the server acknowledged, the modem sent)
    link = app.link
    for ob in (link.outbox, link.sms_outbox):
        if ob is not None and ob.queued():
            return False
    return app.modem is None or not app.modem.busy()


def keyon_frames(at_ms):
    # a filtered marker at 0, then the Init-Drv recording from at_ms on the bus clock
    frames = [(0, 0x7FF, b"")]
    t0 = None
    for t_us, can_id, data in read_trace(KEYON_TRACE):
        if t0 is None:
            t0 = t_us
        frames.append((at_ms * 1000 + t_us - t0, can_id, data))
    return frames


def week_sms(days, hour=18):
    # the owner's SMS of a parked stretch: STAT every evening, DIAG on the second
    return [(d * 24 + hour, "DIAG" if d == 1 else "STAT") for d in range(days)]


def parked(d, hours=168, sms=(), alert_every_h=6, keyon=True, urc_asleep=True):
    # -> result dict: the module parked `hours` (a silent bus), the owner's `sms`
    # ((hour, text): injected through the emulator), an alert queued every
    # alert_every_h hours, then (keyon) the Init-Drv recording 2 minutes before the end
    app_ref = [None]
    sched = Schedule(app_ref)
    watch = Watch(app_ref)
    end_ms = hours * HOUR_MS
    keyon_ms = end_ms - 117_300  # not on a minute: the CAN line, not the timer, wakes
    frames = keyon_frames(keyon_ms) if keyon else [(0, 0x7FF, b"")]

    def can_factory(ids, vclock):
        return FakeCan(frames=frames, clock=vclock, ids=ids, loop=False, depth=32)

    sms_in = []
    for h, text in sms:
        t = h * HOUR_MS
        if t < keyon_ms:
            sms_in.append((t, text))
            sched.at(t, "sms " + text, lambda a, x=text: a.emu.inject_sms(OWNER, x))
    alerts = []
    t = alert_every_h * HOUR_MS + 1234
    k = 0
    while alert_every_h and t < keyon_ms:
        k += 1
        text = "Test alert %d while parked" % k
        alerts.append(text)
        sched.at(t, "alert", lambda a, x=text: _alert(a, x))
        t += alert_every_h * HOUR_MS

    def emu_opts(a):
        a.emu.urc_asleep = urc_asleep

    sched.at(0, "emulator", emu_opts)
    snap = []  # the ledger as the key-on frame comes: the parked stretch alone

    def snapshot(now):
        a = app_ref[0]
        if not snap and now >= keyon_ms and a is not None and a.power is not None:
            pm = a.power
            pm._account(now, pm.rules.state != PARKED_ASLEEP)
            snap.append(pm.ledger.totals())

    board = _board(d, can_factory, sched, app_ref)
    a = run_app(board, end_ms // 1000, app_ref, (sched.hook, watch.hook, snapshot), drained)
    r = _result(a, sched, watch, sms_in, alerts, keyon_ms if keyon else None)
    if snap:
        r["row"] = snap[0]
    return r


def _alert(a, text):
    # an alert as the vehicle's dispatch makes it: both channels, frozen now
    a.link.send_sms(text)
    a.link.send_server(["MP-0 PA" + text])


def _result(a, sched, watch, sms_in, alerts, keyon_ms):
    pm = a.power
    r = {"app": a, "ledger": pm.ledger, "pm": pm, "watch": watch, "sched": sched}
    r["row"] = pm.ledger.totals()  # what is priced (parked: up to the key-on)
    # SMS latency: inject -> the reply leaves the modem (simulated ms)
    lat = []
    replies = [s for s in watch.sms if s[2] not in alerts]
    for t, _text in sms_in:
        later = [s[0] for s in replies if s[0] >= t]
        lat.append(later[0] - t if later else None)
        if later:
            replies.remove([s for s in replies if s[0] == later[0]][0])
    r["sms_latency_ms"] = lat
    got_sms = [s[2] for s in watch.sms]
    r["alerts_sms_missing"] = [x for x in alerts if x not in got_sms]
    srv = a.server.received if a.server is not None else []
    r["alerts_server_missing"] = [x for x in alerts if not any(x in ln for ln in srv)]
    r["outbox_left"] = (a.link.outbox.queued() if a.link.outbox is not None else 0) + (
        a.link.sms_outbox.queued() if a.link.sms_outbox is not None else 0
    )
    r["outbox_dropped"] = sum(
        [ob.dropped for ob in (a.link.outbox, a.link.sms_outbox) if ob is not None]
    )
    r["keyon_latency_ms"] = None
    if keyon_ms is not None:
        first = keyon_ms + a.can._t0
        drv = [t for t, name, _why in pm.transitions if name == NAMES[DRIVING] and t >= first]
        r["keyon_latency_ms"] = drv[0] - first if drv else None
    return r


def day(d, hours=24):
    # the virtual Twizy's "day", streamed into the fake controller
    from tools import vtwizy

    app_ref = [None]
    sched = Schedule(app_ref)
    watch = Watch(app_ref)
    sc = vtwizy.scenario("day", seed=1)

    class VtCan(StreamCan):
        def _frames(self):
            for t_us, can_id, data in sc:
                yield t_us // 1000, can_id, data

    def can_factory(ids, vclock):
        return VtCan((), clock=vclock, ids=ids, loop=False, depth=64)

    board = _board(d, can_factory, sched, app_ref)
    a = run_app(board, hours * 3600, app_ref, (sched.hook, watch.hook))
    r = _result(a, sched, watch, [], [], None)
    r["events"] = [e for e in sc.events if e[0] <= hours * HOUR_MS]  # (read ahead)
    return r


def price(row, name):
    # -> (avg uA, mWh/day) of a ledger row (Ledger.totals()) with the board's currents
    b = __import__("firmware.boards." + name, None, None, [name])
    m = PowerModel(b.POWER_MV, b.POWER_UA, b.POWER_EFF_PCT, standby=b.CAN_STANDBY_PIN is not None)
    return m.report(row)


def _print_run(title, r):
    t = r["row"]
    pm = r["pm"]
    sl = pm.sleeper
    c = r["app"].modem.counters
    OUT("%s: time per state: %s" % (title, share_text(t)))
    OUT(
        "%s: %d sleeps; wakes timer/CAN/RI %d/%d/%d; modem dozes %d, DTR wakes %d, RI %d"
        % (title, sl.sleeps, sl.wakes[0], sl.wakes[1], sl.wakes[2], c["dozes"], c["dtr_wakes"],
           c["ri"])
    )  # fmt: skip
    lat = r["sms_latency_ms"]
    if lat:
        txt = ", ".join(["never" if x is None else fixed(x, 1000, 1) for x in lat])
        OUT("%s: owner SMS answered after (s): %s" % (title, txt))
    k = r["keyon_latency_ms"]
    if k is not None:
        OUT("%s: key-on -> DRIVING %s s after the first frame" % (title, fixed(k, 1000, 2)))
    OUT(
        "%s: alerts missing SMS/server %d/%d; outbox entries left %d, dropped %d; "
        "stuck work %d"
        % (
            title,
            len(r["alerts_sms_missing"]),
            len(r["alerts_server_missing"]),
            r["outbox_left"],
            r["outbox_dropped"],
            pm.stuck_work,
        )
    )
    out = {}
    for name in BOARDS:
        ua, mwh = price(t, name)
        out[name] = mwh
        OUT("%s: %-8s %s mA average, %s Wh/day" % (title, name, fixed(ua, 1000, 2), fixed(mwh)))
    return out


def _failures(r, parked_run):
    # the musts for one run -> list of texts
    bad = []
    if parked_run:
        for x in r["sms_latency_ms"]:
            if x is None or x > 60_000:
                bad.append("an SMS answered late or never")
        k = r["keyon_latency_ms"]
        if k is None or k > 2_000:
            bad.append("key-on not DRIVING within 2 s")
    if r["alerts_sms_missing"] or r["alerts_server_missing"] or r["outbox_left"]:
        bad.append("alerts or records not delivered")
    if r["outbox_dropped"]:
        bad.append("%d outbox entries dropped" % r["outbox_dropped"])
    if r["app"].sup.failure is not None or r["app"].crashes:
        bad.append("task failures")
    return bad


def _args(argv):
    o = {"days": 7, "day": True, "day_hours": 24}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--days" and i + 1 < len(argv) and argv[i + 1].isdigit():
            o["days"] = int(argv[i + 1])
            i += 2
        elif a == "--day-hours" and i + 1 < len(argv) and argv[i + 1].isdigit():
            o["day_hours"] = int(argv[i + 1])
            i += 2
        elif a == "--no-day":
            o["day"] = False
            i += 1
        else:
            raise SystemExit("usage: power_report [--days N] [--no-day] [--day-hours H]")
    if o["days"] < 1 or not 1 <= o["day_hours"] <= 24:
        raise SystemExit("power_report: --days >= 1, --day-hours 1..24")
    return o


def _fresh(path):
    # an empty folder for a run's settings and outboxes
    from firmware.parts import mkdirs

    _rm(path)
    mkdirs(path + "/x")
    return path


def _rm(path):
    import os

    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        try:
            os.remove(p)
        except OSError:
            _rm(p)
    try:
        os.rmdir(path)
    except OSError:
        pass


def main(argv):
    o = _args(argv)
    bad = []
    days = o["days"]
    OUT(
        "power-report: the firmware on the host board, virtual clock; currents from "
        "firmware/boards/pyboard.py and esp32.py"
    )
    r = parked(_fresh("build/power/parked"), hours=days * 24, sms=week_sms(days))
    title = "parked %dd" % days
    parked_mwh = _print_run(title, r)
    bad += [title + ": " + x for x in _failures(r, True)]
    for name in BOARDS:
        if parked_mwh[name] > 2_000:
            bad.append("%s: %s over 2 Wh/day" % (title, name))
    day_mwh = None
    if o["day"]:
        r = day(_fresh("build/power/day"), o["day_hours"])
        title = "day" if o["day_hours"] == 24 else "day %dh" % o["day_hours"]
        OUT("%s: the virtual Twizy: %s" % (title, ", ".join([e[1] for e in r["events"]])))
        day_mwh = _print_run(title, r)
        bad += [title + ": " + x for x in _failures(r, False)]
    for x in bad:
        OUT("power-report: FAIL " + x)
    for name in BOARDS:
        OUT(
            "power-report: %s parked %s Wh/day, day %s Wh/day"
            % (name, fixed(parked_mwh[name]), "-" if day_mwh is None else fixed(day_mwh[name]))
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
