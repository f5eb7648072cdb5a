# The whole application on the host board (firmware/app.py + tools/sim.py): FakeCan
# replaying the real traces, the SIM800 emulator in-process, an owner's SMS through the
# whole chain (CAN -> core -> SMS framework -> modem -> emulator), settings persisted.
# Time is the host board's virtual clock (firmware/simclock.py): the frames and ticks are
# the same on a slow or busy machine (no assertion on wall-clock speed).
# Plus the ticker's Link and drift-free schedule. Both runtimes. Licence: MIT (this project).
import asyncio
import sys

from support import rmtree, run_async, tmpdir, wait_until

from firmware import app as app_mod
from firmware.tasks.link import Link
from firmware.tasks.ticker import Ticker
from ovms.config import FEATURE_MAXRANGE, Config
from ovms.store import Store
from tools import sim

OWNER = "+4915100000000"


def _answered(a):
    # both owner SMS answered and the server session carried records
    return len(a.emu.sent) >= 2 and a.server is not None and len(a.server.received) >= 6


def _run(seconds, speed, d, sms, until=None):
    lines = []
    sim.OUT = lines.append
    try:
        board = sim.host_board(
            speed,
            CFG_PATH=d + "/ovms.cfg",
            BOOT_LOG_PATH=d + "/boot.json",
            SIM_SMS=sms,
            SIM_STAT_EVERY_S=5,
        )
        asyncio.new_event_loop()
        a = app_mod.main(board, seconds, until)
    finally:
        sim.OUT = print
    return a, lines


