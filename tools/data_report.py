# make data-report: mobile data per record type, per day and per 30-day month, for both
# data profiles (rt25, economy), on the virtual Twizy's `day` (tools/vtwizy) or on the real
# traces. Licence: MIT (this project). Host tool (CPython and the MicroPython unix port).
#
#   python3 -m tools.data_report [--scenario day] [--seed 1] [--traces LOG...]
#        [--budget KB] [--nat S] [--quiet]
#
# Fast: no sockets and no asyncio. One frame stream feeds two modules side by side (one
# per profile); each is the firmware's core (ovms.twizy Twizy with notify, the v2 Handler
# with its periodic set, the outbox and its Sender, ovms.datause with the device's
# overhead model, firmware/tasks/dataplan.DataPlan with its link plan) around a modelled
# uplink: one write per second of everything due (as firmware/tasks/uplink.py ticks), a
# server that acknowledges each write's h records in one segment (Nagle), answers pings
# and pings a car it sent nothing to for 900 s. Wire bytes are exact (base64 of the clear
# line + CR LF; no paranoid mode); TCP/IP overhead is ovms.datause's model (D73).
# Reference month (issue 10 §4): 1 h drive + 1 charge a day. Measured: day 2 of a
# two-day run (day 1 warms the module up): the `day` scenario (the ~25 min commute, the
# charge with its unplug, two 12 V top-ups) plus the evening trip home (the `drive`
# scenario at 17:00): ~50 min of driving, then topped up to 60 minutes at the measured
# bytes per driving second (key on .. key off); x 30.
# The last line: "data-report: rt25 <MB> MB/month, economy <MB> MB/month" (10^6 bytes).

import sys

from firmware.tasks.dataplan import DataPlan
from ovms import datause
from ovms.config import Config
from ovms.outbox import Outbox
from ovms.twizy.vehicle import Twizy
from ovms.v2.sender import Sender
from ovms.v2.server import Handler

EPOCH = 1793577600  # 2026-11-02 00:00 UTC: scenario time 0 (a Monday)
VEHICLE = "TWIZYSIM"
LOGIN_UP = 7 + 22 + 1 + 24 + 1 + len(VEHICLE) + 2  # "MP-C 0 <token> <digest> <id>" CR LF
LOGIN_DOWN = 7 + 22 + 1 + 24 + 2  # "MP-S 0 <token> <digest>" CR LF
TRIP_S = 17 * 3600  # day 2's evening trip home starts at 17:00


