# asyncio / time compatibility between CPython and MicroPython.
# Licence: MIT (this project).
#
# Only the async shell (firmware/, tools/) imports this; the pure core never
# does. MicroPython has time.ticks_ms/ticks_diff/ticks_add and asyncio.sleep_ms;
# CPython has neither. MicroPython's wait_for cannot wrap asyncio.sleep()
# directly (TypeError), so everything here awaits coroutines of our own.

import asyncio
import sys
import time

MICROPYTHON = sys.implementation.name == "micropython"

if hasattr(time, "ticks_ms"):
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add
else:

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b

    def ticks_add(a, b):
        return a + b


if hasattr(asyncio, "sleep_ms"):
    sleep_ms = asyncio.sleep_ms
else:

    async def sleep_ms(ms):
        await asyncio.sleep(ms / 1000)


async def wait_event(ev, ms):
    # wait for asyncio.Event `ev` at most `ms` milliseconds: True if it is set. For an
    # Event this module did not make (the supervisor's done): our own flags are Flags,
    # whose wait_ms makes no task on MicroPython (D127); handed one, this is its wait_ms
    if ev.is_set():
        return True
    if _core is not None and isinstance(ev, Flag):  # wait_for would not take it (no coroutine)
        return await ev.wait_ms(ms)
    try:
        await asyncio.wait_for(ev.wait(), ms / 1000)
        return True
    except asyncio.TimeoutError:  # noqa: UP041 (MicroPython has no builtin TimeoutError)
        return False


# D127: Flag, an asyncio.Event with a timed wait: `await flag.wait_ms(ms)` -> True when
# set() came within ms, False on the timeout; set(), clear(), is_set(), `await flag.wait()`
# as asyncio.Event. Every AT command, the modem's idle wait, the GPRS stream's rx poll, the
# link's back-off and MQTT's CONNACK wait went through wait_event, i.e. wait_for: on
# MicroPython each wait made the Event.wait coroutine and its Task, the wait_for and
# wait_event coroutines and the _run runner and its Task (112 + 96 + 80 + 48 + 2 x 32 =
# 400 bytes by the census), live as long as the wait and garbage after every AT command;
# two such waits are live all day (the ladder's idle wait, the rx poll), three at the
# uplink's sends. Flag.wait_ms makes none of them: it parks the waiting task itself on
# asyncio's run queue at its deadline, as asyncio.sleep_ms does, and notes (flag, task)
# in one list of parked waiters for all flags; set() brings the flag's noted waiters
# forward to now and forgets them; the waiter, resumed, tells the timeout from set() by
# whether it is still noted. Its price: ~430 bytes at import (the class, its functions,
# two StopIterations, the list; 32-bit port), 32 bytes a flag (an Event: 48 with its
# TaskQueue); the census at 1800 s of a 1 h day: 1.2 KB less in all.
# wait() parks the task off the run queue the way asyncio.Event.wait does (task.data =
# the flag, whose remove() a cancel calls), so a plain wait makes no coroutine either.
# The awaitable is the flag itself (__iter__/__next__, as asyncio's SingletonGenerator):
# its first step parks the task, the second ends the await with True or False (raising a
# preallocated StopIteration, as sleep_ms). gc.mem_alloc on the 32-bit unix port: 0
# bytes per wait_ms, 708 per wait_event (all garbage once it ends).
# This relies on asyncio internals: core.cur_task, core._task_queue (push with a due
# time, remove) and Task.data / Task.cancel's protocol, the same ones sleep_ms, Event and
# firmware/simclock.py (D120) use; they are checked at import, and without them (or on
# CPython, the host) Flag is an asyncio.Event whose wait_ms is asyncio.timeout around
# Event.wait (wait_event's wait_for where there is none). Timeouts run on asyncio's
# clock (ticks_ms, wall time), as wait_for's did, without its slack: after a deadline
# wait_for took a few loop turns (cancel its runner, await it) in which a reader could
# still hand over a reply already in its buffer; a Flag's waiter resumes at once.
# Races (host_tests/test_aio_flag.py): set() before the wait: True at once, no yield;
# set() twice: the second finds no waiter; clear() right after set(): the woken waiter
# still returns True (as Event.wait); a cancel while waiting: CancelledError in the
# waiter, which leaves the list (throw()/remove()); set() after a cancel leaves that
# task alone (push() would clear its pending CancelledError); the deadline and set() in
# one loop turn: whichever the loop runs first wins, consistently (the AT engine trusts
# the reply, not the wait). A task awaits one thing at a time, so it waits on one flag
# at a time (to wake on either of two causes, both set the same flag). Await the flag
# at once (`await f.wait_ms(ms)`): it is no coroutine, so wait_for / create_task /
# gather do not take it (TypeError before anything is parked). set() from a task only,
# never from an IRQ (as Event.set; ThreadSafeFlag is for those).
try:
    from asyncio import core as _core

    if not (
        hasattr(_core, "cur_task")
        and hasattr(_core, "_task_queue")
        and hasattr(_core._task_queue, "remove")
        and hasattr(_core, "Task")
    ):
        _core = None
