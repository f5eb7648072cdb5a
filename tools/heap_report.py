# make heap-report: the memory budget of the whole firmware on a 32-bit MicroPython.
# Licence: MIT (this project). Host tool (CPython).
#
#   python3 -m tools.heap_report --micropython UNIX32_EXE [--heap 64K] [--hours 24]
#       [--can-hours 4.5] [--speed 60] [--sms-every 600]
#
# Runs tools/heap_device.py in the 32-bit unix port (built by `make unix32` with the
# firmware and that harness frozen in, so code costs no heap, as on a board) with a
# board-sized heap: the app with every task, the SIM800 driver talking over loopback
# TCP to the emulator in this process, the OVMS v2 uplink logging in through the
# emulator's GPRS to the test server in this process, the CAN bus streamed from the
# bundled real traces at their real rates for the first CAN_HOURS (the car in use),
# then silent (parked), and an SMS from the owner every SMS_EVERY simulated seconds.
# Simulated time runs SPEED x the wall clock (the virtual clock holds while CAN frames
# wait, so a slow machine only takes longer). Only the device process's heap is
# measured: the emulator and the server run here, in CPython.
#
# Prints heap in use after gc (min / median / max over the simulated minutes), the
# largest free block, MemoryErrors, and ends with one line
#   heap-report: steady <bytes> bytes, peak <bytes> bytes, heap <bytes>, MemoryError <n>
# steady = the median heap in use after gc; peak = the largest of those samples.
# Environment: HEAP_MAP_AT=<simulated s> prints the block map once (micropython.mem_info(1),
# with --verbose 1); HEAP_CENSUS_AT=<simulated s> runs tools/heap_census.py once at that
# time and prints "CENSUS <bytes> <count> <what>" lines: every block of the heap by what it
# is (functions, the modules' globals tables, classes, instances and their attribute
# tables, coroutines, buffers, ...); HEAP_CENSUS_ABOVE=<bytes> runs it at the first
# sample whose heap in use is above that (what a peak is made of). The census allocates
# ≈ 2 bytes per heap block while it runs: give it room (HEAP=512K); what it counts is the
# firmware's, not its own.

import asyncio
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# one folder per run (its process id): two runs at once (a day in the background and a
# short one beside it) each had the other's settings and outbox folder deleted under it
# by _prepare(): ENOENT on every outbox write, then MemoryErrors that were not the
# firmware's (seen once; the run folder is removed at the end of its run)
RUN = os.path.join(ROOT, "build", "heap", "run-%d" % os.getpid())
TRACES = [
    os.path.join(ROOT, "host_tests/fixtures/traces/Twizy-Virtual-BMS__Protocol.%s.candump.log" % n)
    for n in ("Init-Drv", "End-Drv", "Init-Chg", "End-Chg")
]
OWNER = "+4915100000000"
_HEAP = re.compile(r"HEAP t=(\d+) alloc=(\d+) free=(\d+)")
_MAXFREE = re.compile(r"max free sz: (\d+)")
_STAGE = re.compile(r"^STAGE (\S+) (\d+)$")
_LAYOUT = re.compile(r"GC memory layout; from ([0-9a-f]+)")
_TOTAL = re.compile(r"GC: total: (\d+)")
_DONE = re.compile(r"HEAPDONE memory_errors=(\d+) task_errors=(\d+) ticks=(\d+) frames=(\d+)")


def _size(text):
    t = text.upper()
    mult = 1024 if t.endswith("K") else 1024 * 1024 if t.endswith("M") else 1
    return int(t.rstrip("KM")) * mult


def _prepare():
    # a fresh run folder (the device's settings and outbox go to build/heap/run-<pid>/state); the
    # harness itself (tools/heap_device.py) is frozen into the unix32 image
    # (tools/heap_manifest.py), so it costs the measured heap no bytecode
    shutil.rmtree(RUN, ignore_errors=True)
    os.makedirs(os.path.join(RUN, "state"))
    return [_frame_file(p) for p in TRACES]


def _frame_file(trace):
    # the trace as a frame file (tools/heap_can.py): the device reads one frame at a time
    # into a fixed record, as a CAN controller hands them out, instead of parsing text
    # lines (garbage a board does not make)
    from tools.heap_can import write_frame_file

    out = os.path.join(RUN, os.path.basename(trace).split(".")[1] + ".frames")
    write_frame_file(trace, out)
    return out


