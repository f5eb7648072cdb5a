# StreamCan (firmware/hal/can_fake.py): the trace read as the bus time advances gives the
# same frames at the same times as FakeCan holding it in RAM (both runtimes).
from support import trace

from firmware.hal.can_fake import FakeCan, StreamCan


def _play(a, until_ms, step_ms=50):
    # -> (frames, crc32 over every (time, id, data) received): small in a board's heap
    import binascii

    n = 0
    crc = 0
    buf = bytearray(8)
    a.start()
    t = 0
    while t <= until_ms:
        a.advance(t)
        while True:
            i = a.recv(buf)
            if i < 0:
                break
            n += 1
            crc = binascii.crc32(b"%d %d " % (t, i) + bytes(buf[: a.dlc]), crc)
        t += step_ms
    return n, crc


def test_stream_equals_fake_on_two_traces_and_a_loop():
    paths = (trace("End-Chg"), trace("End-Trc"))
    fake = FakeCan(paths, depth=64, feeder=False, loop=True, ids=None)
    span = fake.span_ms
    a = _play(fake, 2 * span + 500)
    b = _play(StreamCan(paths, depth=64, loop=True, ids=None), 2 * span + 500)
    assert a[0] > 300 and a == b
    assert fake.overruns == 0


def test_stream_stops_at_the_given_bus_time_and_filters():
    s = StreamCan(trace("End-Chg"), depth=64, loop=True, stop_after_ms=1000, ids=(0x155,))
    n, _crc = _play(s, 5000)
    assert n > 0 and s.delivered == n
    assert s.next_due_ms() == -1 and s.filtered > 0
    # nothing arrives after the stop time: a run to just past it sees every frame
    n2, _crc = _play(StreamCan(trace("End-Chg"), depth=64, stop_after_ms=1000, ids=(0x155,)), 1050)
    assert n2 == n


def _frame_files(names):
    from support import tmpdir

    from tools.heap_can import write_frame_file

    d = tmpdir("frames")
    out = []
    for name in names:
        p = d + "/" + name + ".frames"
        assert write_frame_file(trace(name), p) > 100
        out.append(p)
    return tuple(out)


def test_frame_files_play_as_the_traces_and_loop():
    # the heap board's CAN (tools/heap_can.py) = StreamCan on the text traces
    from tools.heap_can import FrameFileCan

    names = ("End-Chg", "End-Trc")
    paths = tuple(trace(n) for n in names)
    span = FakeCan(paths, depth=64, feeder=False, loop=True, ids=None).span_ms
    a = _play(StreamCan(paths, depth=64, loop=True, ids=None), 2 * span + 500)
    f = FrameFileCan(_frame_files(names), depth=64, loop=True, ids=None)
    b = _play(f, 2 * span + 500)
    f.close()
    assert a[0] > 300 and a == b
    s = FrameFileCan(_frame_files(("End-Chg",)), depth=64, stop_after_ms=1000, ids=(0x155,))
    n, _crc = _play(s, 5000)
    s.close()
    assert 0 < n == s.delivered and s.next_due_ms() == -1 and s.filtered > 0


def test_frame_files_allocate_nothing_per_frame():
    # a board's CAN controller makes no garbage per frame; neither does the heap board's
    try:
        from micropython import heap_lock, heap_unlock
    except ImportError:
        return  # CPython: nothing to prove
    from support import TMP_ROOT

    if TMP_ROOT[0].startswith("/remote"):  # the emulated Cortex-M: its files are on
        return  # mpremote's mount, where every read is a host round trip that allocates
    from tools.heap_can import FrameFileCan

    s = FrameFileCan(_frame_files(("End-Chg",)), depth=64, loop=True, ids=None)
    buf = bytearray(8)
    s.start()
    n = 0
    heap_lock()
    try:
        for t in range(0, 3000, 50):
            s.advance(t)
            while s.recv(buf) >= 0:
                n += 1
    finally:
        heap_unlock()
        s.close()
    assert n > 100


def test_heap_board_can_imports_no_text_trace_code():
    # D119: the heap board's CAN (tools/heap_can.py) is the controller emulation
    # (firmware/hal/can_emu.py) on frame files; the text traces' code (can_fake.py) and
    # its parser stay off the board, as a board's CAN driver has none
    import sys

    saved = {}
    for name in ("tools.heap_can", "firmware.hal.can_fake", "ovms.canlog"):
        if name in sys.modules:
            saved[name] = sys.modules.pop(name)
    try:
        from tools.heap_can import FrameFileCan

        assert "firmware.hal.can_fake" not in sys.modules
        assert "ovms.canlog" not in sys.modules
        assert FrameFileCan.__init__ is not StreamCan.__init__
    finally:
        for name in ("tools.heap_can", "firmware.hal.can_fake", "ovms.canlog"):
            sys.modules.pop(name, None)
        sys.modules.update(saved)
