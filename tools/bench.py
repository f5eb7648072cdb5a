# Benchmark: frames/s through the full decode path and bytes allocated per
# frame and per tick. Runs under the MicroPython unix port and CPython.
# Licence: MIT (this project).
#
#   make bench      (= micropython tools/bench.py; python tools/bench.py)
#
# The frame mix is the six bundled real recordings, decoded from memory
# (parsed once, then replayed round after round into reused 8-byte slots).
# The last line times the replay tool end to end on a log of the same mix
# repeated (streamed from a file: parse, decode, ticks), the rate behind
# `make replay-big` (1,000,000 frames).
import gc
import sys

try:
    import micropython
except ImportError:
    micropython = None

MP = sys.implementation.name == "micropython"
if not MP:
    import os

    _root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.append(os.path.join(_root, "lib"))
    sys.path.append(_root)
    TRACES = os.path.join(_root, "host_tests", "fixtures", "traces")
else:
    _dir = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    _root = _dir.rsplit("/", 1)[0] if "/" in _dir else "."
    TRACES = _root + "/host_tests/fixtures/traces"

import time  # noqa: E402

from ovms.canlog import parse_line  # noqa: E402
from ovms.config import Config  # noqa: E402
from ovms.twizy.vehicle import Twizy  # noqa: E402

USED = (0x155, 0x554, 0x556, 0x557, 0x55E, 0x55F, 0x597, 0x599, 0x59E, 0x5D7, 0x69F)
NAMES = ("Init-Drv", "End-Drv", "Init-Chg", "End-Chg", "Init-Trc", "End-Trc")


def now_us():
    if MP:
        return time.ticks_us()
    return int(time.perf_counter() * 1000000)


def elapsed_us(t0):
    if MP:
        return time.ticks_diff(time.ticks_us(), t0)
    return now_us() - t0


def load():
    ids = []
    slots = []
    dlcs = []
    for name in NAMES:
        with open(TRACES + "/Twizy-Virtual-BMS__Protocol." + name + ".candump.log") as f:
            for line in f:
                rec = parse_line(line)
                if rec is None:
                    continue
                _, can_id, data = rec
                slot = bytearray(8)
                slot[: len(data)] = data
                ids.append(can_id)
                slots.append(slot)
                dlcs.append(len(data))
    return ids, slots, dlcs


def run(frame, ids, slots, dlcs, rounds):
    n = len(ids)
    for _ in range(rounds):
        for k in range(n):
            frame(ids[k], slots[k], dlcs[k])


def ticks(tick, count):
    for _ in range(count):
        tick()


def allocated(fn, *args):
    # bytes allocated while fn runs (unix port: exact heap accounting)
    gc.collect()
    if MP:
        gc.disable()
        a = gc.mem_alloc()
        fn(*args)
        b = gc.mem_alloc()
        gc.enable()
        return b - a
    import tracemalloc

    tracemalloc.start()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main():
    ids, slots, dlcs = load()
    v = Twizy(Config())
    frame = v.frame
    run(frame, ids, slots, dlcs, 1)  # warm up (VIN, tables)
    n = len(ids)
    rounds = 200 if MP else 100
    gc.collect()
    t0 = now_us()
    run(frame, ids, slots, dlcs, rounds)
    us = elapsed_us(t0)
    total = n * rounds
    rate = total * 1000000 // us
    # worst case: only the IDs the module decodes (the hardware filter's output)
    keep = [k for k in range(n) if ids[k] in USED]
    uids = [ids[k] for k in keep]
    uslots = [slots[k] for k in keep]
    udlcs = [dlcs[k] for k in keep]
    gc.collect()
    t0 = now_us()
    run(frame, uids, uslots, udlcs, rounds)
    uus = elapsed_us(t0)
    urate = len(uids) * rounds * 1000000 // uus
    per_frame = allocated(run, frame, ids, slots, dlcs, 10)
    tick_bytes = allocated(ticks, v.tick, 600)
    used = len(uids)
    impl = sys.implementation.name
    print(
        "runtime:        %s %s"
        % (impl, ".".join(["%s" % x for x in sys.implementation.version[:3]]))
    )
    print("frame mix:      %d frames from 6 real traces (%d%% used IDs)" % (n, used * 100 // n))
    print("decode:         %d frames in %d ms = %d frames/s" % (total, us // 1000, rate))
    print("decode (used):  %d frames/s with only the used IDs (after a hardware filter)" % urate)
    print(
        "alloc/frame:    %d bytes (%d bytes over %d frames%s)"
        % (per_frame // (n * 10), per_frame, n * 10, "" if MP else ", tracemalloc peak")
    )
    print("alloc/tick:     %d bytes per 600 ticks" % tick_bytes)
    path = "/tmp/ovms-bench-%d.log" % (now_us() & 0xFFFFFF)
    n_log = write_log(path, ids, slots, dlcs, 20)
    # the decode tables above are a big live heap that slows every garbage
    # collection on the unix port: the replay tool runs without them
    ids = slots = dlcs = uids = uslots = udlcs = keep = None
    log_us = replay_us(path)
    print(
        "replay tool:    %d frames from a file in %d ms = %d frames/s"
        % (n_log, log_us // 1000, n_log * 1000000 // log_us)
    )


def write_log(path, ids, slots, dlcs, rounds):
    # a candump log of `rounds` x the frame mix -> number of frames
    n = len(ids)
    t = 0
    with open(path, "w") as f:
        for _ in range(rounds):
            for k in range(n):
                t += 6452  # 155 frames/s
                data = "".join(["%02X" % b for b in slots[k][: dlcs[k]]])
                f.write("(%d.%06d) can0 %03X#%s\n" % (t // 1000000, t % 1000000, ids[k], data))
    return n * rounds


def replay_us(path):
    # the replay tool streaming the log file -> microseconds
    from tools.replay_io import timeline
    from tools.replay_run import Replayer, build_vehicle

    class Quiet:
        def server_ready(self):
            return True

        def sms_ready(self):
            return True

        def send_server(self, lines):
            pass

        def send_sms(self, text):
            pass

    opts = {"logs": [path], "gps": None, "units": "K", "params": [], "features": []}
    try:
        rp = Replayer(build_vehicle(opts), Quiet())
        gc.collect()
        t0 = now_us()
        for ts, _kind, _seq, a, b in timeline(opts):
            rp.frame(ts, a, b)
        rp.finish(None)
        us = elapsed_us(t0)
    finally:
        import os as _os

        _os.remove(path)
    return us


main()
