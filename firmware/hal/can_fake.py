# FakeCan: the CAN adapter for the host and the simulation, fed from candump traces.
# Licence: MIT (this project). Interface: can.py. Host only.
#
# The controller (acceptance filter, RX FIFO, overruns) is can_emu.EmuCan; this module
# is the bus played from text traces (D119: the heap board, which plays frame files,
# never imports it):
#   - frames arrive at their recorded relative times (1/speed of them: speed 10 plays a
#     5 s trace in 0.5 s) on the asyncio clock (ovms.aio.ticks_ms);
#   - several traces play back to back (gap_ms between them); with loop=True the whole
#     sequence starts over, the clock shifted by its length plus gap_ms (.loops counts).
# The feeder task started by start() delivers every frame due since its last run and
# sets the flag; advance(ms) does the same synchronously for deterministic tests.
# clock=VirtualClock (firmware/simclock.py): no feeder task; the frames arrive as the
# simulated time advances (EmuCan). The recorded traces have at most 7 used frames in
# any 10 ms (Init-Drv), so the clock's 10 ms steps never overrun a 32-frame FIFO by
# themselves.
# Times are integer ms after scaling; the trace is parsed once at construction
# (host RAM: about 16 bytes per frame).

import asyncio
from array import array

from firmware.hal.can_emu import EmuCan
from ovms.aio import sleep_ms, ticks_diff, ticks_ms
from ovms.compat import const

_MAX_SLEEP_MS = const(50)  # the feeder looks at least this often (start/stop, clock shifts)


class FakeCan(EmuCan):
    def __init__(
        self,
        traces=(),
        speed=1,
        depth=32,
        loop=True,
        gap_ms=10,
        frames=None,
        feeder=True,
        clock=None,
        **kw,
    ):
        # traces: candump -L / CRTD file paths; frames: or a list of (t_us, id, data);
        # feeder=False: no task, the test calls advance() (or inject()) itself
        super().__init__(depth, clock, **kw)
        self.feeder = feeder
        self.speed = speed
        self.loop = loop
        self.gap_ms = gap_ms
        self.loops = 0  # times the sequence started over
        self.sent = []  # frames given to send() when not listen-only
        # the arrays are sized once from an upper bound (the lines of the files, the length
        # of `frames`), not grown by doubling: the whole trace fits a board-sized heap
        # (the emulated Cortex-M's 140 KB) without fragments
        total = _upper_bound(traces, frames)
        t_ms = array("L", range(total))  # range has a length: allocated once
        src_id = array("H", range(total))
        src_dlc = bytearray(total)
        src_data = bytearray(8 * total)
        k = 0
        base = 0  # ms where the current trace starts
        self._bad = [0]
        for item in _sources(traces, frames, self._bad):
            t0 = None
            last = base
            for t_us, can_id, data in item:
                if k == total:  # a file that grew since it was counted
                    break
                if t0 is None:
                    t0 = t_us
                t = base + (t_us - t0) // (1000 * speed)
                t_ms[k] = t
                src_id[k] = can_id if can_id <= 0x7FF else 0xFFFF
                n = len(data)
                src_dlc[k] = n
                src_data[8 * k : 8 * k + n] = data
                k += 1
                last = t
            base = last + gap_ms // speed + 1
        self.n = k
        self.bad_lines = self._bad[0]  # malformed trace lines skipped
        self.span_ms = base  # one pass of the whole sequence, gap included
        self._t = t_ms
        self._id = src_id
        self._dlc = src_dlc
        self._data = src_data
        self._next = 0  # index of the next trace frame to arrive
        self._shift = 0  # ms added to trace times (loops)
        self._task = None

    # ---- interface (EmuCan's, plus the feeder without a VirtualClock) -------------
    def start(self):
        super().start()
        if self.clock is not None:
            return
        self._t0 = ticks_ms()
        if self.feeder and self.n and self._task is None:
            self._task = asyncio.create_task(self._feeder())

    def stop(self):
        super().stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _send(self, can_id, data):
        self.sent.append((can_id, bytes(data)))
        return True

    # ---- the bus -------------------------------------------------------------------
    def advance(self, now_ms):
        # deliver every frame due at or before now_ms (since start()); -> frames arriving
        t = self._t
        n = self.n
        k = self._next
        got = 0
        while n:
            if k == n:
                if not self.loop or t[0] + self._shift + self.span_ms > now_ms:
                    break
                k = 0
                self._shift += self.span_ms
                self.loops += 1
            if t[k] + self._shift > now_ms:
                break
            self._arrive(k)
            k += 1
            got += 1
        self._next = k
        return got

    def next_due_ms(self):
        # ms (since start()) of the next arrival, or -1 when the trace is over
        k = self._next
        if k == self.n:
            if not self.loop or not self.n:
                return -1
            return self._t[0] + self._shift + self.span_ms
        return self._t[k] + self._shift

    def inject(self, can_id, data):
        # one frame arrives on the bus now (tests; allocates: not for the frame path)
        n = len(data)
        self._put(can_id if can_id <= 0x7FF else 0xFFFF, n, bytes(data) + bytes(8 - n), 0)
        if self._count:
            self.kick()

    def _arrive(self, k):
        self._put(self._id[k], self._dlc[k], self._data, k * 8)

    async def _feeder(self):
        while True:
            now = ticks_diff(ticks_ms(), self._t0)
            if self.advance(now) and self._count:
                self.kick()
            due = self.next_due_ms()
            if due < 0:
                self._task = None
                return
            wait = due - ticks_diff(ticks_ms(), self._t0)
            await sleep_ms(1 if wait < 1 else (wait if wait < _MAX_SLEEP_MS else _MAX_SLEEP_MS))


