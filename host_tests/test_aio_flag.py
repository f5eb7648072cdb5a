# aio.Flag (lib/ovms/aio.py, D127): an asyncio.Event with a timed wait, wait_ms(ms) ->
# True when set() came in time, False on the timeout. On MicroPython a wait parks the
# task itself (no Task, no coroutine per wait: proven with the heap locked); the races
# of D127: set before the wait, set twice, clear right after set, several waiters, two
# flags, a cancel while waiting (also with a set() in the same turn), the deadline and
# set() in one turn. All three runtimes; timeouts only as lower bounds (no speed).
import asyncio

from support import MICROPYTHON, run_async

from ovms import aio


def _waiting(f):
    # the waiters a flag still notes (MicroPython); CPython's Event keeps its own
    w = getattr(aio, "_WAITING", ())
    return len([i for i in range(2, len(w), 2) if w[i] is f])


def test_timeout_then_set_wakes_it():
    f = aio.Flag()

    async def setter():
        await asyncio.sleep(0)
        f.set()

    async def go():
        t0 = aio.ticks_ms()
        r1 = await f.wait_ms(30)
        dt1 = aio.ticks_diff(aio.ticks_ms(), t0)
        asyncio.create_task(setter())
        t0 = aio.ticks_ms()
        r2 = await f.wait_ms(60000)
        dt2 = aio.ticks_diff(aio.ticks_ms(), t0)
        r3 = await f.wait_ms(-5)  # set: True at once; a bad (negative) time is 0
        f.clear()
        r4 = await f.wait_ms(-5)
        r5 = await f.wait_ms(1.5)  # a float is taken, as wait_for took it
        return r1, dt1, r2, dt2, r3, r4, r5, _waiting(f)

    r1, dt1, r2, dt2, r3, r4, r5, left = run_async(go())
    assert r1 is False and dt1 >= 29  # ms rounding of CPython's clock
    assert r2 is True and dt2 < 60000
    assert (r3, r4, r5) == (True, False, False) and left == 0


def test_set_before_the_wait_returns_at_once():
    # no yield at all: a task made just before has not run when the wait returns
    f = aio.Flag()
    f.set()
    ran = []

    async def other():
        ran.append(1)

    async def go():
        asyncio.create_task(other())
        r1 = await f.wait_ms(60000)
        r2 = await f.wait()
        seen = len(ran)
        await asyncio.sleep(0)
        return r1, r2, seen, len(ran)

    assert run_async(go()) == (True, True, 0, 1)


def test_set_twice_and_clear_right_after_set():
    # the woken waiter returns True even if the flag was cleared before it ran (as
    # asyncio.Event.wait); the second set() finds no waiter
    f = aio.Flag()
    res = []

    async def waiter(timed):
        res.append(await (f.wait_ms(60000) if timed else f.wait()))

    async def go():
        ts = [asyncio.create_task(waiter(True)), asyncio.create_task(waiter(False))]
        await asyncio.sleep(0)
        n = _waiting(f)
        f.set()
        f.set()
        f.clear()
        for t in ts:
            await t
        return n, f.is_set(), _waiting(f)

    n, is_set, left = run_async(go())
    assert res == [True, True] and not is_set and left == 0
    assert n == (2 if MICROPYTHON else 0)


def test_several_waiters_and_two_flags():
    # timed and plain waiters on one flag all wake on its set(); a second flag's set()
    # wakes only its own waiters (a task waits on one flag at a time: two causes that
    # should wake one task set the same flag)
    a = aio.Flag()
    b = aio.Flag()
    woke = []

    async def waiter(name, f, timed):
        r = await (f.wait_ms(60000) if timed else f.wait())
        woke.append((name, r))

    async def go():
        ts = [
            asyncio.create_task(waiter("a1", a, True)),
            asyncio.create_task(waiter("a2", a, False)),
            asyncio.create_task(waiter("a3", a, True)),
            asyncio.create_task(waiter("b1", b, True)),
            asyncio.create_task(waiter("b2", b, False)),
        ]
        await asyncio.sleep(0)
        b.set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        after_b = sorted(woke)
        a.set()
        for t in ts:
            await t
        return after_b, sorted(woke), _waiting(a), _waiting(b)

    after_b, all_woke, left_a, left_b = run_async(go())
    assert after_b == [("b1", True), ("b2", True)]
    assert all_woke == [("a1", True), ("a2", True), ("a3", True), ("b1", True), ("b2", True)]
    assert left_a == left_b == 0


