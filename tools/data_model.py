# The modelled module of make data-report (tools/data_report.py): the firmware's core
# around a modelled uplink, one per data profile, fed from one frame stream.
# Licence: MIT (this project). Host tool (CPython and the MicroPython unix port).
#
# Each Car is the firmware's core (ovms.twizy Twizy with notify, the v2 Handler with its
# periodic set, the outbox and its Sender, ovms.datause with the device's overhead model,
# firmware/tasks/dataplan.DataPlan with its link plan) around a modelled uplink: one
# write per second of everything due (as firmware/tasks/uplink.py ticks), a server that
# acknowledges each write's h records in one segment (Nagle), answers pings and pings a
# car it sent nothing to for 900 s. Wire bytes are exact (base64 of the clear line + CR
# LF; no paranoid mode); TCP/IP overhead is ovms.datause's model (D73).
#   cars = run(frames, gps=GpsFeed(rows))       # (t_us, can_id, data) in time order

from firmware.tasks.dataplan import DataPlan
from ovms import datause
from ovms.config import Config
from ovms.outbox import Outbox
from ovms.twizy.vehicle import Twizy
from ovms.v2.handler import Handler
from ovms.v2.sender import Sender

EPOCH = 1793577600  # 2026-11-02 00:00 UTC: scenario time 0 (a Monday)
VEHICLE = "TWIZYSIM"
LOGIN_UP = 7 + 22 + 1 + 24 + 1 + len(VEHICLE) + 2  # "MP-C 0 <token> <digest> <id>" CR LF
LOGIN_DOWN = 7 + 22 + 1 + 24 + 2  # "MP-S 0 <token> <digest>" CR LF


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
    def __init__(self, profile, budget="", nat_s=datause.NAT_TIMEOUT_S, drain=0):
        self.drain = drain  # the uplink's drain_bytes (D133); 0: one send per tick
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
        if self.drain:  # a drain every `drain` bytes of wire lines, one CIPSEND each (D133)
            part = 0
            for k in sizes:
                if part and part + k > self.drain:
                    self.du.sent(part)
                    part = 0
                part += k
            self.du.sent(part)
        else:
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
        m = self.sender.next_line()
        while m is not None:
            out.append(m)
            m = self.sender.next_line()
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
        on_second=None, drain=0):  # fmt: skip
    # frames: (t_us, can_id, data) in time order; gps(t_s) -> new fixes to feed, or None;
    # on_second(t_s, cars) after every second. -> the cars (one per profile) after
    # ticking up to the last frame (or until_s) + 20 min
    nat_s = datause.NAT_TIMEOUT_S if nat_s is None else nat_s
    cars = [Car(p, budget, nat_s, drain) for p in profiles]
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


def records(car):
    # history records (h/H lines) the car sent
    return sum([e[0] for k, e in car.types.items() if k[:3] == "RT-" or k[:2] == "*-"])
