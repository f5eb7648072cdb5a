# FakeCan with the whole Init-Drv recording (2,018 frames held in RAM) into can_rx on the
# virtual clock: the same frames and no overrun on a slow or busy machine. Both runtimes.
# One heavy test per module: on the emulated Cortex-M each module starts with a fresh
# board-sized heap, where the trace's arrays (≈ 30 KB, 16 KB contiguous) always fit.
# Licence: MIT (this project).
from support import FrameRecorder, can_used_in, run_async, trace

from firmware.hal.can_fake import FakeCan
from ovms.twizy.frames import USED_IDS


def test_virtual_clock_replay_into_can_rx():
    # the real Init-Drv trace on the virtual clock, as fast as the machine goes (speed 0:
    # no pacing at all, the worst case for the consumer): every used frame reaches can_rx
    # at its recorded time, none lost through the 32-frame FIFO, whatever the machine's
    # speed or load
    import asyncio
    import gc

    from firmware.simclock import VirtualClock
    from firmware.tasks.can_rx import CanRx

    gc.collect()
    for speed in (0,):
        c = VirtualClock(speed=speed, step_ms=10)
        a = FakeCan(trace("Init-Drv"), loop=False, ids=USED_IDS, clock=c)
        v = FrameRecorder(c)
        rx = CanRx(a, v)

        async def go(c, a, v, rx):
            task = asyncio.create_task(rx.run())
            run = asyncio.create_task(c.run())
            a.start()
            await c.wait_until(1000)
            first_s = len(v.ids)
            while a.next_due_ms() >= 0 or a.pending():
                await c.sleep_ms(100)
            task.cancel()
            run.cancel()
            return first_s

        first_s = run_async(go(c, a, v, rx))
        want = can_used_in("Init-Drv")
        assert want > 500 and len(v.ids) == a.delivered == rx.frames == want
        assert a.overruns == 0 and a.filtered == a.n - want
        assert all([i in USED_IDS for i in v.ids]) and c.unsettled == 0
        # what arrived in the first simulated second is what the file says (+ 1 step)
        assert 100 < first_s < len(v.ids) and v.t[-1] <= a.span_ms + 10
        assert rx.wakeups > 100
