# The runs behind make power-report (tools/power_report.py): the whole firmware on the
# host board through a parked week or the virtual Twizy's day, booking the time per power
# state. Licence: MIT (this project). Host tool: CPython or the MicroPython unix port.

import asyncio

from firmware import app as app_mod
from firmware.hal.can_fake import FakeCan, StreamCan, read_trace
from ovms.powerledger import HOUR_MS
from ovms.powerstate import DRIVING, NAMES, PARKED_ASLEEP, PARKED_AWAKE
from tools import sim

OWNER = "+4915100000000"
DAY_MS = 86_400_000
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
