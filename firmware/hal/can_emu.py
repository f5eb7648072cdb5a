# EmuCan: an emulated CAN controller (RX FIFO, acceptance filter, counters) for the host
# and heap boards. Licence: MIT (this project). Interface: can.py. Host only.
#
# What a board's controller does, and no more: only IDs in `ids` pass (the acceptance
# filter; None = accept all), the rest are counted in .filtered; nothing is received
# before start(); received frames wait in a bounded RX FIFO of `depth` frames; a frame
# arriving at a full FIFO is lost and counted in .overruns (the consumer was too slow).
# Where the frames come from is a subclass's job: advance(now_ms) puts every frame due
# by then (ms since start()) into the FIFO through _put() and returns how many arrived;
# next_due_ms() is the next arrival (-1: none). can_fake.FakeCan / StreamCan play text
# traces (host board, tests), tools/heap_can.FrameFileCan frame files (the heap board).
# D119: the text traces' code lives in can_fake.py, not here: the heap board imports
# only this module, as a board imports only its controller's driver.
#
# clock=VirtualClock (firmware/simclock.py): the frames arrive as the simulated time
# advances, and the clock does not advance while frames wait in the FIFO (the consumer
# is served first): a replay gives the same result on a slow or busy machine.

from array import array

from firmware.hal.can import CANAdapter, EventFlag


class EmuCan(CANAdapter):
    FLAG = EventFlag  # set from a task, not an IRQ (see can.EventFlag)

    def __init__(self, depth=32, clock=None, **kw):
        super().__init__(**kw)
        self.clock = clock  # a VirtualClock, or None: a subclass paces the bus itself
        self.depth = depth
        self.filtered = 0  # frames the acceptance filter rejected
        self.delivered = 0  # frames that reached the FIFO
        # the RX FIFO: a ring of `depth` preallocated slots
        self._f_id = array("H", [0] * depth)
        self._f_dlc = bytearray(depth)
        self._f_data = bytearray(8 * depth)
        self._head = 0  # oldest waiting frame
        self._count = 0
        # acceptance filter: one bit per 11-bit ID, 256 bytes (extended IDs map to
        # 0xFFFF: rejected)
        self._accept = bytearray(0x100)
        self._t0 = 0  # clock ms at start(): bus times count from there

    def start(self):
        acc = self._accept
        if self.ids is None:
            for i in range(0x100):
                acc[i] = 0xFF
        else:
            for i in self.ids:
                acc[i >> 3] |= 1 << (i & 7)
        self.started = True
        if self.clock is not None:
            self._t0 = self.clock.ticks_ms()
            self.clock.on_step(self._step)
            self.clock.busy(self.pending)

    def stop(self):
        self.started = False

    def recv(self, buf):
        if not self._count:
            return -1
        h = self._head
        can_id = self._f_id[h]
        n = self._f_dlc[h]
        d = self._f_data
        o = h * 8
        for i in range(n):
            buf[i] = d[o + i]
        self.dlc = n
        h += 1
        if h == self.depth:
            h = 0
        self._head = h
        self._count -= 1
        self.frames += 1
        return can_id

    def pending(self):
        return self._count

    def _put(self, can_id, n, src, o):
        # one frame on the bus: id (0xFFFF: extended), n data bytes at src[o:o + 8]
        if can_id > 0x7FF or not self._accept[can_id >> 3] & (1 << (can_id & 7)):
            self.filtered += 1
            return
        if self._count == self.depth:
            self.overruns += 1  # FIFO full: the frame is lost
            return
        slot = self._head + self._count
        if slot >= self.depth:
            slot -= self.depth
        self._f_id[slot] = can_id
        self._f_dlc[slot] = n
        dst = self._f_data
        p = slot * 8
        for i in range(8):
            dst[p + i] = src[o + i]
        self._count += 1
        self.delivered += 1

    def _step(self, now):
        # VirtualClock hook: the bus up to the simulated now
        if self.started and self.advance(now - self._t0) and self._count:
            self.kick()
