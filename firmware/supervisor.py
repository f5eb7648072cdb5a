# One supervisor for every task: log with traceback, count, restart with back-off, escalate.
# Licence: MIT (this project).
#
#   sup = Supervisor(strict=False, on_escalate=f)
#   job = sup.add("ticker", ticker.run)      # a coroutine FUNCTION: called again per restart
#   sup.start()                              # each job's coroutine becomes a task
#   await sup.done.wait()                    # set on a strict failure or an escalation
#   sup.stop()
#
# Per job (sup.jobs, in order): errors (exceptions and unexpected returns), memory_errors,
# restarts, last (one line: the last error). A supervised coroutine is meant to run for
# ever: returning is a failure too ("ended").
# - An exception is logged with its traceback and counted; the job restarts after a
#   back-off of backoff_min_ms * 2^(n-1), at most backoff_max_ms, n = failures in a row
#   (a run longer than stable_ms starts the count over).
# - MemoryError: gc.collect() first, then the same restart.
# - escalate_n failures of one job within escalate_ms: the board is in trouble that a
#   restart does not cure. on_escalate(job) runs once (the app flushes the outbox journal,
#   notes the reason for the next boot and resets the board); without it done is set.
# - strict (development builds: host, sim): the first unexpected exception sets `failure`
#   and `done` and restarts nothing (Hinch's "stop on any uncaught task exception").
# - Exceptions of tasks nobody awaits ("Task exception wasn't retrieved": an inner task of
#   a driver) reach the loop's exception handler, installed by start(): counted under the
#   job name "loop", logged, and fatal when strict.
# CancelledError is never caught: stop() and a cancelled parent end the jobs; a job
# whose task was cancelled (by anyone) is never counted or restarted.
#
# D128: no wrapper coroutine per job. A job's coroutine is its task itself, and the
# scheduler reports its end through the task's completion callback (_when_done:
# MicroPython calls task.state(task, exc) when it is callable -- what asyncio.gather uses
# --, CPython add_done_callback), one bound method made once (self._on_end). Only a failed
# job costs a coroutine, _restart (the back-off sleep, then the job's task again), and
# job.task is that restart task until then: stop() cancels it too. The callback runs
# inside the scheduler, where anything raised ends asyncio.run (the whole firmware): it
# catches everything, and what the supervisor's own bookkeeping raised there (a
# MemoryError, a failing on_escalate) counts under "loop" -- as before, when it ended the
# wrapper task; a restart that cannot be made even after gc.collect() is lost that way.
# The wrappers (_keep) were 7 live generators on the heap board, 672 bytes for ever
# (CENSUS-GEN); the new code costs 3 function objects and a bound method (64 bytes).
# Measured (make heap-report's day, 256 KB heap, 1 h): steady 59,560 -> 58,960 bytes,
# peak 61,232 -> 60,592 (medians of 14 and 17 runs; a run varies by ~400 bytes).

import asyncio
import gc
import sys

from ovms import log
from ovms.aio import sleep_ms, ticks_diff, ticks_ms

LOOP = "loop"  # pseudo job: exceptions of unsupervised tasks


class Job:
    # D113: the counters and the rest start as class attributes; an instance stores only
    # what its run changed (name, factory and task for a job that never fails: 48 bytes
    # of heap instead of 128 with its escalation list). Only for a class with many
    # instances: a class attribute costs the same 8 bytes as an instance's, so a class
    # made once (Supervisor, Housekeeping, Ticker) gains nothing (measured: a wash)
    errors = 0  # failures: exceptions, MemoryError and unexpected returns
    memory_errors = 0
    restarts = 0
    last = ""  # the last failure, one line
    task = None  # the job's own task; while it waits to restart: its _restart task
    t0 = 0  # clock() when the job's task was made (a run longer than stable_ms is stable)
    in_row = 0  # failures since the last stable run (back-off exponent)
    recent = None  # [ticks_ms of the last escalate_n failures], made at the first failure

    def __init__(self, name, factory):
        self.name = name
        self.factory = factory  # () -> coroutine