def test_cancel_while_waiting():
    # CancelledError in the waiter, which leaves the flag's list; a set() in the same
    # turn as the cancel does not undo it; the others still wake
    f = aio.Flag()
    got = []

    async def waiter(name, timed):
        try:
            r = await (f.wait_ms(60000) if timed else f.wait())
        except asyncio.CancelledError:
            got.append((name, "cancelled"))
            raise
        got.append((name, r))

    async def go():
        t1 = asyncio.create_task(waiter("timed", True))
        t2 = asyncio.create_task(waiter("plain", False))
        t3 = asyncio.create_task(waiter("stays", True))
        await asyncio.sleep(0)
        t1.cancel()
        t2.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        n = _waiting(f)
        # cancel, then set() before the cancelled task ran: still cancelled
        t4 = asyncio.create_task(waiter("cancel+set", True))
        t5 = asyncio.create_task(waiter("plain cancel+set", False))
        await asyncio.sleep(0)
        t4.cancel()
        t5.cancel()
        f.set()
        for t in (t1, t2, t3, t4, t5):
            try:
                await t
            except asyncio.CancelledError:
                pass
        f.clear()
        r = await f.wait_ms(10)  # the flag still works: a plain timeout
        return n, r, _waiting(f)

    n, r, left = run_async(go())
    assert sorted(got) == [
        ("cancel+set", "cancelled"),
        ("plain", "cancelled"),
        ("plain cancel+set", "cancelled"),
        ("stays", True),
        ("timed", "cancelled"),
    ]
    assert n == (1 if MICROPYTHON else 0) and r is False and left == 0


def _spin_ms(ms):
    # keep the loop busy (nothing else runs) until ms have passed
    t0 = aio.ticks_ms()
    while aio.ticks_diff(aio.ticks_ms(), t0) < ms:
        pass


def test_deadline_and_set_in_one_turn():
    # the deadline passed but the waiter has not run yet when set() comes: set() wins
    # (it brings the waiter forward); a waiter that already ran at its deadline returns
    # False and a later set() finds nobody, leaving the flag set for the next wait
    f = aio.Flag()
    res = []

    async def waiter():
        res.append(await f.wait_ms(5))

    async def go():
        t = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        _spin_ms(20)  # the deadline passes while nothing else can run
        f.set()
        await t
        f.clear()
        t = asyncio.create_task(waiter())
        await aio.sleep_ms(30)  # the waiter's deadline comes first
        f.set()
        await t
        again = await f.wait_ms(0)
        return again, _waiting(f)

    again, left = run_async(go())
    assert res == [True, False] and again is True and left == 0


def test_timed_waits_make_no_task_or_coroutine():
    # D127: with the heap locked (any allocation raises MemoryError on MicroPython) a
    # task waits 20 times, woken by set() and by its deadline; wait_event's wait_for,
    # which made a Task and 4 coroutines per wait, fails there at once
    f = aio.Flag()
    done = []

    async def setter():
        for _ in range(10):
            await aio.sleep_ms(0)
            f.set()

    async def waits():
        woken = timeouts = 0
        for _ in range(10):
            f.clear()
            if await f.wait_ms(60000):
                woken += 1
        f.clear()
        for _ in range(10):
            if not await f.wait_ms(0):
                timeouts += 1
        return woken * 100 + timeouts  # no tuple: the heap is locked

    async def go():
        s = asyncio.create_task(setter())
        w = waits()  # the test's own coroutine, made before the lock
        if MICROPYTHON:
            import micropython

            micropython.heap_lock()
            try:
                n = await w
            finally:
                micropython.heap_unlock()
        else:
            n = await w
        await s
        ev = asyncio.Event()
        if MICROPYTHON:
            micropython.heap_lock()
            try:
                await aio.wait_event(ev, 0)
            except MemoryError:
                done.append("wait_for allocates")
            finally:
                micropython.heap_unlock()
        return n

    assert run_async(go()) == 1010  # 10 woken by set(), 10 timeouts
    assert done == (["wait_for allocates"] if MICROPYTHON else [])


def test_wait_event_takes_a_flag():
    # an asyncio.Event through wait_for as before; a Flag handed to wait_event gets its
    # own wait_ms (wait_for cannot take it on MicroPython: it is no coroutine)
    f = aio.Flag()
    ev = asyncio.Event()

    async def go():
        r1 = await aio.wait_event(f, 5)
        r2 = await aio.wait_event(ev, 5)
        f.set()
        ev.set()
        return r1, r2, await aio.wait_event(f, 5), await aio.wait_event(ev, 5)

    assert run_async(go()) == (False, False, True, True)


def test_device_waits_are_flags():
    # every event the driver and the links wait on with a timeout is a Flag (D127)
    from firmware.hal.sim800 import Sim800
    from firmware.hal.sim800_gprs import Sim800Stream
    from firmware.tasks.mqtt import MqttUplink

    m = Sim800(None, None)
    up = MqttUplink(None, None, None, randbytes=bytes)  # (no os.urandom on the Cortex-M)
    for f in (m._done, m._wake, m._ready_ev, Sim800Stream(m)._ev, up._wake, up._connack_ev):
        assert isinstance(f, aio.Flag), f
