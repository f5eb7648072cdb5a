# Append-only flash journal: entries with a sequence number and a CRC each, kept in a
# few segment files, bounded in bytes. The storage under lib/ovms/outbox.py.
# Licence: MIT (this project).
#
# Files: <prefix>.<n>, n = 1, 2, 3 ... (a new segment when the current one is full).
# One entry (all ASCII hex, so a file can be read with `cat` on the host):
#
#   <kind 1><seq 8 hex><t 8 hex><len 4 hex><payload: len bytes><crc 8 hex>\n
#
#   kind     one letter: the owner's entry types ("R" record, "P" alert, "F" floor mark)
#   seq      32-bit sequence number (0 for marks)
#   t        32-bit seconds on the board's clock (epoch) when the entry was made
#   crc      CRC-32 of every byte of the entry before it
#
# Crash safety (same spirit as ovms/store.py): entries are only ever appended. A write
# torn at any byte leaves a tail that fails its length or CRC check; the scan stops
# there, so everything before the torn entry survives and only that entry is lost.
# A segment with a bad entry (or a failed write) is never appended to again: the next
# write opens a new segment, so a new entry is never glued behind broken bytes.
# Bounds: the total of all segments stays below max_bytes; when a write would pass
# it, whole oldest segments are deleted (append() and release() return the last
# sequence numbers of what went, so the owner can count them). RAM: entries are
# streamed one at a time, the journal never holds more than one entry in memory.

import binascii
import os
import sys

from ovms import log
from ovms.compat import const
from ovms.units import digits

_HEAD = const(21)  # kind 1 + seq 8 + t 8 + len 4
_TAIL = const(9)  # crc 8 + "\n"
MAX_PAYLOAD = 1024  # bytes; longer payloads are refused by frame()


def frame(kind, seq, t, payload):
    # one entry -> (header, CRC line): its bytes are header + payload + CRC line (D104:
    # written in these three pieces, never joined); payload is bytes (ValueError if
    # too long)
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise ValueError("journal payload too long")
    head = b"%s%08x%08x%04x" % (kind.encode(), seq & 0xFFFFFFFF, t & 0xFFFFFFFF, n)
    return head, b"%08x\n" % (binascii.crc32(payload, binascii.crc32(head)) & 0xFFFFFFFF)


def decode_head(h):
    # 21 header bytes -> (kind, seq, t, length) or None
    if len(h) != _HEAD or not 65 <= h[0] <= 90:
        return None
    try:
        seq = int(h[1:9], 16)
        t = int(h[9:17], 16)
        n = int(h[17:21], 16)
    except ValueError:
        return None
    if n > MAX_PAYLOAD:
        return None
    return chr(h[0]), seq, t, n


def read_entry(f):
    # the next entry of an open file -> (kind, seq, t, payload, size) or None at the end
    # or at the first torn / corrupt entry
    h = f.read(_HEAD)
    if not h:
        return None
    d = decode_head(h)
    if d is None:
        return False
    rest = f.read(d[3] + _TAIL)
    if len(rest) != d[3] + _TAIL or rest[-1] != 10:
        return False
    payload = rest[: d[3]]
    try:
        crc = int(rest[d[3] : d[3] + 8], 16)
    except ValueError:
        return False
    if crc != binascii.crc32(payload, binascii.crc32(h)) & 0xFFFFFFFF:
        return False
    return d[0], d[1], d[2], payload, _HEAD + d[3] + _TAIL


# D106: a segment is a list [n, size, last, broken], not an object of a class: n its
# file number, size the bytes of its good entries, last its newest record's seq (None:
# no record), broken (never append again). No class and attribute table for four values
# (≈ 200 bytes of a board's heap for the two outboxes' journals).
_N = const(0)
_SIZE = const(1)
_LAST = const(2)
_BROKEN = const(3)


