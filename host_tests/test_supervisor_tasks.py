# The supervisor without a wrapper coroutine per job (D128, firmware/supervisor.py): a
# healthy job's task runs the job's own coroutine; the tasks' completion callback counts
# a return, an exception and a MemoryError and restarts the job after its back-off; a
# cancel (stop() or anyone else) is never counted; the callback never raises, even out of
# memory. All three runtimes; the back-offs are a few ms and only bound how long a test
# takes. Licence: MIT (this project).
import asyncio

from support import run_async
from support import steps_until as _until

from firmware import supervisor
from firmware.supervisor import Supervisor
from ovms.aio import sleep_ms


def _sup(**kw):
    kw.setdefault("backoff_min_ms", 1)
    kw.setdefault("backoff_max_ms", 8)
    return Supervisor(**kw)


def _coro(task):
    c = getattr(task, "coro", None)  # MicroPython
    return c if c is not None else task.get_coro()


class _Job:
    # a job that keeps every coroutine it made; its n-th run ends as plan[n] says: an
    # exception class raised, "return", and past the plan it runs for ever
    def __init__(self, *plan):
        self.plan = list(plan)
        self.made = []
        self.running = False

    def factory(self):
        c = self._run(self.plan.pop(0) if self.plan else None)
        self.made.append(c)
        return c

    async def _run(self, how):
        await sleep_ms(1)
        if how == "return":
            return
        if how is not None:
            raise how("planned")
        self.running = True
        while True:
            await sleep_ms(5)


def test_a_healthy_job_is_its_own_task():
    # no coroutine of the supervisor's between the scheduler and the job (the former
    # _keep wrapper: 96 bytes of heap per job for ever)
    a = _Job()
    b = _Job()
    s = _sup()

    async def go():
        ja = s.add("a", a.factory)
        jb = s.add("b", b.factory)
        s.start()
        assert await _until(lambda: a.running and b.running)
        own = [_coro(ja.task) is a.made[0], _coro(jb.task) is b.made[0]]
        s.stop()
        return own

    assert run_async(go()) == [True, True]
    assert s.errors() == 0


def test_return_raise_and_memoryerror_restart_into_the_jobs_own_task():
    for how in ("return", ValueError, MemoryError):
        job = _Job(how, how)
        s = _sup()

        async def go(s, job):
            j = s.add("w", job.factory)
            s.start()
            assert await _until(lambda: job.running)
            own = _coro(j.task) is job.made[-1]  # the restart's coroutine is gone
            s.stop()
            return j, own

        j, own = run_async(go(s, job))
        assert own and len(job.made) == 3, how
        assert j.errors == 2 and j.restarts == 2 and s.errors() == 2, how
        assert j.memory_errors == (2 if how is MemoryError else 0), how
        assert j.last == ("ended" if how == "return" else how.__name__ + ": planned"), how
        assert not s.done.is_set() and s.failure is None


def test_cancelled_in_the_backoff_never_restarts():
    # the restart would come after a minute: stop() (or anyone) cancels it first
    for by in ("stop", "cancel"):
        job = _Job(ValueError)
        s = Supervisor(backoff_min_ms=60_000)

        async def go(s, job, by):
            j = s.add("w", job.factory)
            s.start()
            assert await _until(lambda: j.errors == 1)
            pending = j.task
            waiting = _coro(pending) is not job.made[0] and not pending.done()
            if by == "stop":
                s.stop()
            else:
                pending.cancel()
            await sleep_ms(10)
            return j, pending, waiting

        j, pending, waiting = run_async(go(s, job, by))
        assert waiting and pending.done() and len(job.made) == 1, by
        assert j.errors == 1 and j.restarts == 0 and s.loop_job.errors == 0, by
        assert (j.task is None) == (by == "stop"), by


def test_a_cancelled_job_is_neither_counted_nor_restarted():
    job = _Job()
    s = _sup()

    async def go():
        j = s.add("w", job.factory)
        s.start()
        assert await _until(lambda: job.running)
        j.task.cancel()
        await sleep_ms(20)
        return j

    j = run_async(go())
    assert len(job.made) == 1 and j.errors == 0 and j.restarts == 0 and s.errors() == 0


def test_a_factory_that_raises_is_a_failed_run():
    # making the coroutine fails (a MemoryError on the board): counted, restarted
    job = _Job()
    calls = [0]

    def factory():
        calls[0] += 1
        if calls[0] == 1:
            raise MemoryError("making the coroutine")
        return job.factory()

    s = _sup()

    async def go():
        j = s.add("w", factory)
        s.start()
        assert await _until(lambda: job.running)
        s.stop()
        return j

    j = run_async(go())
    assert j.errors == 1 and j.memory_errors == 1 and j.restarts == 1 and calls[0] == 2


class _NoMemoryLog:
    # a logger whose every line needs memory there is none of (a fragmented heap)
    def __init__(self):
        self.tries = 0

    def _fail(self, *args):
        self.tries += 1
        raise MemoryError("memory allocation failed, allocating 424 bytes")

    error = warning = info = _fail


def test_the_callback_never_raises_out_of_memory():
    # the scheduler runs the callback: anything raised there would end asyncio.run (the
    # whole firmware). Here the log and the escalation both run out of memory: counted
    # under "loop" (as when the former wrapper task died), the other job runs on.
    bad = _Job(ValueError)
    good = _Job()

    def escalate(job):
        raise MemoryError("flushing the outbox")

    s = _sup(escalate_n=1, on_escalate=escalate)
    s._log = _NoMemoryLog()

    async def go():
        s.add("bad", bad.factory)
        s.add("good", good.factory)
        s.start()
        assert await _until(lambda: good.running and s.loop_job.errors == 1)
        await sleep_ms(20)
        alive = not s.job("good").task.done()
        s.stop()
        return alive

    assert run_async(go())
    j = s.job("bad")
    assert j.errors == 1 and s.escalated is j and len(bad.made) == 1
    assert s.loop_job.memory_errors == 1 and s.loop_job.last.startswith("MemoryError")
    assert s.lines_lost == s._log.tries == 3  # the failure, escalating, the loop's line
    assert s.job("good").errors == 0


def test_when_done_hands_over_how_a_task_ended():
    # the compat helper: MicroPython's task.state callback, CPython's add_done_callback
    seen = []

    def cb(task, exc):
        seen.append(type(exc).__name__)

    async def returns():
        await sleep_ms(1)

    async def raises():
        await sleep_ms(1)
        raise KeyError("k")

    async def forever():
        await asyncio.Event().wait()

    async def go():
        ts = [asyncio.create_task(f()) for f in (returns, raises, forever)]
        for t in ts:
            supervisor._when_done(t, cb)
        await sleep_ms(20)
        ts[2].cancel()
        await sleep_ms(20)
        return [t.done() for t in ts]

    assert run_async(go()) == [True, True, True]
    assert sorted(seen) == ["CancelledError", "KeyError", "StopIteration"]
