# ovms.datause (D70-D74): profiles and budget settings, the month counter with its
# overhead model and its file, the budget level, the DATA? reply, and the device's data
# plan (firmware/tasks/dataplan.py) with a fake uplink.
from support import MICROPYTHON, run_async, tmpdir

from firmware.tasks.dataplan import CountingStream, DataPlan
from ovms import datause
from ovms.config import Config, check_param
from ovms.sms import NetStatus, SmsInterpreter
from ovms.sms_table import HELP_TEXT
from ovms.twizy.state import DOORS1_CARON
from ovms.twizy.vehicle import Twizy

try:
    import micropython
except ImportError:
    micropython = None

NOV_2 = 1793577600  # 2026-11-02 00:00 UTC (CPython's epoch)
DAY = 86400
OWNER = "+4915100000000"


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def _cfg(profile="", budget=""):
    return Config({0: OWNER, 16: profile, 17: budget})


def _epoch(y, m, d):
    # seconds of the running port's epoch (1970, or 2000 on MicroPython boards), UTC
    days = 0
    for yy in range(datause.epoch_year(), y):
        days += 366 if datause.days_in(yy, 2) == 29 else 365
    for mm in range(1, m):
        days += datause.days_in(y, mm)
    return (days + d - 1) * DAY


def test_parameters_16_17_checked():
    assert check_param(16, "economy") is None and check_param(16, "RT25") is None
    assert check_param(16, "") is None
    assert check_param(16, "eco") == "Error: parameter 16 must be rt25 or economy"
    assert check_param(17, "500") is None and check_param(17, "") is None
    assert check_param(17, "0") is None and check_param(17, "1000000") is None
    for bad in ("-1", "1000001", "5e2", " 5", "500KB", "\u0665"):
        assert check_param(17, bad) == (
            "Error: parameter 17 must be a number of KB from 0 to 1000000"
        ), bad
    assert datause.profile(_cfg()) == "rt25"
    assert datause.profile(_cfg("Economy")) == "economy"
    assert datause.budget_bytes(_cfg(budget="500")) == 500000
    assert datause.budget_bytes(_cfg(budget="0")) == 0
    assert datause.budget_bytes(_cfg(budget="x")) == 0


def test_overhead_model_counts_segments_acks_and_handshakes():
    # D73: 40 bytes of IPv4 + TCP per segment; the server's delayed ACKs (one per two of
    # our segments), the last riding on its reply; our pure ACK for each of its segments
    du = datause.DataUse(_cfg(), None, Clock(NOV_2))
    du.opened()
    assert du.total() == 128 and du.connects == 1
    du.sent(100)  # one segment; the server's ACK still owed (counted as pending)
    assert (du.up, du.oh_up) == (100, 64 + 40) and du.total() == 128 + 100 + 40 + 40
    du.sent(3000)  # three segments of at most 1460: two more delayed ACKs owed
    assert du.oh_up == 104 + 120 and du.total() == 308 + 3000 + 120 + 80
    du.received(14)  # the reply carries one of the 3 owed ACKs; our ACK for it
    assert du.down == 14 and du.total() == 3508 + 14 + 40 + 40 - 40
    du.closed()
    assert du.total() == 3562 + 160
    assert du.oh_up + du.oh_down == du.total() - du.up - du.down
    du.sent(50)
    du.sent(50)  # no reply in between: both ACKs stay owed and counted
    assert du.total() == 3722 + 100 + 2 * 40 + 2 * 40


def test_ping_plan_and_parked_link():
    assert datause.ping_s(600) == 540
    assert datause.ping_s(3600) == datause.ping_s() == 840  # the server's 900 s rule
    assert datause.ping_s(30) == 60
    assert not datause.keep_parked(_cfg())  # no budget: economy drops a parked link
    # a month of pings at 540 s: 4800 cycles x 180 B = 864 KB: fits half of 2 MB
    assert not datause.keep_parked(_cfg(budget="1000"), 600)
    assert datause.keep_parked(_cfg(budget="2000"), 600)


def test_counter_survives_reboots_and_a_torn_slot():
    d = tmpdir("datause")
    path = d + "/datause"
    clock = Clock(_epoch(2026, 11, 2))
    du = datause.DataUse(_cfg(), path, clock)
    du.sent(5000)
    assert du.save()
    du.received(700)
    assert du.save()  # the second slot
    total = du.total()
    again = datause.DataUse(_cfg(), path, clock)
    assert again.total() == total and again.bad_files == 0
    # the newest slot torn in the middle of its write: the older one counts
    name = "%s.%d" % (path, again._seq & 1)
    with open(name, "w") as f:
        f.write("7 202611 5000 70")
    third = datause.DataUse(_cfg(), path, clock)
    assert third.bad_files == 1
    assert third.up == 5000 and third.down == 0
    # a new calendar month starts at 0
    clock.t = _epoch(2026, 12, 1)
    fourth = datause.DataUse(_cfg(), path, clock)
    assert fourth.total() == 0 and fourth.month == (2026, 12)


