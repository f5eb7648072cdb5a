# The virtual clock (firmware/simclock.py): sleepers wake at their simulated times in the
# order they went to sleep, a cancelled sleeper is forgotten, and on MicroPython a
# sleeper costs the clock no object of its own (D120). Both runtimes.
import asyncio
import sys

from support import run_async

from firmware.simclock import VirtualClock

_MICROPYTHON = sys.implementation.name == "micropython"


def test_sleepers_wake_in_order_and_a_cancelled_one_is_forgotten():
    c = VirtualClock(speed=0, step_ms=10)
    woke = []
    cancelled = []

    async def sleeper(name, ms):
        try:
            await c.sleep_ms(ms)
        except asyncio.CancelledError:
            cancelled.append((name, c.now))
            raise
        woke.append((name, c.now))

    async def go():
        ts = [asyncio.create_task(sleeper(n, ms)) for n, ms in (("a", 30), ("b", 20), ("c", 30))]
        ts.append(asyncio.create_task(sleeper("d", 0)))
        ts.append(asyncio.create_task(sleeper("e", 30)))
        await asyncio.sleep(0)
        assert len(c._sleepers) == 10  # due, waiter per sleeper
        ts[2].cancel()  # "c"
        await asyncio.sleep(0)
        assert cancelled == [("c", 0)]
        # MicroPython forgets it at once (D120); CPython's Event stays until it is due
        assert len(c._sleepers) == (8 if _MICROPYTHON else 10)
        for _ in range(4):
            c.advance(10)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        return [t.done() for t in ts]

    done = run_async(go())
    assert woke == [("d", 10), ("b", 20), ("a", 30), ("e", 30)]
    assert done == [True] * 5 and c._sleepers == []


def test_micropython_sleeper_has_no_event():
    # D120: on MicroPython a sleeping task is parked on the clock (no asyncio.Event, no
    # [due, Event] list per sleeper: ~80 bytes each in the heap board); CPython keeps
    # an Event per sleeper
    c = VirtualClock(speed=0, step_ms=10)

    async def go():
        ts = [asyncio.create_task(c.sleep_ms(ms)) for ms in (10, 20)]
        await asyncio.sleep(0)
        kinds = [type(w).__name__ for w in c._sleepers[1::2]]
        c.advance(20)
        await asyncio.sleep(0)
        return kinds, [t.done() for t in ts]

    kinds, done = run_async(go())
    if _MICROPYTHON:
        assert kinds == ["Task", "Task"]
    else:
        assert kinds == ["Event", "Event"]
    assert done == [True, True] and c._sleepers == []