def test_app_host_sim_end_to_end():
    d = tmpdir("app")
    path = d + "/ovms.cfg"
    try:
        a, lines = _run(3, 10, d, ((3, "STAT"), (6, "RANGE 80")), _answered)
        s = a.summary()
        c = a.clock
        # simulated time: at least the 30 s asked for; one tick per simulated second
        # (the virtual clock holds while frames wait, whatever the machine's speed)
        assert c.now >= 30_000 and c.unsettled == 0
        assert s["ticks"] in (c.now // 1000 - 1, c.now // 1000) and a.ticker.late == 0
        # CAN: every frame that passed the filter reached the decoder, none lost
        assert s["frames"] > 2000 and s["crashes"] == 0 and a.sup.failure is None
        assert s["overruns"] == 0 and s["filtered"] > 0
        # (frames that arrived in the last step may still wait in the FIFO at the stop)
        assert a.rx.frames == s["frames"] == a.can.delivered - a.can.pending()
        assert a.rx.wakeups > 10
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
        assert got[0].startswith("MP-0 H*-OVM-DebugCrash,0,2592000,3.0.0/RT2.5/VHOST,0,")
        # the app set, S first; S is never a placeholder: when the login beat the first SOC
        # frame (the emulated modem and the server run on wall time, the car on the virtual
        # clock: a loaded machine logs in earlier in simulated time) the set has no S yet and
        # S follows as soon as it is known (seen once in a loaded full run: L, W, F, D, S)
        app_set = [x[:6] for x in got[1:6]]
        assert app_set in (
            ["MP-0 S", "MP-0 L", "MP-0 W", "MP-0 F", "MP-0 D"],
            ["MP-0 L", "MP-0 W", "MP-0 F", "MP-0 D", "MP-0 S"],
        ), app_set
        # D100: v2 only: the MQTT wiring was dropped after the start (heap on a board)
        assert a.mqtt is None and "firmware.tasks.mqtt_wiring" not in sys.modules
        assert "ovms.mqtt.topics" not in sys.modules
        # the console report
        text = "\n".join(lines)
        assert "modem READY" in text and "SMS in  from " + OWNER + ": STAT" in text
        assert "SMS out to   " + OWNER in text and "] STAT " in text
        # settings: defaults on first boot + the RANGE change, in the store
        cfg = Store(path).load()
        assert cfg.param(0) == OWNER and cfg.param(3) == "SMS,IP"
        assert cfg.features[FEATURE_MAXRANGE] == 80
        # second boot: the saved settings win over the board defaults
        b, _ = _run(0.3, 10, d, ())
        assert b.cfg.features[FEATURE_MAXRANGE] == 80 and b.cfg.param(0) == OWNER
        assert b.summary()["crashes"] == 0 and b.boot.crashes == 0
    finally:
        rmtree(d)


def test_app_collects_early_on_micropython():
    # D97: once the app is made, a collection after every eighth of the then free heap
    # is allocated (gc.threshold), so long-lived objects pack low (the 96 KB heap-report
    # day had 5 MemoryErrors from fragmentation without it). CPython has no threshold.
    import gc

    if not hasattr(gc, "threshold"):
        assert app_mod._GC_EARLY_DIV == 8  # CPython: const() keeps the name
        return
    gc.threshold(-1)
    d = tmpdir("gcearly")
    try:
        _run(0.3, 10, d, ())
        t = gc.threshold()
        assert t > 0, t
        gc.collect()
        # an eighth of what was free then: never more than an eighth of the whole heap
        assert t <= (gc.mem_free() + gc.mem_alloc()) // 8, t
    finally:
        gc.threshold(-1)
        rmtree(d)


def test_sim_summary_and_exit_code():
    # make sim's summary names every task failure; the exit status is non-zero then
    d = tmpdir("app")
    try:
        lines = []
        board = sim.host_board(
            10, CFG_PATH=d + "/ovms.cfg", BOOT_LOG_PATH=d + "/boot.json", SIM_SMS=()
        )

        def boom(app):
            async def bug():
                await app.clock.sleep_ms(2000)
                raise ValueError("bug in the ticker")

            app.sup.job("ticker").factory = bug

        sim.OUT = lines.append
        try:
            a = app_mod.App(board)
            a.before_start = boom
            run_async(a.run(30))
            sim.print_summary(a)
            status = sim.exit_status(a)
        finally:
            sim.OUT = print
        text = "\n".join(lines)
        # strict (development) build: the first failure ends the run at once
        assert a.sup.failure == ("ticker", "ValueError: bug in the ticker") and status == 1
        assert a.clock.now < 10_000 and a.crashes == 1
        assert "task crashes 1" in text and "ticker 1/0, can_rx 0/0" in text
        assert "summary: task ticker 1 error(s) (0 MemoryError) 0 restart(s)" in text
        assert "stopped by the first task failure (ticker: ValueError: bug in the ticker)" in text
        # a clean run: exit status 0 through sim.run()
        lines2 = []
        sim.OUT = lines2.append
        try:
            board2 = sim.host_board(1)
            ok = _clean_run(board2, d)
        finally:
            sim.OUT = print
        text2 = "\n".join(lines2)
        assert ok == 0 and "task crashes 0" in text2
        assert "summary: tasks (errors/restarts): ticker 0/0, can_rx 0/0, modem 0/0, " in text2
        assert "unsupervised 0" in text2 and "summary: task " not in text2
    finally:
        rmtree(d)


def _clean_run(board, d):
    board.CFG_PATH = d + "/ovms2.cfg"
    board.BOOT_LOG_PATH = d + "/boot2.json"
    board.SIM_SMS = ()
    asyncio.new_event_loop()
    a = app_mod.main(board, 0.5)
    sim.print_summary(a)
    return sim.exit_status(a)


def test_pick_board():
    assert app_mod.pick_board("linux").NAME == "host"
    assert app_mod.pick_board("pyboard").NAME == "pyboard"
    assert app_mod.pick_board("esp32").NAME == "esp32"
    try:
        app_mod.pick_board("rp2")
        raise AssertionError("rp2 has no board")
    except ValueError as e:
        assert "rp2" in str(e)


def test_host_board_names_no_test_fixture():
    import firmware.boards.host as h

    assert h.CAN_TRACES == ()
    with open(h.__file__) as f:
        src = f.read()
    assert "host_tests" not in src and "fixtures" not in src


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
    # on the virtual clock: a tick every 20 simulated ms; a stall of 60 ms (nothing runs
    # while the clock jumps) is caught up back to back, the count follows the clock
    from firmware.simclock import VirtualClock

    class V:
        def __init__(self):
            self.ticks = 0
            self.links = []

        def tick(self):
            self.ticks += 1

        def dispatch(self, link):
            self.links.append(link)

    async def settle():
        for _ in range(5):
            await asyncio.sleep(0)

    async def go():
        c = VirtualClock(speed=0, step_ms=10)
        v = V()
        t = Ticker(v, "L", period_ms=20, clock=c)
        task = asyncio.create_task(t.run())
        await settle()
        while c.now < 70:  # the clock driven by hand, 10 ms a step
            c.advance(10)
            await settle()
        before = t.ticks
        c.advance(60)  # the stall: 60 ms pass in one jump
        await settle()
        while c.now < 210:
            c.advance(10)
            await settle()
        task.cancel()
        return v, t, before, c.now

    v, t, before, now = run_async(go())
    assert before == 3 and now == 210
    assert t.ticks == 10 and v.ticks == 10 and v.links == ["L"] * 10
    assert t.late == 1 and t.skipped == 0  # tick 5 ran a period late (4 woke at once)


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
    a = FakeCan(frames=frames, feeder=False, loop=False, depth=256, ids=(0x155,))
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
        await wait_until(lambda: v.n == 200, 10_000)  # bounds a hang only
        t1.cancel()
        t2.cancel()

    run_async(go())
    assert v.n == 200 and rx.yields == 12
    mid = [n for n in v.seen if 0 < n < 200]
    assert len(mid) >= 10  # the other task ran during the drain
