# The whole application on the host board (firmware/app.py + firmware/sim.py): FakeCan
# replaying the real traces, the SIM800 emulator in-process, an owner's SMS through the
# whole chain (CAN -> core -> SMS framework -> modem -> emulator), settings persisted.
# Plus the ticker's Link and drift-free schedule. Both runtimes. Licence: MIT (this project).
import asyncio

from support import rmtree, run_async, tmpdir

from firmware import app as app_mod
from firmware import sim
from firmware.tasks.ticker import Link, Ticker
from ovms.config import FEATURE_MAXRANGE, Config
from ovms.store import Store

OWNER = "+4915100000000"


def _run(seconds, speed, path, sms):
    lines = []
    sim.OUT = lines.append
    try:
        board = sim.host_board(speed, CFG_PATH=path, SIM_SMS=sms, SIM_STAT_EVERY_S=5)
        asyncio.new_event_loop()
        a = app_mod.main(board, seconds)
    finally:
        sim.OUT = print
    return a, lines


def test_app_host_sim_end_to_end():
    d = tmpdir("app")
    path = d + "/ovms.cfg"
    try:
        a, lines = _run(3, 10, path, ((3, "STAT"), (6, "RANGE 80")))
        s = a.summary()
        # CAN: frames decoded, (almost) nothing lost at x10 — a loaded machine may drop
        # a few at the 32-frame FIFO, as a real controller would — and the tick kept
        # its pace (no starvation)
        assert s["frames"] > 500 and s["crashes"] == 0
        assert s["overruns"] * 100 <= s["frames"] and s["filtered"] > 0
        assert a.rx.frames == s["frames"] and a.rx.wakeups > 10
        # (a loaded CI machine may run a tick or two late; starvation would be many)
        assert 22 <= s["ticks"] <= 31 and a.ticker.late <= 2 and a.ticker.errors == 0
        # the owner's STAT came back through the emulator, then RANGE 80
        sent = a.emu.sent
        assert len(sent) >= 2 and s["sms_in"] == 2 and s["sms_out"] >= 2
        assert sent[0][0] == OWNER and "SOC:" in sent[0][1] and "ODO:" in sent[0][1]
        assert (OWNER, "Max ideal range: 80 km") in sent
        # the STAT reply is the vehicle's text as of that moment (the replayed data)
        assert "Range:" in sent[0][1]
        # the OVMS v2 session: GPRS through the emulator to the in-process server,
        # encrypted; an app watching (Z1) gets the status set at once
        assert a.uplink.logins == 1 and a.uplink.auth_failures == 0
        got = a.server.received
        assert got[0].startswith("MP-0 H*-OVM-DebugCrash,0,2592000,3.0.0/RT2.5/VHOST,")
        assert [x[:6] for x in got[1:6]] == ["MP-0 S", "MP-0 L", "MP-0 W", "MP-0 F", "MP-0 D"]
        # the console report
        text = "\n".join(lines)
        assert "modem READY" in text and "SMS in  from " + OWNER + ": STAT" in text
        assert "SMS out to   " + OWNER in text and "] STAT " in text
        # settings: defaults on first boot + the RANGE change, in the store
        cfg = Store(path).load()
        assert cfg.param(0) == OWNER and cfg.param(3) == "SMS,IP"
        assert cfg.features[FEATURE_MAXRANGE] == 80
        # second boot: the saved settings win over the board defaults
        b, _ = _run(0.3, 10, path, ())
        assert b.cfg.features[FEATURE_MAXRANGE] == 80 and b.cfg.param(0) == OWNER
        assert b.summary()["crashes"] == 0
    finally:
        rmtree(d)


def test_task_crash_ends_run():
    d = tmpdir("app")
    try:
        board = sim.host_board(10, CFG_PATH=d + "/ovms.cfg", SIM_SMS=())
        a = app_mod.App(board)

        async def go():
            async def boom():
                raise ValueError("bug")

            run = asyncio.create_task(a.run(30))
            from ovms.aio import sleep_ms

            await sleep_ms(200)
            a.tasks.append(asyncio.create_task(a._guard(boom())))
            await run

        sim.OUT = lambda s: None
        try:
            run_async(go())
        finally:
            sim.OUT = print
        assert a.crashes == 1 and not a.healthy()
    finally:
        rmtree(d)


