# The supervisor (firmware/supervisor.py), the progress watch (firmware/progress.py), the
# housekeeping feed (firmware/tasks/housekeeping.py) and the virtual clock
# (firmware/simclock.py). Both runtimes; no assertion on wall-clock speed (the back-offs
# here are a few ms and only bound how long a test takes). Licence: MIT (this project).
import asyncio

from support import run_async
from support import steps_until as _until

from firmware.progress import Progress, car_quiet
from firmware.simclock import VirtualClock
from firmware.supervisor import LOOP, Supervisor
from firmware.tasks.housekeeping import Housekeeping
from ovms.aio import sleep_ms


def _sup(**kw):
    kw.setdefault("backoff_min_ms", 1)
    kw.setdefault("backoff_max_ms", 8)
    return Supervisor(**kw)


class _Flaky:
    # a task that fails `fails` times (exception class `exc`), then runs for ever
    def __init__(self, fails, exc=ValueError):
        self.fails = fails
        self.exc = exc
        self.starts = 0
        self.running = False

    async def run(self):
        self.starts += 1
        await sleep_ms(1)
        if self.starts <= self.fails:
            raise self.exc("failure %d" % self.starts)
        self.running = True
        while True:
            await sleep_ms(5)


def test_exception_logged_counted_restarted():
    for exc in (ValueError, MemoryError, KeyError):
        f = _Flaky(2, exc)
        s = _sup()

        async def go(s, f):
            j = s.add("worker", f.run)
            s.start()
            assert await _until(lambda: f.running)
            s.stop()
            return j

        j = run_async(go(s, f))
        assert j.errors == 2 and j.restarts == 2 and f.starts == 3
        assert j.memory_errors == (2 if exc is MemoryError else 0)
        assert j.last.startswith(exc.__name__ + ": ") and "failure 2" in j.last
        assert not s.done.is_set() and s.failure is None and s.errors() == 2
        assert s.report()[0].startswith("worker 2 error(s)")


def test_return_is_a_failure_too():
    n = [0]

    async def once():
        n[0] += 1
        if n[0] < 3:
            return
        await asyncio.Event().wait()

    s = _sup()

    async def go():
        j = s.add("once", once)
        s.start()
        assert await _until(lambda: n[0] == 3)
        s.stop()
        return j

    j = run_async(go())
    assert j.errors == 2 and j.last == "ended" and j.restarts == 2


def test_backoff_doubles_up_to_max():
    s = Supervisor(backoff_min_ms=500, backoff_max_ms=30_000)
    assert [s.backoff_ms(n) for n in (1, 2, 3, 6, 7, 20)] == [
        500,
        1000,
        2000,
        16000,
        30000,
        30000,
    ]


def test_strict_stops_on_first_failure():
    f = _Flaky(1)
    other = _Flaky(0)
    s = _sup(strict=True)

    async def go():
        s.add("bad", f.run)
        s.add("good", other.run)
        s.start()
        await s.done.wait()
        s.stop()

    run_async(go())
    assert s.failure == ("bad", "ValueError: failure 1") and f.starts == 1
    assert s.job("bad").restarts == 0 and s.job("good").errors == 0


def test_repeated_failures_escalate_once():
    f = _Flaky(100)
    called = []
    s = _sup(escalate_n=4, escalate_ms=600_000, on_escalate=called.append)

    async def go():
        j = s.add("modem", f.run)
        s.start()
        await s.done.wait()
        await sleep_ms(20)
        s.stop()
        return j

    j = run_async(go())
    assert called == [j] and s.escalated is j and j.errors == 4 and f.starts == 4


def test_failures_spread_out_do_not_escalate():
    # 4 failures, but not within escalate_ms (fake clock: 1000 ms per reading)
    t = [0]

    def clock():
        t[0] += 1000
        return t[0]

    f = _Flaky(4)
    called = []
    s = _sup(escalate_n=4, escalate_ms=3000, on_escalate=called.append, clock=clock)

    async def go():
        s.add("w", f.run)
        s.start()
        assert await _until(lambda: f.running)
        s.stop()

    run_async(go())
    assert called == [] and s.job("w").errors == 4 and not s.done.is_set()


def test_orphan_task_exception_counted_and_strict_stops():
    for strict in (False, True):
        s = _sup(strict=strict)

        async def orphan():
            await sleep_ms(1)
            raise ValueError("inner task died")

        async def go(s):
            s.start()
            t = asyncio.create_task(orphan())  # nobody awaits it
            await sleep_ms(30)
            del t
            import gc

            gc.collect()  # CPython reports an unretrieved exception at collection
            await sleep_ms(5)
            s.stop()

        run_async(go(s))
        j = s.job(LOOP)
        assert j.errors == 1 and "inner task died" in j.last
        assert (s.failure == (LOOP, j.last)) == strict and s.done.is_set() == strict


# ---- progress watch and the watchdog feed ----------------------------------------------
class _Clock:
    def __init__(self):
        self.t = 0

    def __call__(self):
        return self.t


class _St:
    status = 0x40  # offline


