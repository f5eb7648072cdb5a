# The heap board's CAN bus (make heap-report): the real traces as frame files, each frame
# read into one preallocated record as a CAN controller hands it out. Licence: MIT (this
# project). Host tool, both runtimes: tools/heap_report.py writes the files (CPython),
# tools/heap_device.py plays them (the 32-bit unix port; frozen there by
# tools/heap_manifest.py); device code never imports it.
#
# A frame file: 16 bytes a frame: ms since the trace's first frame (u32 LE), id (u16 LE;
# extended ids as 0xFFFF, which the filter rejects), dlc, 0, 8 data bytes.

import struct

from firmware.hal.can_emu import EmuCan


def write_frame_file(trace, out):
    # the candump trace `trace` as the frame file `out` -> frames written (malformed lines
    # are skipped, as StreamCan skips them); CPython (tools/heap_report.py), or a test
    from firmware.hal.can_fake import read_trace

    t0 = None
    n = 0
    with open(out, "wb") as f:
        for t_us, can_id, data in read_trace(trace):
            t0 = t_us if t0 is None else t0
            f.write(
                struct.pack(
                    "<IHBB8s",
                    (t_us - t0) // 1000,
                    can_id if can_id <= 0x7FF else 0xFFFF,
                    len(data),
                    0,
                    bytes(data),
                )
            )
            n += 1
    return n


class FrameFileCan(EmuCan):
    # the controller (can_emu.EmuCan: filter, FIFO, counters) on the frame files
    # tools/heap_report.py made from the traces, each frame read into one preallocated
    # record: no allocation per frame, as a CAN controller's FIFO (the text path makes a
    # line, a tuple and a bytes object per frame: garbage no board makes, and the
    # collections it triggers would be the harness's). Same timing, loop and gap rules
    # as can_fake.StreamCan on the traces; `stop_after_ms` ends the bus (the car switched
    # off and silent) at that bus time. D119: no text-trace code (can_fake) on the board.
    def __init__(
        self, paths, speed=1, depth=32, loop=True, gap_ms=10, clock=None, stop_after_ms=-1, **kw
    ):
        super().__init__(depth, clock, **kw)
        self.speed = speed
        self.loop = loop
        self.gap_ms = gap_ms
        self.loops = 0  # times the sequence started over
        self._stop_ms = stop_after_ms
        self._rec = bytearray(16)  # the frame read ahead (its data: _rec[8:16])
        names = (paths,) if isinstance(paths, str) else paths
        self._files = [open(p, "rb") for p in names]  # noqa: SIM115 (open for the run)
        self._cur = 0  # the file being read (open all the time: no allocation per loop)
        self._base = 0  # bus ms where the current file starts
        self._last = 0  # bus ms of the last frame read
        self._at = -1  # bus ms of the frame read ahead (-1: none)
        self._read_ahead()

    def close(self):
        for f in self._files:
            f.close()

    def _read_ahead(self):
        rec = self._rec
        files = self._files
        while True:
            if self._cur == len(files):
                if not self.loop or not files:
                    self._at = -1
                    return
                for f in files:  # the whole sequence again
                    f.seek(0)
                self._cur = 0
                self.loops += 1
            if files[self._cur].readinto(rec) == 16:
                break
            self._cur += 1  # the next file starts a gap after this one's last frame
            self._base = self._last + self.gap_ms // self.speed + 1
        t = self._base + (rec[0] | rec[1] << 8 | rec[2] << 16 | rec[3] << 24) // self.speed
        self._last = self._at = t

    def advance(self, now_ms):
        got = 0
        stop = self._stop_ms
        rec = self._rec
        while self._at >= 0:
            if 0 <= stop <= self._at:
                self._at = -1
                break
            if self._at > now_ms:
                break
            self._put(rec[4] | rec[5] << 8, rec[6], rec, 8)
            got += 1
            self._read_ahead()
        return got

    def next_due_ms(self):
        return self._at
