# The app's supervision on the host board (issue 9 §1): every task killed with an
# exception and with a MemoryError is logged, counted and restarted, and the watchdog is
# still fed; a modem reader that keeps dying escalates, the watchdog is no longer fed
# and the board is reset after the outbox was flushed. Virtual clock (firmware/simclock):
# the wall-clock timeouts here only bound a hang. Both runtimes.
# Licence: MIT (this project).
import asyncio

from support import MODEM_FAST, rmtree, run_async, tmpdir

from firmware import app as app_mod
from firmware.bootlog import BootLog
from tools import sim

KILLED = ("ticker", "can_rx", "modem", "uplink", "house", "gps", "console", "sim_report")


class _Wdt:
    def __init__(self):
        self.fed = 0

    def feed(self):
        self.fed += 1


class _Console:
    # a console stream nobody types on
    def __init__(self):
        self.out = b""

    async def read(self, n):
        await asyncio.Event().wait()

    def write(self, data):
        self.out += data

    async def drain(self):
        pass


def _app(d, **over):
    kw = {
        "CFG_PATH": d + "/ovms.cfg",
        "BOOT_LOG_PATH": d + "/boot.json",
        "SIM_SMS": (),
        "STRICT": False,  # production behaviour: log, count, restart
        "MODEM_TIMING": MODEM_FAST,
        "CONSOLE": _Console(),
    }
    kw.update(over)
    BootLog(d + "/boot.json").boot("POR")
    a = app_mod.App(sim.host_board(10, **kw), wdt=_Wdt(), bootlog=d + "/boot.json")
    a.reset = lambda: a.resets.append(a.wdt.fed)
    a.resets = []
    return a


def _dies_once(factory, exc, after_ms):
    # the real task runs, then dies with exc; a restart runs the real task again
    calls = [0]

    async def job():
        calls[0] += 1
        if calls[0] > 1:
            return await factory()
        try:
            await asyncio.wait_for(factory(), after_ms / 1000)
        except asyncio.TimeoutError:  # noqa: UP041 (MicroPython: no builtin TimeoutError)
            pass
        raise exc("killed by the test")

    return job


def _run(a, seconds, until=None):
    sim.OUT = lambda t: None
    try:
        run_async(a.run(seconds, until))
    finally:
        sim.OUT = print


def _back(app):
    # every part works again (checked while the app still runs)
    ok = app.modem.state == "READY" and app.uplink.logins >= 2 and app.uplink.logged_in
    app.was_back = ok
    return ok


def test_every_task_killed_is_restarted_and_counted():
    for exc in (ValueError, MemoryError):
        d = tmpdir("sup")
        try:
            a = _app(d)

            def kill_all(app, exc=exc):
                app.sup.backoff_min_ms = 50
                for name in KILLED:
                    j = app.sup.job(name)
                    j.factory = _dies_once(j.factory, exc, 400)

            a.before_start = kill_all
            a.was_back = False
            _run(a, 4, _back)
            sup = a.sup
            assert [j.name for j in sup.jobs if j.name in KILLED] != []
            for name in KILLED:
                j = sup.job(name)
                assert j is not None, name
                assert j.errors == 1 and j.restarts == 1, (name, j.errors, j.restarts)
                assert j.memory_errors == (1 if exc is MemoryError else 0), name
                assert j.last == exc.__name__ + ": killed by the test", j.last
            # nothing else failed, nothing escalated, the run went on
            assert a.crashes == len(KILLED) and sup.escalated is None and not sup.done.is_set()
            assert sup.job("loop").errors == 0 and a.resets == []
            # after the restarts every part works again: ticks on the simulated clock,
            # frames decoded, the modem READY, the server session up again
            assert a.ticker.ticks >= a.clock.now // 1000 - 3
            assert a.rx.frames == a.can.delivered - a.can.pending() and a.rx.frames > 1000
            assert a.was_back
            # the watchdog was fed all along: each part came back within its window
            assert a.house.starved == 0 and a.wdt.fed >= 30
        finally:
            rmtree(d)


def test_modem_reader_dies_watchdog_stops():
    # the reader keeps dying (a MemoryError in every read): the driver's run() raises each
    # time, the supervisor restarts it, then escalates; from then on the watchdog is not
    # fed (a real board resets within WDT_MS) and the app resets the board itself after
    # flushing the outbox and noting the crash for the next boot
    d = tmpdir("sup")
    try:
        a = _app(d)
        flushed = []
        deaths = [0]

        def wire(app):
            app.sup.backoff_min_ms = 50
            app.sup.escalate_n = 3
            m = app.modem
            orig = m._reader

            async def dying_reader():
                try:
                    await asyncio.wait_for(orig(), 0.3)
                except asyncio.TimeoutError:  # noqa: UP041
                    pass
                deaths[0] += 1
                raise MemoryError("in the modem's read")

            m._reader = dying_reader
            if app.outbox is not None:
                f0 = app.outbox.flush

                def flush():
                    flushed.append(1)
                    return f0()

                app.outbox.flush = flush

        a.before_start = wire
        fed = []

        async def go():
            t = asyncio.create_task(a.run(6))
            while not a.resets:
                await asyncio.sleep(0.05)
            fed.append(a.wdt.fed)
            c = a.clock
            end = c.now + 10_000  # 10 more simulated seconds
            while c.now < end and not t.done():
                await asyncio.sleep(0.05)
            t.cancel()
            try:
                await t
            except BaseException:  # noqa: S110 (cancelled)
                pass

        sim.OUT = lambda t: None
        try:
            run_async(go())
        finally:
            sim.OUT = print
        j = a.sup.job("modem")
        assert deaths[0] == 3 and j.errors == 3 and j.memory_errors == 3
        assert a.sup.escalated is j and len(a.resets) == 1 and flushed == [1]
        # fed before the escalation, never after it
        assert fed[0] >= 1 and a.wdt.fed == fed[0] == a.resets[0]
        # the progress watch names the cause: the supervisor gave up
        a.clock.advance(10)
        assert not a.progress.check() and a.progress.stalled == "tasks"
        # the next boot knows why
        i = BootLog(d + "/boot.json").boot("RI")
        assert i.crash and i.reason.startswith("modem: MemoryError")
    finally:
        rmtree(d)