def test_progress_parts():
    clk = _Clock()
    p = Progress(clock=clk)
    ticks = [0]
    frames = [0]
    st = _St()
    modem_off = [False]
    p.watch("ticker", counter=lambda: ticks[0], window_ms=5000)
    p.watch("can", counter=lambda: frames[0], ok=car_quiet(st), window_ms=10_000)
    p.watch("modem", ok=lambda: not modem_off[0], window_ms=0)
    # all moving
    for _ in range(20):
        clk.t += 1000
        ticks[0] += 1
        assert p.check()
    # the car is off: a silent bus is fine for any time
    for _ in range(30):
        clk.t += 1000
        ticks[0] += 1
        assert p.check()
    # switched on (0x597 status 0x10) and the bus stays silent: stalled after 10 s
    st.status = 0x10
    ok = []
    for _ in range(12):
        clk.t += 1000
        ticks[0] += 1
        ok.append(p.check())
    assert ok[:10] == [True] * 10 and ok[-1] is False and p.stalled == "can"
    frames[0] += 1  # a frame: progress again
    assert p.check() and p.stalled == ""
    # charging (0x20 in 0x60) counts as active as well
    st.status = 0x20
    assert car_quiet(st)() is False
    # the ticker stops: stalled after 5 s
    n = 0
    while p.check():
        clk.t += 1000
        frames[0] += 1
        n += 1
    assert p.stalled == "ticker" and n == 6 and p.stalls == 3
    # a part that raises counts as stalled at once
    p2 = Progress(clock=clk)
    p2.watch("broken", counter=lambda: 1 // 0, window_ms=60_000)
    assert not p2.check() and p2.stalled == "broken"
    # the modem stuck OFF: stalled at once (window 0 here)
    p3 = Progress(clock=clk)
    p3.watch("modem", ok=lambda: not modem_off[0], window_ms=0)
    clk.t += 1
    assert p3.check()
    modem_off[0] = True
    clk.t += 1
    assert not p3.check() and p3.stalled == "modem"


class _Wdt:
    def __init__(self):
        self.fed = 0

    def feed(self):
        self.fed += 1


def test_housekeeping_feeds_only_on_progress():
    c = VirtualClock(speed=0, step_ms=100)
    w = _Wdt()
    good = [True]
    stable = []
    h = Housekeeping(
        w,
        feed_ms=1000,
        gc_ms=10_000,
        progress=lambda: good[0],
        phase_ms=500,
        stable_ms=5000,
        on_stable=lambda: stable.append(c.now),
        clock=c,
    )

    async def go():
        t = asyncio.create_task(h.run())
        run = asyncio.create_task(c.run())
        await c.wait_until(10_000)
        good[0] = False
        fed = w.fed
        await c.wait_until(20_000)
        t.cancel()
        run.cancel()
        return fed

    fed = run_async(go())
    # 10 feeds in the first 10 simulated seconds (at 0.5, 1.5, ... 9.5 s), none after
    assert fed == 10 and w.fed == 10 and h.starved == 10 and h.feeds == 10
    assert h.collects == 1 and stable == [5500]


def test_virtual_clock_sleepers_in_order_and_busy_holds():
    c = VirtualClock(speed=0, step_ms=10)
    woke = []
    waiting = [3]

    async def sleeper(ms):
        await c.sleep_ms(ms)
        woke.append((ms, c.now))

    async def consumer():
        while True:
            await sleep_ms(0)
            if waiting[0]:
                waiting[0] -= 1

    async def go():
        c.busy(lambda: waiting[0] > 0)
        ts = [asyncio.create_task(sleeper(ms)) for ms in (50, 5, 20)]
        cons = asyncio.create_task(consumer())
        run = asyncio.create_task(c.run())
        await c.wait_until(100)
        run.cancel()
        cons.cancel()
        for t in ts:
            t.cancel()

    run_async(go())
    assert woke == [(5, 10), (20, 20), (50, 50)] and c.unsettled == 0


def test_progress_wiring_uses_the_drivers_api():
    # progress.peer: the driver's stuck_off and the uplink's progress counter when present
    from firmware.progress import peer

    class Modem:
        state = "READY"
        stuck_off = False

    class OldModem:
        state = "RECOVER"

    class Uplink:
        progress = 7

    m = Modem()
    ok = peer(m, "modem_ok")
    assert ok()
    m.stuck_off = True
    assert not ok()
    old = OldModem()
    ok = peer(old, "modem_ok")
    assert ok()
    old.state = "OFF"
    assert not ok()
    assert peer(Uplink(), "progress")() == 7 and peer(OldModem(), "progress") is None


class _NoMemoryLog:
    # a logger whose every line needs memory there is none of (a fragmented heap)
    def __init__(self):
        self.tries = 0

    def _fail(self, *args):
        self.tries += 1
        raise MemoryError("memory allocation failed, allocating 424 bytes")

    error = warning = info = _fail


def test_a_log_line_without_memory_never_ends_the_supervisor():
    # D96: a MemoryError while reporting a failure is counted, the task still restarts,
    # and the loop's exception handler does not raise (it ended asyncio.run before)
    f = _Flaky(2, MemoryError)
    s = _sup()
    s._log = _NoMemoryLog()

    async def go():
        j = s.add("worker", f.run)
        s.start()
        assert await _until(lambda: f.running)
        s._loop_error(None, {"exception": MemoryError("orphan")})  # must not raise
        s.stop()
        return j

    j = run_async(go())
    assert f.starts == 3 and j.errors == 2 and j.memory_errors == 2 and j.restarts == 2
    assert s.loop_job.memory_errors == 1 and s.loop_job.last.startswith("MemoryError")
    assert s.lines_lost == s._log.tries == 2 + 2 + 1  # 2 failures, 2 restarts, 1 orphan
    assert not s.done.is_set() and s.failure is None


def test_defaults_stay_out_of_the_instances():
    # D113: a job that never failed stores only what it was given (8 jobs: ≈ 640 bytes
    # of heap); its counters read as zero until its first failure
    s = Supervisor()
    j = s.add("worker", _Flaky(0).run)
    assert sorted(j.__dict__) == ["factory", "name"]
    assert j.errors == j.restarts == j.memory_errors == j.in_row == 0
    assert j.last == "" and j.task is None and j.recent is None
    assert sorted(s.loop_job.__dict__) == ["factory", "name"]