class _Modem:
    def __init__(self, state="READY"):
        self.state = state
        self.out = []

    def send_sms(self, number, texts):
        self.out.append((number, texts))


class _Uplink:
    def __init__(self):
        self.up = False
        self.sent = []

    def ready(self):
        return self.up

    def send(self, lines):
        self.sent.append(lines)


def test_link_sms_and_uplink():
    cfg = Config({0: OWNER, 3: "SMS"})
    m = _Modem()
    link = Link(cfg, m)
    assert link.sms_ready() and not link.server_ready()
    link.send_sms("Charging\n SOC: 80%")
    assert m.out == [(OWNER, ["Charging\n SOC: 80%"])] and link.sms_out == 1
    link.send_sms("x" * 200)  # shaped: two SMS
    assert len(m.out[1][1]) == 2
    m.state = "RECOVER"
    assert not link.sms_ready()
    # no owner: dropped and counted
    nolink = Link(Config(), _Modem())
    nolink.send_sms("hello")
    assert nolink.sms_dropped == 1 and not nolink.modem.out
    # the uplink plugs in later through ready()/send()
    u = _Uplink()
    link.uplink = u
    assert not link.server_ready()
    u.up = True
    assert link.server_ready()
    link.send_server(["MP-0 S..."])
    assert u.sent == [["MP-0 S..."]] and link.server_out == 1


def test_ticker_drift_free_and_dispatches():
    from ovms.aio import sleep_ms, ticks_diff, ticks_ms

    class V:
        def __init__(self):
            self.ticks = 0
            self.links = []

        def tick(self):
            self.ticks += 1

        def dispatch(self, link):
            self.links.append(link)

    async def go():
        v = V()
        t = Ticker(v, "L", period_ms=20)
        task = asyncio.create_task(t.run())
        t0 = ticks_ms()
        await sleep_ms(70)
        # a stall of 3 periods: the missed ticks run back to back
        end = ticks_ms() + 0
        while ticks_diff(ticks_ms(), end) < 60:
            pass
        await sleep_ms(130)
        took = ticks_diff(ticks_ms(), t0)
        task.cancel()
        return v, t, took

    v, t, took = run_async(go())
    # one tick per period since the start, stall included (drift-free)
    assert abs(t.ticks - took // 20) <= 2 and v.ticks == t.ticks
    assert v.links == ["L"] * v.ticks and t.skipped == 0


def test_can_rx_yields_in_a_burst():
    # 200 frames waiting at once: can_rx hands them all over but lets another task run
    # every `batch` frames (the ticker is never starved by a burst)
    from firmware.hal.can_fake import FakeCan
    from firmware.tasks.can_rx import CanRx
    from ovms.aio import sleep_ms

    class V:
        def __init__(self):
            self.n = 0
            self.seen = []

        def frame(self, can_id, data, dlc):
            self.n += 1

    frames = [(0, 0x155, b"\x07\x97\xc7\x54\x97\x98\x00\x73")] * 200
    a = FakeCan(frames=frames, feeder=False, loop=False, depth=256)
    v = V()
    rx = CanRx(a, v, batch=16)

    async def other():
        while True:
            v.seen.append(v.n)
            await sleep_ms(0)

    async def go():
        t1 = asyncio.create_task(rx.run())
        t2 = asyncio.create_task(other())
        await sleep_ms(5)
        a.start()
        a.advance(0)
        a.kick()
        await sleep_ms(30)
        t1.cancel()
        t2.cancel()

    run_async(go())
    assert v.n == 200 and rx.yields == 12
    mid = [n for n in v.seen if 0 < n < 200]
    assert len(mid) >= 10  # the other task ran during the drain