def test_flash_writes_per_day_stay_few():
    # economy (~16 KB a day) and rt25 (~450 KB a day) through one virtual day
    for chunk, every_s, most in ((600, 3600, 4), (230, 60, 48)):
        d = tmpdir("datause_w")
        clock = Clock(_epoch(2026, 11, 2))
        du = datause.DataUse(_cfg(), d + "/datause", clock)
        for _ in range(DAY // every_s):
            clock.t += every_s
            du.sent(chunk)
            du.maybe_save(clock.t)
        assert 1 <= du.writes <= most, (chunk, du.writes)
        assert datause.DataUse(_cfg(), d + "/datause", clock).total() <= du.total()


def test_calendar_without_gmtime():
    assert datause.ymd(_epoch(2026, 11, 2) + 3600) == (2026, 11, 2)
    assert datause.ymd(_epoch(2028, 2, 29) + 86399) == (2028, 2, 29)
    assert datause.ymd(_epoch(2028, 3, 1)) == (2028, 3, 1)
    assert datause.ymd(_epoch(2100, 3, 1)) == (2100, 3, 1)  # 2100: no leap year
    assert datause.ymd(-5) == (datause.epoch_year(), 1, 1)
    try:
        import time

        g = time.gmtime(_epoch(2031, 12, 31) + 7)
        assert datause.ymd(_epoch(2031, 12, 31) + 7) == (g[0], g[1], g[2]) == (2031, 12, 31)
    except AttributeError:  # a port without gmtime
        pass


def test_roll_resets_the_month_once():
    clock = Clock(_epoch(2026, 11, 30))
    du = datause.DataUse(_cfg(), None, clock)
    du.sent(1000)
    assert not du.roll(clock.t + 3600)
    assert du.roll(_epoch(2026, 12, 1) + 5)
    assert du.total() == 0 and du.month == (2026, 12)
    assert not du.roll(_epoch(2026, 12, 1) + 60)


def test_budget_level_paces_the_month():
    cfg = _cfg("economy", "300")  # 300 KB: 10 KB a day in November
    clock = Clock(_epoch(2026, 11, 3) + 3600)  # the 3rd: 30 KB allowed so far
    du = datause.DataUse(cfg, None, clock)
    assert du.level() == 0
    du.up = 25000
    assert du.level() == 0
    du.up = 31000
    assert du.level() == 1  # over pace: slowed
    du.up = 270000
    assert du.level() == 2  # 90 % of the budget: minimal
    cfg.params[17] = ""
    assert du.level() == 0


def test_data_reply_and_help_unchanged():
    cfg = _cfg("economy", "500")
    clock = Clock(_epoch(2026, 11, 2) + 3600)
    du = datause.DataUse(cfg, None, clock)
    du.sent(123000)
    fw = SmsInterpreter(cfg, None, net=NetStatus())
    assert fw.handle(OWNER, "DATA?") == ["DATA: not counted"]
    fw.net.datause = du
    (text,) = fw.handle(OWNER, "data?")
    assert text == (
        "DATA 2026-11: 128 KB (TCP/IP est. 5 KB), budget 500 KB (25%), economy, "
        "cadence slowed (over pace)"
    ), text
    assert len(text) <= 160
    assert "DATA" not in HELP_TEXT  # the spec's HELP text stays byte-exact
    assert fw.handle("+4917000000000", "DATA?") == ["Permission denied"]
    assert fw.handle("", "DATA?", trusted=True) == [text]  # the DIAG console


class FakeStream:
    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.written = []
        self.closed = False

    async def read(self, n):
        return self.chunks.pop(0) if self.chunks else b""

    def write(self, data):
        self.written.append(data)

    async def drain(self):
        pass

    async def close(self):
        self.closed = True


def test_counting_stream_counts_every_byte():
    du = datause.DataUse(_cfg(), None, Clock(NOV_2))
    s = FakeStream([b"abc\r\n", b"x" * 20])

    async def go():
        cs = CountingStream(s, du)
        cs.write(b"MP-C 0 hello\r\n")
        await cs.drain()
        assert await cs.read(512) == b"abc\r\n"
        assert await cs.read(512) == b"x" * 20
        assert await cs.read(512) == b""
        await cs.close()

    run_async(go())
    assert du.up == 14 and du.down == 25 and s.closed and du.connects == 1
    assert du.total() - du.up - du.down == 128 + 160 + 40 + 2 * 80


class _T:
    ping_ms = 600000
    window = 8


class _Outbox:
    def __init__(self):
        self.n = 0

    def put(self, kind, text):
        self.n += 1
        return True

    def queued(self):
        return self.n


class _Sender:
    window = 8


class FakeUplink:
    def __init__(self):
        self.t = _T()
        self.sender = _Sender()
        self.outbox = _Outbox()
        self.logged_in = True
        self.gate = None
        self.reconnects = 0

        async def opener(host, port):
            return FakeStream([])

        self.open_stream = opener

    def reconnect(self):
        self.reconnects += 1
        self.logged_in = False


def _plan(profile, budget=""):
    cfg = _cfg(profile, budget)
    v = Twizy(cfg)
    up = FakeUplink()
    du = datause.DataUse(cfg, None, Clock(NOV_2))
    return v, up, DataPlan(du, v, up, 600)


def test_economy_parks_the_link_and_wakes_it():
    v, up, plan = _plan("economy")
    assert up.t.ping_ms == 540000 and up.sender.window == 24  # a 600 s NAT board
    for _ in range(datause.PARK_LINGER_S - 1):
        plan.tick()
    assert up.reconnects == 0  # still lingering
    plan.tick()
    assert up.reconnects == 1 and plan.closed == 1  # session ended
    assert up.gate() is False and plan.gated == 1  # and kept down
    for _ in range(3600):
        plan.tick()
    assert up.reconnects == 1
    v.st.car_doors1 |= DOORS1_CARON  # key on: up at once
    plan.tick()
    assert up.reconnects == 2 and up.gate() is True
    v.st.car_doors1 &= ~DOORS1_CARON
    up.logged_in = True
    for _ in range(datause.PARK_LINGER_S + 1):
        plan.tick()
    assert up.reconnects == 3 and not up.gate()
    up.outbox.put("P", "MP-0 PAalert")  # an alert brings the link back
    plan.tick()
    assert up.reconnects == 4 and up.gate()
    up.outbox.n = 0  # delivered
    for _ in range(datause.PARK_LINGER_S + 1):
        plan.tick()
    assert not up.gate()
    up.outbox.put("R", "MP-0 Hrecord")  # a record waits up to RECORD_WAIT_S
    for _ in range(datause.RECORD_WAIT_S - 1):
        plan.tick()
    assert not up.gate()
    plan.tick()
    assert up.gate()


def test_rt25_and_a_generous_budget_keep_the_link():
    for profile, budget in (("rt25", ""), ("economy", "5000")):
        v, up, plan = _plan(profile, budget)
        for _ in range(2 * datause.PARK_LINGER_S):
            plan.tick()
        assert up.reconnects == 0 and up.gate(), profile
    v, up, plan = _plan("rt25")
    assert up.t.ping_ms == 600000 and up.sender.window == 8


def test_plan_tick_allocates_nothing():
    v, up, plan = _plan("economy")
    plan._n = -100000  # the once-a-minute part (the upload path) stays out
    up.logged_in = False  # ... and the one-off session end at the linger's end
    tick = plan.tick
    tick()
    if MICROPYTHON:
        micropython.heap_lock()
        try:
            for _ in range(1000):
                tick()
        finally:
            micropython.heap_unlock()
    else:
        for _ in range(1000):
            tick()
    assert plan.quiet_s == 1001


class _Board:
    DATA_PROFILE = "economy"

    def __init__(self, path):
        self.CFG_PATH = path + "/ovms.cfg"


class _App:
    def __init__(self, path, uplink):
        self.board = _Board(path)
        self.cfg = _cfg()
        self.vehicle = Twizy(self.cfg)
        self.fw = SmsInterpreter(self.cfg, self.vehicle, net=NetStatus())
        self.uplink = uplink

        class _Ticker:
            on_tick = None

        self.ticker = _Ticker()


def test_install_wires_the_board_profile_counter_and_ticker():
    from firmware.tasks.dataplan import install

    d = tmpdir("dataplan")
    app = _App(d, FakeUplink())
    plan = install(app, Clock(_epoch(2026, 11, 2)))
    assert app.cfg.params[16] == "economy" and app.vehicle.cadence.economy()
    assert app.ticker.on_tick == plan.tick and app.fw.net.datause is plan.du
    assert plan.du.path == d + "/datause"
    assert app.uplink.gate == plan.may_connect
    (text,) = app.fw.handle(OWNER, "DATA?")
    assert text.startswith("DATA 2026-11: 0 KB") and "economy" in text
    # an MQTT uplink's streams are counted too
    app3 = _App(d, FakeUplink())

    class _Mqtt:
        pass

    m = app3.mqtt = _Mqtt()
    m.open_stream = FakeUplink().open_stream
    plan3 = install(app3, Clock(_epoch(2026, 11, 2)))

    async def go():
        s = await m.open_stream("127.0.0.1", 1883)
        s.write(b"\x10\x0c")
        await s.drain()  # counted once sent (dataplan.CountingStream)
        await s.close()

    run_async(go())
    assert plan3.du.connects == 1 and plan3.du.up == 2
    # an owner's choice in parameter 16 stays
    app2 = _App(d, None)
    app2.cfg.params[16] = "rt25"
    install(app2, Clock(_epoch(2026, 11, 2)))
    assert app2.cfg.params[16] == "rt25" and not app2.vehicle.cadence.economy()
