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
    # wait for asyncio.Event `ev` at most `ms` milliseconds: True if it is set
    if ev.is_set():
        return True
    try:
        await asyncio.wait_for(ev.wait(), ms / 1000)
        return True
    except asyncio.TimeoutError:  # noqa: UP041 (MicroPython has no builtin TimeoutError)
        return False


def cancel(task):
    # cancel a task if it is still running; None-safe
    if task is not None:
        try:
            task.cancel()
        except Exception:
            pass