class Supervisor:
    def __init__(
        self,
        strict=False,
        on_escalate=None,
        backoff_min_ms=500,
        backoff_max_ms=30_000,
        stable_ms=60_000,
        escalate_n=5,
        escalate_ms=600_000,
        clock=ticks_ms,
    ):
        self.strict = strict
        self.on_escalate = on_escalate
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self.stable_ms = stable_ms
        self.escalate_n = escalate_n
        self.escalate_ms = escalate_ms
        self.clock = clock
        self.jobs = []
        self.loop_job = Job(LOOP, None)
        self.lines_lost = 0  # log lines that could not be written (out of memory)
        self.done = asyncio.Event()
        self.failure = None  # (job name, text) of the failure that ended a strict run
        self.escalated = None  # the job that escalated
        self._log = log.get("sup")
        self._on_end = self._ended  # D128: every task's callback, one bound method

    def add(self, name, factory):
        job = Job(name, factory)
        self.jobs.append(job)
        return job

    def job(self, name):
        for j in self.jobs:
            if j.name == name:
                return j
        return self.loop_job if name == LOOP else None

    def start(self):
        self.done = asyncio.Event()  # bound to the running loop (CPython)
        asyncio.get_event_loop().set_exception_handler(self._loop_error)
        for j in self.jobs:
            self._begin(j)

    def stop(self):
        for j in self.jobs:
            t = j.task
            j.task = None
            if t is not None:
                t.cancel()

    def errors(self):
        # failures over every job (the loop's included)
        n = self.loop_job.errors
        for j in self.jobs:
            n += j.errors
        return n

    def report(self):
        # "name errors/restarts" per job that failed, for logs and the sim summary
        out = []
        for j in self.jobs + [self.loop_job]:
            if j.errors:
                out.append(
                    "%s %d error(s) (%d MemoryError) %d restart(s), last: %s"
                    % (j.name, j.errors, j.memory_errors, j.restarts, j.last)
                )
        return out

    # ---- one job (D128) --------------------------------------------------------------
    def _begin(self, job):
        # the job's coroutine as its own task, its end reported to _ended
        try:
            job.t0 = self.clock()
            t = asyncio.create_task(job.factory())
            _when_done(t, self._on_end)
            job.task = t
        except Exception as e:  # making the coroutine or the task: a failed run
            self._failed(job, e)

    def _ended(self, task, exc):
        # the scheduler's completion callback: exc is what ended task (StopIteration: it
        # returned). Never raises (see D128)
        try:
            if isinstance(exc, asyncio.CancelledError):
                return  # stopped: never counted, never restarted
            for j in self.jobs:
                if j.task is task:  # else: stop() let go of it
                    self._failed(j, None if isinstance(exc, StopIteration) else exc)
                    return
        except Exception as e:  # the supervisor's own bookkeeping (MemoryError)
            try:
                self._loop_error(None, {"exception": e})
            except Exception:
                self.lines_lost += 1

    async def _restart(self, job):
        # the one coroutine a failed job costs: its back-off, then its task again
        await sleep_ms(self.backoff_ms(job.in_row))
        job.restarts += 1
        self._say("warning", "restarting %s (%d)", (job.name, job.restarts))
        self._begin(job)

    def backoff_ms(self, n):
        d = self.backoff_min_ms
        while n > 1 and d < self.backoff_max_ms:
            d *= 2
            n -= 1
        return d if d < self.backoff_max_ms else self.backoff_max_ms

    def _failed(self, job, err):
        # a run of job ended (err None: it returned): count, log, restart after the
        # back-off -- unless strict or escalated
        if ticks_diff(self.clock(), job.t0) >= self.stable_ms:
            job.in_row = 0
        job.errors += 1
        job.in_row += 1
        if err is None:
            job.last = "ended"
            self._say("error", "task %s ended", (job.name,))
        else:
            if isinstance(err, MemoryError):
                job.memory_errors += 1
                gc.collect()
            job.last = _last(err)
            self._say("error", "task %s failed: %s\n%s", (job.name, job.last), err)
        if self.strict:
            self.failure = (job.name, job.last)
            self.done.set()
            return
        now = self.clock()
        r = job.recent
        if r is None:
            r = job.recent = []
        r.append(now)
        if len(r) > self.escalate_n:
            r.pop(0)
        if len(r) == self.escalate_n and ticks_diff(now, r[0]) <= self.escalate_ms:
            self.escalated = job
            self._say("error", "task %s failed %d times: escalating", (job.name, len(r)))
            if self.on_escalate is not None:
                self.on_escalate(job)
            self.done.set()
            return
        try:
            job.task = asyncio.create_task(self._restart(job))
        except MemoryError:
            gc.collect()
            job.task = asyncio.create_task(self._restart(job))

    def _loop_error(self, loop, context):
        # exception of a task that no one awaits (asyncio's exception handler)
        # (or, from _ended, one of the supervisor's own: D128)
        e = context.get("exception")
        j = self.loop_job
        j.errors += 1
        if isinstance(e, MemoryError):
            j.memory_errors += 1
            gc.collect()
        j.last = _last(e) if e is not None else str(context.get("message", "?"))
        self._say("error", "unsupervised task failed: %s\n%s", (j.last,), e)
        if self.strict:
            self.failure = (LOOP, j.last)
            self.done.set()

    def _say(self, level, fmt, args, err=None):
        # one supervisor log line (with err's traceback). Logging allocates (formatting,
        # the traceback text), so after a MemoryError it may fail again: the line is then
        # counted in lines_lost, never raised out of the supervisor. D96: raised from the
        # loop's exception handler it ended asyncio.run() -- the whole firmware -- on a
        # fragmented 96 KB heap (a 424-byte allocation in logging's format()).
        try:
            if err is not None:
                args = args + (traceback_text(err),)
            getattr(self._log, level)(fmt, *args)
        except MemoryError:
            gc.collect()
            self.lines_lost += 1


if hasattr(asyncio.Task, "add_done_callback"):  # CPython

    def _when_done(task, cb):
        # D128: cb(task, exc) once task ends, exc as MicroPython's scheduler passes it
        # (an adapter per task: CPython only, the board makes none)
        task.add_done_callback(lambda t: cb(t, _outcome(t)))

    def _outcome(t):
        if t.cancelled():
            return asyncio.CancelledError()
        e = t.exception()  # retrieved: no "exception was never retrieved"
        return StopIteration() if e is None else e

else:  # MicroPython: nothing made for CPython above

    def _when_done(task, cb):
        # D128: the scheduler calls task.state(task, exc) when it is callable (exc: the
        # exception, StopIteration for a return, CancelledError): what asyncio.gather
        # uses. Only a task nobody awaits yet (state True) can carry it.
        if task.state is not True:
            raise RuntimeError("task already awaited")
        task.state = cb


def _last(e):
    # the one-line failure text; after a MemoryError maybe only the exception's name
    try:
        return _one_line(e)
    except MemoryError:
        return type(e).__name__


def _one_line(e):
    t = "%s: %s" % (type(e).__name__, e)
    t = t.replace("\n", " ").replace(",", ";")  # also a field of the crash record
    return t[:100]


def traceback_text(e):
    # the exception with its traceback, as text (both runtimes)
    if hasattr(sys, "print_exception"):  # MicroPython
        import io

        buf = io.StringIO()
        sys.print_exception(e, buf)
        return buf.getvalue()
    import traceback

    return "".join(traceback.format_exception(type(e), e, e.__traceback__))
