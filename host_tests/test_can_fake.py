# FakeCan (firmware/hal/can_fake.py): replay timing, looping, acceptance filter, FIFO
# overruns, and the CAN adapter contract. Both runtimes. Licence: MIT (this project).
from support import (
    can_contract,
    can_wakes,
    recv_locked,
    run_async,
    trace,
    wait_until,
)

from firmware.hal.can_fake import FakeCan
from ovms.canlog import parse_line
from ovms.twizy.frames import USED_IDS

D8 = b"\x07\x97\xc7\x54\x97\x98\x00\x73"


def _frames(spec):
    # [(ms, id)] -> [(t_us, id, data)], data = the ID's low byte in every byte
    return [(ms * 1000 + 500_000, i, bytes([i & 0xFF] * 8)) for ms, i in spec]


def _drain(a):
    buf = bytearray(8)
    out = []
    while True:
        i = a.recv(buf)
        if i < 0:
            return out
        out.append(i)


def test_contract():
    def make():
        a = FakeCan(feeder=False, loop=False)
        return a, a.inject

    can_contract(make)


def test_wait_wakes_on_frame():
    async def go():
        a = FakeCan(feeder=False)
        a.start()
        return await can_wakes(a, a.inject)

    assert run_async(go())


def test_timing_relative_and_scaled():
    spec = [(0, 0x155), (10, 0x155), (20, 0x597), (1000, 0x5D7)]
    a = FakeCan(frames=_frames(spec), feeder=False, loop=False)
    a.start()
    assert a.advance(0) == 1 and _drain(a) == [0x155]
    assert a.advance(9) == 0
    assert a.advance(20) == 2 and _drain(a) == [0x155, 0x597]
    assert a.next_due_ms() == 1000
    assert a.advance(999) == 0 and a.advance(1000) == 1 and _drain(a) == [0x5D7]
    assert a.next_due_ms() == -1 and a.advance(10**6) == 0
    # speed 10: a tenth of the time
    b = FakeCan(frames=_frames(spec), speed=10, feeder=False, loop=False)
    b.start()
    assert b.advance(1) == 2 and b.advance(99) == 1 and b.advance(100) == 1


def test_real_trace_times():
    # Init-Drv has the logger's real times: what arrives by 1 s is what the file says
    path = trace("Init-Drv")
    t0 = None
    want = 0
    with open(path) as f:
        for line in f:
            r = parse_line(line)
            if r is None:
                continue
            if t0 is None:
                t0 = r[0]
            if r[0] - t0 <= 1_000_000 and r[1] in USED_IDS:
                want += 1
    a = FakeCan(path, feeder=False, loop=False, depth=4096)
    a.start()
    a.advance(1000)
    assert want > 100 and a.pending() == want
    got = _drain(a)
    assert len(got) == want and all([i in USED_IDS for i in got])


def test_filter_counts_and_accept_all():
    spec = [(0, 0x155), (0, 0x080), (0, 0x196), (0, 0x69F), (0, 0x1FFFFFF)]
    a = FakeCan(frames=_frames(spec), feeder=False, loop=False)
    a.start()
    a.advance(0)
    assert _drain(a) == [0x155, 0x69F] and a.filtered == 3
    b = FakeCan(frames=_frames(spec), feeder=False, loop=False, ids=None)
    b.start()
    b.advance(0)
    assert _drain(b) == [0x155, 0x080, 0x196, 0x69F] and b.filtered == 1  # no extended IDs


def test_loop_shifts_clock():
    spec = [(0, 0x155), (100, 0x597)]
    a = FakeCan(frames=_frames(spec), feeder=False, gap_ms=50)
    a.start()
    span = a.span_ms
    assert 150 <= span <= 152
    assert a.advance(100) == 2 and a.loops == 0
    assert a.next_due_ms() == span
    assert a.advance(span - 1) == 0
    assert a.advance(span) == 1 and a.loops == 1
    assert a.advance(span + 100) == 1
    # passes 2..9 complete (8 x 2 frames), pass 10 starts with its first frame
    assert a.advance(10 * span) == 2 * 8 + 1 and a.loops == 10
    assert len(_drain(a)) == 21


def test_overrun_when_consumer_slow():
    spec = [(0, 0x155)] * 10 + [(5, 0x597)]
    a = FakeCan(frames=_frames(spec), feeder=False, loop=False, depth=4)
    a.start()
    a.advance(0)
    assert a.pending() == 4 and a.overruns == 6 and a.delivered == 4
    buf = bytearray(8)
    assert a.recv(buf) == 0x155 and a.pending() == 3
    a.advance(5)  # room for one more: it arrives behind the older ones
    assert _drain(a) == [0x155, 0x155, 0x155, 0x597]
    assert a.overruns == 6 and a.counters()["overruns"] == 6


def test_recv_slot_data_and_no_alloc():
    a = FakeCan(frames=[(0, 0x155, D8), (0, 0x597, b"\x00\xe4")], feeder=False, loop=False)
    a.start()
    a.advance(0)
    buf = bytearray(b"\xff" * 8)
    assert recv_locked(a, buf) == 0x155 and bytes(buf) == D8 and a.dlc == 8
    assert recv_locked(a, buf) == 0x597 and a.dlc == 2 and buf[:2] == b"\x00\xe4"
    assert recv_locked(a, buf) == -1


def test_feeder_real_time_into_can_rx():
    # the feeder task delivers a real trace at x20 on the asyncio clock; can_rx drains it
    from firmware.tasks.can_rx import CanRx
    from ovms.aio import sleep_ms, ticks_diff, ticks_ms

    class Rec:
        def __init__(self):
            self.ids = []
            self.t = []

        def frame(self, can_id, data, dlc):
            self.ids.append(can_id)
            self.t.append(ticks_ms())

    async def go():
        import asyncio

        a = FakeCan(trace("Init-Drv"), speed=20, loop=False)
        v = Rec()
        rx = CanRx(a, v)
        task = asyncio.create_task(rx.run())
        t0 = ticks_ms()
        a.start()
        await sleep_ms(100)
        half = len(v.ids)
        assert await wait_until(lambda: a.next_due_ms() < 0 and not a.pending(), 2000)
        await sleep_ms(20)
        took = ticks_diff(ticks_ms(), t0)
        task.cancel()
        a.stop()
        return a, v, rx, half, took

    a, v, rx, half, took = run_async(go())
    # the 5 s trace at x20 takes about 250 ms, and arrives spread over that time
    assert 200 <= took <= 1500
    assert 0 < half < len(v.ids)
    assert len(v.ids) == a.delivered == rx.frames and a.overruns == 0
    assert all([i in USED_IDS for i in v.ids])
    assert rx.wakeups > 5
