# FakeCan (firmware/hal/can_fake.py): replay timing, looping, acceptance filter, FIFO
# overruns, the CAN adapter contract, and the replay on the virtual clock (the same frames
# and no overrun on a slow or busy machine; no assertion on wall-clock speed).
# Both runtimes. Licence: MIT (this project).
from support import (
    can_contract,
    can_wakes,
    recv_locked,
    run_async,
    trace,
)

from firmware.hal.can_fake import FakeCan, read_trace
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
        a = FakeCan(feeder=False, loop=False, ids=USED_IDS)
        return a, a.inject

    can_contract(make)


def test_wait_wakes_on_frame():
    async def go():
        a = FakeCan(feeder=False, ids=USED_IDS)
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
    # a real recording with the logger's times: what arrives by 1 s is what the file says
    # (End-Drv: 886 frames, 155 used in the first second; it fits the emulated Cortex-M's
    # heap next to the test, where the 2,018-frame Init-Drv held in RAM does not)
    path = trace("End-Drv")
    t0 = None
    want = 0
    for r in read_trace(path):
        if t0 is None:
            t0 = r[0]
        if r[0] - t0 <= 1_000_000 and r[1] in USED_IDS:
            want += 1
    a = FakeCan(path, feeder=False, loop=False, depth=512, ids=USED_IDS)  # > 1 s of frames
    a.start()
    a.advance(1000)
    assert want > 100 and a.pending() == want
    got = _drain(a)
    assert len(got) == want and all([i in USED_IDS for i in got])


def test_filter_counts_and_accept_all():
    spec = [(0, 0x155), (0, 0x080), (0, 0x196), (0, 0x69F), (0, 0x1FFFFFF)]
    a = FakeCan(frames=_frames(spec), feeder=False, loop=False, ids=USED_IDS)
    a.start()
    a.advance(0)
    assert _drain(a) == [0x155, 0x69F] and a.filtered == 3
    b = FakeCan(frames=_frames(spec), feeder=False, loop=False)  # ids None: accept all
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


def test_read_trace_in_chunks():
    # lines cut by a chunk boundary anywhere, a last line without LF, junk skipped
    from support import rmtree, tmpdir

    from firmware.hal import can_fake

    d = tmpdir("trc")
    path = d + "/t.log"
    text = "(0.000100) can0 155#0797C754\nnot a frame\n\n(0.010000) can0 597#00E4\n"
    text += "(0.020000) can0 69F#F0828737"
    try:
        with open(path, "w") as f:
            f.write(text)
        want = [(100, 0x155, b"\x07\x97\xc7\x54"), (10000, 0x597, b"\x00\xe4")]
        want.append((20000, 0x69F, b"\xf0\x82\x87\x37"))
        saved = can_fake.CHUNK
        try:
            for size in (1, 3, 7, 16, 4096):
                can_fake.CHUNK = size
                bad = [0]
                got = [(t, i, bytes(b)) for t, i, b in read_trace(path, bad)]
                assert got == want and bad == [1], size
                assert can_fake._upper_bound(path, None) >= 3
        finally:
            can_fake.CHUNK = saved
        a = FakeCan(path, feeder=False, loop=False)
        assert a.n == 3 and a.bad_lines == 1
    finally:
        rmtree(d)
