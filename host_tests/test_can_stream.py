# StreamCan (firmware/hal/can_fake.py): the trace read as the bus time advances gives the
# same frames at the same times as FakeCan holding it in RAM (both runtimes).
from support import trace

from firmware.hal.can_fake import FakeCan, StreamCan


def _play(a, until_ms, step_ms=50):
    out = []
    buf = bytearray(8)
    a.start()
    t = 0
    while t <= until_ms:
        a.advance(t)
        while True:
            i = a.recv(buf)
            if i < 0:
                break
            out.append((t, i, bytes(buf[: a.dlc])))
        t += step_ms
    return out


def test_stream_equals_fake_on_two_traces_and_a_loop():
    paths = (trace("End-Chg"), trace("End-Trc"))
    fake = FakeCan(paths, depth=64, feeder=False, loop=True, ids=None)
    span = fake.span_ms
    a = _play(fake, 2 * span + 500)
    b = _play(StreamCan(paths, depth=64, loop=True, ids=None), 2 * span + 500)
    assert len(a) > 300 and a == b
    assert fake.overruns == 0


def test_stream_stops_at_the_given_bus_time_and_filters():
    s = StreamCan(trace("End-Chg"), depth=64, loop=True, stop_after_ms=1000, ids=(0x155,))
    got = _play(s, 5000)
    assert got and all([t <= 1050 and i == 0x155 for t, i, _d in got])
    assert s.next_due_ms() == -1 and s.filtered > 0
