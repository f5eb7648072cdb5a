# The heap board's CAN bus (make heap-report): the real traces as frame files, each frame
# read into one preallocated record as a CAN controller hands it out. Licence: MIT (this
# project). Host tool, both runtimes: tools/heap_report.py writes the files (CPython),
# tools/heap_device.py plays them (the 32-bit unix port; frozen there by
# tools/heap_manifest.py); device code never imports it.
#
# A frame file: 16 bytes a frame: ms since the trace's first frame (u32 LE), id (u16 LE;
# extended ids as 0xFFFF, which the filter rejects), dlc, 0, 8 data bytes.

import struct

from firmware.hal.can_fake import StreamCan, read_trace


def write_frame_file(trace, out):
    # the candump trace `trace` as the frame file `out` -> frames written (malformed lines
    # are skipped, as StreamCan skips them)
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


class FrameFileCan(StreamCan):
    # StreamCan on the frame files tools/heap_report.py made from the traces (16 bytes a
    # frame: ms since the trace's first frame u32 LE, id u16 LE, dlc, 0, 8 data bytes),
    # each read into one preallocated record: no allocation per frame, as a CAN
    # controller's FIFO (the text path makes a line, a tuple and a bytes object per frame:
    # garbage no board makes, and the collections it triggers would be the harness's)
    def __init__(self, paths, **kw):
        self._rec = bytearray(16)
        names = (paths,) if isinstance(paths, str) else paths
        self._files = [open(p, "rb") for p in names]  # noqa: SIM115 (open for the run)
        self._cur = 0  # the file being read (open all the time: no allocation per loop)
        self._base = 0  # bus ms where the current file starts
        self._last = 0  # bus ms of the last frame read
        self._at = -1  # bus ms of the frame read ahead (-1: none); its id, dlc, data:
        self._at_id = 0
        self._at_n = 0  # ... and self._slot
        super().__init__(paths, **kw)

    def _frames(self):  # StreamCan's text path: not used here
        return iter(())

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
        n = rec[6]
        s = self._slot
        for i in range(n):
            s[i] = rec[8 + i]
        self._last = self._at = t
        self._at_id = rec[4] | rec[5] << 8
        self._at_n = n

    def advance(self, now_ms):
        got = 0
        stop = self._stop_ms
        while self._at >= 0:
            if 0 <= stop <= self._at:
                self._at = -1
                break
            if self._at > now_ms:
                break
            self._put(self._at_id, self._at_n, self._slot, 0)
            got += 1
            self._read_ahead()
        return got

    def next_due_ms(self):
        return self._at