def _sources(traces, frames, bad=None):
    if frames is not None:
        yield frames
    if isinstance(traces, str):
        traces = (traces,)
    for path in traces:
        yield read_trace(path, bad)


CHUNK = 2048  # bytes per read(): a file on mpremote's mount costs a round trip per read


def _upper_bound(traces, frames):
    # frames the sources can hold at most: len(frames) + the lines of every file
    n = len(frames) if frames is not None else 0
    if isinstance(traces, str):
        traces = (traces,)
    for path in traces:
        with open(path) as f:
            while True:
                chunk = f.read(CHUNK)
                if not chunk:
                    break
                n += chunk.count("\n")
        n += 1  # a last line without LF
    return n


def read_trace(path, bad=None):
    # (t_us, id, data) per frame line of a trace file, read in CHUNK-sized pieces; a
    # malformed line (canlog.LogLineError) is skipped and counted in bad[0]
    with open(path) as f:
        tail = ""
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            lines = (tail + chunk).split("\n")
            tail = lines.pop()
            for line in lines:
                r = _parse(line, bad)
                if r is not None:
                    yield r
        if tail:
            r = _parse(tail, bad)
            if r is not None:
                yield r


def _parse(line, bad):
    # ovms.canlog only where text traces are read: the heap board (frame files) has none
    from ovms import canlog

    try:
        return canlog.parse_line(line)
    except canlog.LogLineError:
        if bad is not None:
            bad[0] += 1
        return None


class StreamCan(FakeCan):
    # FakeCan that reads its traces as the bus time advances instead of holding them in
    # RAM (one frame looked ahead): for long host runs in a board-sized heap (make
    # heap-report). Same timing, filter, FIFO and loop rules; `stop_after_ms` ends the
    # bus (the car switched off and silent) at that bus time.
    def __init__(
        self, traces, speed=1, depth=32, loop=True, gap_ms=10, clock=None, stop_after_ms=-1, **kw
    ):
        super().__init__((), speed, depth, loop, gap_ms, None, False, clock, **kw)
        self._paths = (traces,) if isinstance(traces, str) else tuple(traces)
        self._stop_ms = stop_after_ms
        self._slot = bytearray(8)
        self._gen = self._frames()
        self._ahead = None  # (t_ms, id, dlc) of the frame read ahead; data in _slot
        self.n = 1  # something to play (FakeCan's feeder checks it)
        self._read_ahead()

    def _frames(self):
        # every trace in turn, then (loop) again; yields (t_ms on the bus, id, data)
        base = 0
        while True:
            for path in self._paths:
                t0 = None
                last = base
                for t_us, can_id, data in _trace_lines(path, self._bad):
                    if t0 is None:
                        t0 = t_us
                    last = base + (t_us - t0) // (1000 * self.speed)
                    yield last, can_id, data
                base = last + self.gap_ms // self.speed + 1
            if not self.loop:
                return
            self.loops += 1

    def _read_ahead(self):
        try:
            t, can_id, data = next(self._gen)
        except StopIteration:
            self._ahead = None
            return
        n = len(data)
        s = self._slot
        s[:n] = data
        self._ahead = (t, can_id if can_id <= 0x7FF else 0xFFFF, n)

    def advance(self, now_ms):
        got = 0
        stop = self._stop_ms
        while self._ahead is not None:
            t, can_id, n = self._ahead
            if stop >= 0 and t >= stop:
                self._ahead = None
                break
            if t > now_ms:
                break
            self._put(can_id, n, self._slot, 0)
            got += 1
            self._read_ahead()
        return got

    def next_due_ms(self):
        return -1 if self._ahead is None else self._ahead[0]


def _trace_lines(path, bad):
    # StreamCan's reader: one line at a time (small, short-lived allocations only: no
    # chunk buffers that a fragmented board-sized heap could not place)
    with open(path) as f:
        for line in f:
            r = _parse(line, bad)
            if r is not None:
                yield r
