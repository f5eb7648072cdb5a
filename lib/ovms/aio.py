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


class Mailbox:
    # a small bounded FIFO with an awaitable "not empty" (MicroPython has no
    # asyncio.Queue). When full, put() drops the oldest item and counts it.
    def __init__(self, size):
        self.size = size
        self.items = []
        self.dropped = 0
        self.ev = asyncio.Event()

    def put(self, item):
        if len(self.items) >= self.size:
            self.items.pop(0)
            self.dropped += 1
        self.items.append(item)
        self.ev.set()

    def get_nowait(self):
        # the oldest item, or None
        if not self.items:
            return None
        item = self.items.pop(0)
        if not self.items:
            self.ev.clear()
        return item

    async def get(self):
        while not self.items:
            self.ev.clear()
            await self.ev.wait()
        return self.get_nowait()

    def __len__(self):
        return len(self.items)