def wire(clear):
    # bytes of one protocol line on the wire: base64(RC4(clear)) CR LF
    n = len(clear.encode())
    return 4 * ((n + 2) // 3) + 2


def kind_of(line):
    # what a car line is, for the per-type table
    c = line[5:6]
    if c == "h":
        p = line.split(",", 3)
        return p[2] if len(p) > 2 else "h?"
    if c == "H":
        return line[6:].split(",", 1)[0]
    if c == "P":
        return "alert P"
    if c in "Aa":
        return "keep-alive"
    return "status " + c


class _T:
    def __init__(self):
        self.ping_ms = 600000
        self.window = 8


class ModelLink:
    # the vehicle's channels (firmware/tasks/link.py): records and alerts into the outbox,
    # live lines to the uplink while it is logged in, SMS alerts counted
    def __init__(self, car):
        self.car = car
        self.sms = []

    def server_ready(self):
        return True

    def send_server(self, lines):
        ok = True
        for line in lines:
            code = line[5:6]
            if code in ("H", "P"):
                ok = self.car.outbox.put(code if code == "P" else "R", line) and ok
            elif self.car.logged_in:
                self.car.queue.append(line)
            else:
                ok = False
        return ok

    def sms_ready(self):
        return True

    def send_sms(self, text):
        self.sms.append(text)
        return True


class Car:
    # one module: the core, the outbox, a modelled uplink, the data counter and plan
    def __init__(self, profile, budget="", nat_s=datause.NAT_TIMEOUT_S):
        params = {0: "+4915100000000", 3: "SMS,IP", 4: "127.0.0.1", 8: VEHICLE, 9: "pw"}
        params[16] = profile
        params[17] = budget
        self.cfg = Config(params)
        try:
            self.v = Twizy(self.cfg, exact=False)  # as the firmware builds it (D69)
        except TypeError:
            self.v = Twizy(self.cfg)
        self.now = 0  # scenario seconds
        self.outbox = Outbox(None, self.epoch)
        self.sender = Sender(self.outbox)
        self.handler = Handler(self.cfg, self.v, None, randbytes=lambda n: bytes(n))
        self.du = datause.DataUse(self.cfg, None, self.epoch)
        self.link = ModelLink(self)
        self.t = _T()
        self.logged_in = False
        self.queue = []
        self.open_stream = None
        self.gate = None
        self.plan = DataPlan(self.du, self.v, self, nat_s)
        self.types = {}  # kind -> [lines, payload bytes, bytes incl. TCP/IP]
        self.server = {}  # (type, recno) -> last record data the server stored
        self.last = {}  # type -> (recno, data) of the newest record of that type
        self.writes = []  # lines per TCP send
        self.alerts = []  # P texts the server got
        self.sessions = 0
        self._retry = 0  # scenario second of the next connection attempt
        self._last_rx = 0
        self._last_tx_to_car = 0

    def epoch(self):
        return EPOCH + self.now

    # ---- what DataPlan uses of the uplink ---------------------------------------------
    def reconnect(self):
        if self.logged_in:
            self._close()
        self._retry = self.now

    # ---- the wire ------------------------------------------------------------------------
    def _count(self, kind, payload, total, lines=1):
        e = self.types.get(kind)
        if e is None:
            e = self.types[kind] = [0, 0, 0]
        e[0] += lines
        e[1] += payload
        e[2] += total

    def _write(self, lines, kinds=None):
        # one TCP send of clear lines; the segments' overhead shared by bytes
        sizes = [wire(x) for x in lines]
        self.writes.append(len(lines))
        n = sum(sizes)
        before = self.du.total()
        self.du.sent(n)
        total = self.du.total() - before
        for i in range(len(lines)):
            k = kinds if kinds is not None else kind_of(lines[i])
            self._count(k, sizes[i], sizes[i] * total // n)

    def _read(self, n, kind):
        before = self.du.total()
        self.du.received(n)
        self._count(kind, n, self.du.total() - before)
        self._last_rx = self._last_tx_to_car = self.now

    def _connect(self):
        before = self.du.total()
        self.du.opened()
        self.du.sent(LOGIN_UP)
        self.du.received(LOGIN_DOWN)
        self.du.received(wire("MP-0 Z0"))
        self._count("connect + login", LOGIN_UP + LOGIN_DOWN, self.du.total() - before)
        self.sessions += 1
        self.logged_in = True
        self._last_rx = self._last_tx_to_car = self.now
        self.sender.window = self.t.window
        self.sender.login()
        lines = self.handler.connected(self.now)
        if lines:
            self._write(lines)

    def _close(self):
        before = self.du.total()
        self.du.closed()
        self._count("connect + login", 0, self.du.total() - before, 0)
        self.logged_in = False
        self.queue = []

    def second(self):
        # the uplink's tick: connect when allowed, one write of all that is due, acks
        if not self.logged_in:
            gate = self.gate
            if self.now >= self._retry and (gate is None or gate()):
                self._connect()
            elif self.now >= self._retry:
                self._retry = self.now + 300  # the uplink's back-off, at most 300 s
            if not self.logged_in:
                return
        out = self.queue
        self.queue = []
        out.extend(self.handler.periodic(self.now))
        out.extend(self.sender.lines())
        if out:
            self._write(out)
            self._store(out)
        if self.sender.inflight:
            acks = ["MP-0 h%d" % s for s in self.sender.inflight]
            self._read(sum([wire(a) for a in acks]), "acks")
            for s in list(self.sender.inflight):
                self.sender.ack("%d" % s)
        if self.now - self._last_rx >= self.t.ping_ms // 1000:
            self._write(["MP-0 A"])
            self._read(wire("MP-0 a"), "keep-alive")
        elif self.now - self._last_tx_to_car >= datause.SERVER_PING_S:
            self._read(wire("MP-0 AFA"), "keep-alive")
            self._write(["MP-0 a"])

    def _store(self, lines):
        # what the server keeps: the last data of each (record type, recno); alert texts
        for line in lines:
            c = line[5:6]
            if c == "h":
                p = line[6:].split(",", 5)
                if len(p) == 6:
                    self.server[(p[2], p[3])] = p[5]
                    self.last[p[2]] = (p[3], p[5])
            elif c == "P":
                self.alerts.append(line[6:])
            elif c in "SDLWVF":
                self.server[("status", c)] = line[6:]

    def step(self):
        # one second: the vehicle's tick and dispatch, the plan, the uplink
        self.now += 1
        self.v.tick()
        self.v.dispatch(self.link)
        self.plan.tick()
        self.second()


def run(frames, profiles=("rt25", "economy"), gps=None, until_s=None, budget="", nat_s=None,
        on_second=None):  # fmt: skip
    # frames: (t_us, can_id, data) in time order; gps(t_s) -> new fixes to feed, or None;
    # on_second(t_s, cars) after every second. -> the cars (one per profile) after
    # ticking up to the last frame (or until_s) + 20 min
    nat_s = datause.NAT_TIMEOUT_S if nat_s is None else nat_s
    cars = [Car(p, budget, nat_s) for p in profiles]
    cars[0].on_second = on_second
    slot = bytearray(8)
    t_next = None
    for t_us, can_id, data in frames:
        if t_next is None:
            t_next = (t_us // 1000000 + 1) * 1000000
        while t_us >= t_next:
            _second(cars, gps, t_next // 1000000)
            t_next += 1000000
        n = len(data)
        slot[:n] = data
        for c in cars:
            c.v.frame(can_id, slot, n)
    end = (t_next or 0) // 1000000 + 1200
    end_us = getattr(frames, "end_us", None)  # a scenario's end (parked after its last frame)
    if end_us is not None and end_us // 1000000 > end:
        end = end_us // 1000000
    if until_s is not None and until_s > end:
        end = until_s
    s = (t_next or 0) // 1000000
    while s <= end:
        _second(cars, gps, s)
        s += 1
    return cars


def _second(cars, gps, t_s):
    if gps is not None:
        for fix in gps(t_s):
            for c in cars:
                c.v.gps_fix(fix[1], fix[2], fix[3], fix[5])
    for c in cars:
        c.now = t_s - 1
        c.step()
    hook = cars[0].on_second
    if hook is not None:
        hook(t_s, cars)


class GpsFeed:
    # the scenario's GPS rows (t_ms, lat_e6, lon_e6, alt_m, speed, course) as they come
    def __init__(self, rows):
        self.rows = rows
        self.i = 0

    def __call__(self, t_s):
        out = []
        rows = self.rows
        while self.i < len(rows) and rows[self.i][0] <= t_s * 1000:
            out.append(rows[self.i])
            self.i += 1
        return out


class TwoDays:
    # day 1 (the scenario, seed) warms the module up (first values, first login); day 2,
    # 86400 s later, is measured: the scenario again (seed + 1) and, for `day`, the
    # evening trip home (the `drive` scenario, seed + 2, at 17:00): two commutes and one
    # charge. Frames, GPS rows and events on one clock.
    def __init__(self, name, seed):
        from tools import vtwizy

        day = 86400_000000
        self.segments = [(0, vtwizy.scenario(name, seed)), (day, vtwizy.scenario(name, seed + 1))]
        if name == "day":
            self.segments.append((day + TRIP_S * 1000000, vtwizy.scenario("drive", seed + 2)))
        self.gps_rows = []
        self.events = []
        self.end_us = None
        self._seen = [0] * len(self.segments)  # GPS rows of each segment mirrored
        self._ev = [0] * len(self.segments)  # events of each segment mirrored

    def __iter__(self):
        for k in range(len(self.segments)):
            shift, sc = self.segments[k]
            for t_us, can_id, data in sc:
                self._mirror(k)
                yield t_us + shift, can_id, data
            self._mirror(k)
        self.end_us = 2 * 86400_000000

    def _mirror(self, k):
        # the segment's new GPS rows (in time order; the day's parked rows give way to
        # the trip's for its hour) and events, shifted onto the two-day clock
        shift, sc = self.segments[k]
        shift_ms = shift // 1000
        rows = sc.gps_rows
        trip_ms = 86400_000 + TRIP_S * 1000
        out = self.gps_rows
        while self._seen[k] < len(rows):
            r = rows[self._seen[k]]
            self._seen[k] += 1
            t = r[0] + shift_ms
            if k == 1 and len(self.segments) > 2 and trip_ms <= t < trip_ms + 3600_000:
                continue
            i = len(out)
            while i > 0 and out[i - 1][0] > t:
                i -= 1
            out.insert(i, (t,) + tuple(r[1:]))
        while self._ev[k] < len(sc.events):
            t, what = sc.events[self._ev[k]]
            self.events.append((t + shift_ms, what))
            self._ev[k] += 1


class Meter:
    # what each car used from from_s on, and while driving (key on .. key off, every
    # drive after from_s: bytes and seconds)
    def __init__(self, events, from_s=0):
        self.events = events
        self.from_s = from_s
        self.base = None  # [(total, types copy)] per car at from_s
        self.drive_s = 0
        self.drive = None  # bytes per car while driving
        self._on = None  # (t_s, totals) of the key on being measured
        self._done = 0  # events looked at

    def __call__(self, t_s, cars):
        if self.base is None and t_s >= self.from_s:
            self.base = [(c.du.total(), _copy(c.types)) for c in cars]
            self.drive = [0] * len(cars)
        if self.base is None:
            return
        ev = self.events
        while self._done < len(ev) and ev[self._done][0] <= t_s * 1000:
            t_ms, what = ev[self._done]
            self._done += 1
            if t_ms < self.from_s * 1000:
                continue
            if what == "key on":
                self._on = (t_s, [c.du.total() for c in cars])
            elif what == "key off" and self._on is not None:
                self.drive_s += t_s - self._on[0]
                for k in range(len(cars)):
                    self.drive[k] += cars[k].du.total() - self._on[1][k]
                self._on = None

    def used(self, k, car):
        # bytes and per-type table of car k since from_s
        total, types = self.base[k] if self.base is not None else (0, {})
        out = {}
        for kind, e in car.types.items():
            b = types.get(kind, [0, 0, 0])
            d = [e[0] - b[0], e[1] - b[1], e[2] - b[2]]
            if d[0] or d[2]:
                out[kind] = d
        return car.du.total() - total, out


def _copy(types):
    return {k: list(v) for k, v in types.items()}


def print_table(types):
    # per record type: lines, payload bytes, bytes incl. TCP/IP
    rows = sorted(types.items(), key=lambda kv: -kv[1][2])
    print("  %-26s %8s %10s %12s" % ("type", "lines", "payload B", "incl. TCP/IP"))
    pay = tot = 0
    for k, e in rows:
        print("  %-26s %8d %10d %12d" % (k, e[0], e[1], e[2]))
        pay += e[1]
        tot += e[2]
    print("  %-26s %8s %10d %12d" % ("total", "", pay, tot))


def records(car):
    # history records (h/H lines) the car sent
    return sum([e[0] for k, e in car.types.items() if k[:3] == "RT-" or k[:2] == "*-"])


def month_mb(day_bytes, drive_bytes, drive_s):
    # the reference month: the day with its driving topped up to 60 minutes at the
    # measured bytes per driving second, x 30, in MB
    extra = drive_bytes * (3600 - drive_s) // drive_s if 0 < drive_s < 3600 else 0
    return (day_bytes + extra) * 30 / 1e6


def main(argv):
    opts = {"scenario": "day", "seed": "1", "budget": "", "nat": str(datause.NAT_TIMEOUT_S)}
    traces = []
    quiet = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--quiet":
            quiet = True
        elif a == "--traces":
            traces = argv[i + 1 :]
            break
        elif a[2:] in opts and a.startswith("--") and i + 1 < len(argv):
            i += 1
            opts[a[2:]] = argv[i]
        else:
            print("usage: python3 -m tools.data_report [--scenario day|charge|drive|parked] "
                  "[--seed N] [--budget KB] [--nat S] [--quiet] [--traces LOG...]")  # fmt: skip
            return 2
        i += 1
    for k in ("seed", "nat"):
        if not opts[k].isdigit():
            print("data-report: --%s takes a number" % k)
            return 2
    if opts["budget"] and not opts["budget"].isdigit():
        print("data-report: --budget takes a number of KB")
        return 2
    if traces:
        from tools.replay_io import frames as trace_frames

        frames, gps, events, name = trace_frames(traces), None, [], "traces"
        from_s = 0
    else:
        from tools import vtwizy

        if opts["scenario"] not in vtwizy.NAMES:
            print("data-report: unknown scenario %r (%s)" % (opts["scenario"], vtwizy.NAMES))
            return 2
        frames = TwoDays(opts["scenario"], int(opts["seed"]))
        gps, events, from_s = GpsFeed(frames.gps_rows), frames.events, 86400
        name = "virtual Twizy %r, day 2 (seed %d) after day 1 (seed %s)" % (
            opts["scenario"], int(opts["seed"]) + 1, opts["seed"])  # fmt: skip
    meter = Meter(events, from_s)
    cars = run(frames, gps=gps, budget=opts["budget"], nat_s=int(opts["nat"]), on_second=meter)
    span_s = cars[0].now - from_s
    budget = (opts["budget"] + " KB") if opts["budget"] else "none"
    print("data-report: %s; %d s measured; NAT timeout %s s; budget %s" % (
        name, span_s, opts["nat"], budget))  # fmt: skip
    drive_s = meter.drive_s if meter.drive is not None else 0
    print("measured day: driving (key on .. key off) %d s; reference day: 1 h drive + 1 "
          "charge (the remaining drive time at the measured bytes per driving second)"
          % drive_s)  # fmt: skip
    res = []
    for k, c in enumerate(cars):
        day, types = meter.used(k, c)
        db = meter.drive[k] if meter.drive is not None else 0
        mb = month_mb(day, db, drive_s)
        res.append(mb)
        prof = c.cfg.params[16]
        if not quiet:
            print()
            print("profile %s (whole run: records %d, alerts %d server / %d SMS, sessions %d)"
                  % (prof, records(c), len(c.alerts), len(c.link.sms), c.sessions))  # fmt: skip
            print_table(types)
        print("%s: measured day %d B; while driving %d B; reference day %.1f KB; "
              "30-day month %.3f MB" % (prof, day, db, mb * 1e3 / 30, mb))  # fmt: skip
    print("data-report: rt25 %.2f MB/month, economy %.2f MB/month" % (res[0], res[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