class Journal:
    def __init__(self, prefix, seg_bytes, max_bytes, sync=None):
        self.prefix = prefix
        self.seg_bytes = seg_bytes
        self.max_bytes = max_bytes
        self.segs = []  # [n, size, last, broken] per segment file, oldest first (D106)
        self.writes = 0  # file appends (flash wear)
        self.deletes = 0  # segment files removed
        self.torn = 0  # segments found with a torn or corrupt entry at boot
        self.failed = 0  # appends that raised OSError
        self._pos = None  # (segment n, byte offset, next seq) where the last read stopped
        if sync is None:
            sync = sys.implementation.name == "micropython"
        self._sync = sync

    def name(self, n):
        return "%s.%d" % (self.prefix, n)

    # ---- boot ------------------------------------------------------------------
    def scan(self, visit):
        # stream every good entry of every segment, oldest first: visit(kind, seq, t,
        # payload). Builds the segment list. Never raises on bad data.
        self.segs = []
        d, base = _split(self.prefix)
        nums = []
        try:
            names = os.listdir(d or ".")
        except OSError:
            names = []
        for fn in names:
            if fn.startswith(base + "."):
                tail = fn[len(base) + 1 :]
                if digits(tail) and len(tail) < 9:  # ASCII only: "srv.²" is no segment
                    nums.append(int(tail))
        nums.sort()
        for n in nums:
            seg = [n, 0, None, False]
            self.segs.append(seg)
            try:
                with open(self.name(n), "rb") as f:
                    while True:
                        e = read_entry(f)
                        if not e:
                            if e is False:
                                seg[_BROKEN] = True
                                self.torn += 1
                                log.get("journal").warning(
                                    "%s: torn entry at byte %d", self.name(n), seg[_SIZE]
                                )
                            break
                        seg[_SIZE] += e[4]
                        if e[1] and e[0] != "F":
                            seg[_LAST] = e[1]
                        visit(e[0], e[1], e[2], e[3])
            except OSError:
                seg[_BROKEN] = True

    # ---- writing -----------------------------------------------------------------
    def total(self):
        t = 0
        for s in self.segs:
            t += s[_SIZE]
        return t

    def append(self, entries, last):
        # write one batch (a list of entries [kind, seq, t, payload]; last: the newest
        # record seq in it, or None) with one file append, entry after entry, each in three
        # pieces (header, payload, CRC): D104, no encoded copy of an entry and none of the
        # batch (a 64-entry batch was one list of 64 encoded copies, ≈ 6 KB held at once,
        # which a fragmented board heap cannot place; a torn write still loses at most the
        # entry being written). OSError if the write failed (the segment is then never
        # used again). Returns the last seqs of the segments deleted to stay within
        # max_bytes.
        size = 0
        for e in entries:
            size += _HEAD + len(e[3]) + _TAIL
        cur = self.segs[-1] if self.segs else None
        if cur is not None and cur[_BROKEN] and not cur[_SIZE]:
            # the last write failed into a new segment: that (empty or torn) segment goes
            # before the next try, or a flash that keeps failing would add one to the list
            # per retry, for as long as it fails
            self._delete(len(self.segs) - 1)
        if cur is None or cur[_BROKEN] or cur[_SIZE] + size > self.seg_bytes and cur[_SIZE]:
            cur = [cur[_N] + 1 if cur else 1, 0, None, False]
            self.segs.append(cur)
        self.writes += 1
        try:
            with open(self.name(cur[_N]), "ab") as f:
                for e in entries:
                    head, tail = frame(e[0], e[1], e[2], e[3])
                    f.write(head)
                    f.write(e[3])
                    f.write(tail)
            if self._sync and hasattr(os, "sync"):
                os.sync()
        except OSError:
            cur[_BROKEN] = True
            self.failed += 1
            raise
        cur[_SIZE] += size
        if last is not None:
            cur[_LAST] = last
        return self._cap()

    def _cap(self):
        gone = []
        while len(self.segs) > 1 and self.total() > self.max_bytes:
            gone.append(self._delete(0))
        return gone

    def release(self, floor):
        # delete old segments whose records are all below floor (delivered) -> their
        # last seqs
        gone = []
        while len(self.segs) > 1:
            last = self.segs[0][_LAST]
            if last is not None and last >= floor:
                break
            gone.append(self._delete(0))
        return gone

    def clear(self):
        # everything is delivered: remove every segment (the next write starts afresh)
        while self.segs:
            self._delete(0)
        self._pos = None

    def _delete(self, i):
        s = self.segs.pop(i)
        self.deletes += 1
        try:
            os.remove(self.name(s[_N]))
        except OSError:
            pass
        return s[_LAST]

    # ---- reading -------------------------------------------------------------------
    def read(self, seq_from, skip):
        # the oldest record with seq >= seq_from as (kind, seq, t, payload), or None;
        # skip(seq) -> True leaves one out (already acknowledged). D103: one entry per
        # call, so the sender holds one at a time; a read continuing where the last one
        # stopped seeks there instead of reading the segment from its start.
        pos = self._pos
        for s in self.segs:
            if s[_LAST] is None or s[_LAST] < seq_from:
                continue
            start = 0
            if pos is not None and pos[0] == s[_N] and seq_from >= pos[2]:
                start = pos[1]
            try:
                with open(self.name(s[_N]), "rb") as f:
                    if start:
                        f.seek(start)
                    off = start
                    while off < s[_SIZE]:
                        e = read_entry(f)
                        if not e:
                            break
                        off += e[4]
                        if e[0] == "F" or e[1] < seq_from or skip(e[1]):
                            continue
                        self._pos = (s[_N], off, e[1] + 1)
                        return e
            except OSError:
                continue
        self._pos = None
        return None


def _split(path):
    i = path.rfind("/")
    if i < 0:
        return "", path
    return path[:i], path[i + 1 :]