except ImportError:
    _core = None  # CPython

if _core is not None:
    _SET = StopIteration(True)  # the ends of an await (no exception object per wait)
    _TIMEOUT = StopIteration(False)
    # every parked waiter of every flag: [task about to park, its deadline, then pairs
    # flag, task (None, None: a free pair)]. One list for all flags (a list per flag cost
    # 32 bytes each); it grows to the most waiters ever parked at once and stays
    _WAITING = [None, None]

    class Flag(asyncio.Event):
        # is_set() and clear() are Event's; no Event.__init__: no TaskQueue per flag
        def __init__(self):
            self.state = False  # here, so that set() and clear() never allocate

        def set(self):
            self.state = True
            w = _WAITING
            q = _core._task_queue
            for i in range(2, len(w), 2):  # pushed in the order they came (as Event.set)
                if w[i] is self:
                    t = w[i + 1]
                    w[i] = w[i + 1] = None
                    if t.data is None:  # on the run queue until its deadline: to now
                        q.remove(t)
                        q.push(t)
                    elif t.data is self:  # wait(): off the run queue
                        q.push(t)
                    # else a cancel is pending (t.data = CancelledError): due already

        def wait_ms(self, ms=None):
            # between this call and the first step of its await nothing else runs: the
            # list's head says which task is about to park, and until when
            w = _WAITING
            if self.state:
                w[0] = None
            else:
                w[0] = _core.cur_task
                w[1] = None if ms is None else ticks_add(ticks_ms(), int(ms) if ms > 0 else 0)
            return self

        wait = wait_ms  # no deadline: as asyncio.Event.wait

        def __iter__(self):
            return self

        def __next__(self):
            t = _core.cur_task
            w = _WAITING
            if w[0] is t and t is not None:  # the first step: park
                w[0] = None
                i = 2
                while i < len(w) and w[i] is not None:
                    i += 2
                if i == len(w):
                    w.append(None)
                    w.append(None)
                w[i] = self
                w[i + 1] = t
                if w[1] is None:
                    t.data = self  # as Event.wait: a cancel calls remove(t), then pushes t
                else:
                    _core._task_queue.push(t, w[1])  # t.data = None: a cancel brings it
                return None  # forward and raises CancelledError here (throw)
            if self.remove(t):  # resumed while still noted: the deadline came first
                _TIMEOUT.__traceback__ = None
                raise _TIMEOUT
            _SET.__traceback__ = None  # set() resumed it (or it was set already)
            raise _SET

        def remove(self, t):
            # forget waiter t -> True if it was noted (Task.cancel calls this for a task
            # in wait(), whose t.data is this flag)
            w = _WAITING
            for i in range(2, len(w), 2):
                if w[i] is self and w[i + 1] is t:
                    w[i] = w[i + 1] = None
                    return True
            return False

        def throw(self, e):
            # a cancel of the waiting task (or an error thrown into it): leave the list
            self.remove(_core.cur_task)
            raise e

else:

    class Flag(asyncio.Event):
        # CPython (the host), or a MicroPython without the internals above
        if hasattr(asyncio, "timeout"):  # CPython 3.11+: Event.wait in the waiting task
            # itself (as on the board: a set() then clear() before it ran still wakes
            # it; wait_for's inner task would not have been waiting yet)

            async def wait_ms(self, ms):
                if self.is_set():
                    return True
                if ms is None:
                    return await self.wait()
                try:
                    async with asyncio.timeout(ms / 1000 if ms > 0 else 0):
                        return await self.wait()
                except TimeoutError:
                    return False

        else:

            def wait_ms(self, ms):
                if ms is None:
                    return self.wait()
                return wait_event(self, ms)


def cancel(task):
    # cancel a task if it is still running; None-safe
    if task is not None:
        try:
            task.cancel()
        except Exception:
            pass
