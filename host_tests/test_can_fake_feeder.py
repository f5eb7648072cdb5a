# FakeCan with the whole Init-Drv recording on the asyncio clock (the feeder task) into
# can_rx: every used frame is handed over or counted as an overrun; no assertion on
# wall-clock speed. Both runtimes; one heavy test per module (see test_can_fake_trace.py).
# Licence: MIT (this project).
from support import FrameRecorder, can_used_in, run_async, trace, wait_until

from firmware.hal.can_fake import FakeCan
from ovms.twizy.frames import USED_IDS


def test_feeder_on_the_asyncio_clock_accounts_for_every_frame():
    # the feeder task (no virtual clock) at x20 into the default 32-frame FIFO: how many
    # frames a loaded machine loses depends on its speed, so the test asserts only what
    # does not: every used frame is either handed to can_rx or counted as an overrun;
    # the timeout only bounds a hang
    import asyncio

    from firmware.tasks.can_rx import CanRx

    async def go():
        a = FakeCan(trace("Init-Drv"), speed=20, loop=False, ids=USED_IDS)
        v = FrameRecorder()
        rx = CanRx(a, v)
        task = asyncio.create_task(rx.run())
        a.start()
        assert await wait_until(lambda: a.next_due_ms() < 0 and not a.pending(), 30_000)
        task.cancel()
        a.stop()
        return a, v, rx

    a, v, rx = run_async(go())
    assert len(v.ids) == a.delivered == rx.frames > 0
    assert a.delivered + a.overruns == can_used_in("Init-Drv") and a.filtered == a.n - (
        a.delivered + a.overruns
    )