async def _run(opts):
    from tools.ovms_v2_server import FakeServer
    from tools.sim800emu import Sim800Emu

    emu = Sim800Emu(seed=1)
    emu_port = await emu.start()
    srv = FakeServer({"TWIZYHEAP": "HEAPPASS"})
    await srv.start()
    env = dict(os.environ, MICROPYPATH=".frozen")
    args = [
        opts["micropython"],
        "-X",
        "heapsize=%d" % opts["heap"],
        "-m",
        "heap_device",
        str(emu_port),
        str(srv.port),
        str(opts["hours"]),
        str(opts["can_hours"]),
        str(opts["speed"]),
    ] + opts["frames"]
    proc = await asyncio.create_subprocess_exec(  # its stdin: the DIAG console's, kept open
        *args,
        cwd=RUN,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    samples = []
    stages = []
    maxfree = []
    done = None
    mem_lines = []
    tail = []
    next_sms = opts["sms_every"]
    sms_sent = 0
    pool_bytes = 0
    while True:
        line = await proc.stdout.readline()
        if not line:
            break
        text = line.decode("utf-8", "replace").rstrip()
        tail = (tail + [text])[-40:]
        if opts.get("verbose"):
            sys.stdout.write("| " + text + "\n")
        m = _HEAP.search(text)
        if m:
            t = int(m.group(1))
            samples.append((t, int(m.group(2)), int(m.group(3))))
            if t >= next_sms:  # the owner asks for STAT now and then
                emu.inject_sms(OWNER, "STAT")
                sms_sent += 1
                next_sms = t + opts["sms_every"]
            if t % 3600 < 60:
                sys.stdout.write(
                    "  %5.1f h  heap in use after gc %6d bytes\n" % (t / 3600, samples[-1][1])
                )
                sys.stdout.flush()
            continue
        m = _TOTAL.search(text)
        if m:
            pool_bytes = int(m.group(1))
        m = _LAYOUT.search(text)
        if m:  # the census (HEAP_CENSUS_AT) waits for the heap's address
            with open(os.path.join(RUN, "census.addr"), "w") as f:
                f.write("0x%s %d %d\n" % (m.group(1), pool_bytes, opts["heap"]))
        if text.startswith(("CENSUS", "GCPEAK", "PEAK-CENSUS")):
            sys.stdout.write(text + "\n")
            continue
        m = _STAGE.match(text)
        if m:
            stages.append((m.group(1), int(m.group(2))))
            continue
        m = _MAXFREE.search(text)
        if m:
            maxfree.append(int(m.group(1)) * 16)
            continue
        if "MemoryError" in text:
            mem_lines.append(text)
        m = _DONE.search(text)
        if m:
            done = [int(x) for x in m.groups()]
    rc = await proc.wait()
    await emu.close()
    await srv.close()
    _print_stages(stages)
    return rc, samples, maxfree, done, mem_lines, tail, sms_sent, len(srv.received)


def _print_stages(stages):
    # the start-up breakdown: heap kept by the imports, then by each part as it is made
    if not stages:
        return
    sys.stdout.write("start-up, heap kept after gc:\n")
    for name, n in stages:
        label = {"import": "imports (frozen modules)", "objects-made": "all parts made (total)"}
        sys.stdout.write("  %-28s %6d bytes\n" % (label.get(name, name), n))


def report(opts):
    opts["frames"] = _prepare()
    try:
        rc, samples, maxfree, done, mem_lines, tail, sms_sent, server_lines = asyncio.run(
            _run(opts)
        )
    finally:
        shutil.rmtree(RUN, ignore_errors=True)
    if not samples or done is None:
        sys.stdout.write("the device run did not finish (exit %d); its last lines:\n" % rc)
        sys.stdout.write("\n".join(tail) + "\n")
        allocs = sorted(a for _t, a, _f in samples) or [0]
        errors = len(mem_lines) or int(any(["MemoryError" in t for t in tail]))
        sys.stdout.write(
            "heap-report: steady %d bytes, peak %d bytes, heap %d, MemoryError %d (run ended "
            "after %d simulated minutes)\n"
            % (allocs[len(allocs) // 2], allocs[-1], opts["heap"], errors, len(samples))
        )
        return 1
    allocs = sorted(a for _t, a, _f in samples)
    steady = allocs[len(allocs) // 2]
    peak = allocs[-1]
    mem_errors = done[0] + 0
    sys.stdout.write(
        "heap %d bytes, %d simulated minutes (%.1f h, CAN for the first %.1f h), %d ticks, "
        "%d CAN frames decoded, %d owner SMS, %d server lines\n"
        % (
            opts["heap"],
            len(samples),
            samples[-1][0] / 3600,
            opts["can_hours"],
            done[2],
            done[3],
            sms_sent,
            server_lines,
        )
    )
    sys.stdout.write(
        "heap in use after gc: min %d, median %d, max %d bytes; largest free block: min %d bytes; "
        "task errors %d; MemoryError %d%s\n"
        % (
            allocs[0],
            steady,
            peak,
            min(maxfree) if maxfree else -1,
            done[1],
            mem_errors,
            (" (" + mem_lines[0] + ")") if mem_lines else "",
        )
    )
    sys.stdout.write(
        "heap-report: steady %d bytes, peak %d bytes, heap %d, MemoryError %d\n"
        % (steady, peak, opts["heap"], mem_errors)
    )
    return 0 if rc == 0 and mem_errors == 0 else 1


def main(argv):
    opts = {
        "micropython": None,
        "heap": 65536,
        "hours": 24.0,
        "can_hours": 4.5,
        "speed": 60,
        "sms_every": 600,
        "verbose": 0,
    }
    i = 0
    try:
        while i < len(argv):
            k = argv[i].lstrip("-").replace("-", "_")
            if k not in opts or i + 1 >= len(argv):
                raise ValueError("unknown option or missing value: %s" % argv[i])
            v = argv[i + 1]
            if k == "micropython":
                opts[k] = v
            elif k == "heap":
                opts[k] = _size(v)
            elif k in ("hours", "can_hours"):
                opts[k] = float(v)
            else:
                opts[k] = int(v)
            i += 2
        if not opts["micropython"] or opts["speed"] < 1 or opts["hours"] <= 0:
            raise ValueError("--micropython EXE is required; --speed >= 1; --hours > 0")
    except ValueError as e:
        sys.stderr.write("heap-report: %s\n" % e)
        return 2
    return report(opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
