# One bounded, durable outbox per channel (server records and alerts; SMS alerts).
# Licence: MIT (this project).
#
#   ob = Outbox("/flash/outbox/srv", clock_s, max_bytes=32768)   # path None: RAM only
#   ob.put("R", "MP-0 HRT-GPS-Log,...")   # a record; "P" an alert (written at once)
#   e = ob.next_entry()                   # (seq, t, kind, text), oldest first; None
#   ob.ack(seq)                           # delivered: leaves the outbox
#   ob.rewind()                           # link lost: unacknowledged entries go again
#   ob.maybe_flush()                      # once a second: the batched flash write
#
# Entries carry the time they were made (clock_s(): seconds on the board's clock) and
# are frozen then: an alert's text is the text of the moment of the event.
# An entry leaves only when acknowledged (at-least-once; a duplicate only after a lost
# acknowledgement or a reboot between delivery and the next flush).
#
# One overflow rule for everything: when the outbox is full (max_bytes of journal, or
# ram_max entries waiting for a write that keeps failing) the OLDEST entries are
# dropped, counted in .dropped and in .unreported (take_unreported() hands the latter
# to whoever reports it: uplink diag_text and the *-OVM-OutboxLost record, D44).
#
# Flash (lib/ovms/journal.py): new entries wait in RAM and are appended in one write at
# most every flush_s (60 s), at once for an alert ("P"/"T", urgent) or when ram_flush
# entries (or _RAM_FLUSH_BYTES of payload) wait. An entry acknowledged before its flush
# is never written at all; the "floor" (every seq below it delivered) is written as a
# mark with the next batch, and only when the floor passed entries that are on flash. So
# an online module with a server that acknowledges writes next to nothing; an offline one
# writes one batch a minute, or one per 8 entries when the car makes more, plus one per
# alert, and a segment file is removed when all its records are delivered. ram_max
# entries wait in RAM at most, only while the flash writes keep failing (then the oldest
# go, counted).
# D131: a RAM entry costs ~80 bytes of heap beside its payload (its list, the list's
# items, the bytes object, a boxed time: epoch seconds pass 2^30), so 18 records of a
# minute before the login held 2.6 KB: the largest transient of a 64 KB board (measured
# on the heap board at the send peak). A write per 8 entries (~1 KB held at most) instead
# of per 64; offline with a busy car that is ~2 writes a minute, the same bytes on flash.
#
# D40: record times are the board clock's seconds (time.time(): the RTC, which keeps
# running across soft and watchdog resets). If at boot the clock is behind the newest
# journal entry (RTC lost with the power), the old entries are shifted so the newest
# is "now": their order and spacing stay right, their absolute time cannot be known.

from ovms import log
from ovms.compat import const
from ovms.compat import text as _text  # bytes -> str, never raising (D91)
from ovms.journal import MAX_PAYLOAD, Journal

_RAM_MAX = const(64)  # entries held in RAM: a RAM-only outbox, or while the flash writes fail
_RAM_FLUSH = const(8)  # entries waiting that start a flash write (D131)
_RAM_FLUSH_BYTES = const(640)  # ... or that many payload bytes
_FLUSH_S = const(60)  # seconds between batched writes
_URGENT = const("PT")  # alert kinds: written at once


class Outbox:
    def __init__(self, path, clock_s, max_bytes=32768, flush_s=_FLUSH_S, ram_max=_RAM_MAX,
                 ram_flush=_RAM_FLUSH, ram_flush_bytes=_RAM_FLUSH_BYTES):  # fmt: skip
        self.clock_s = clock_s
        self.flush_s = flush_s
        self.ram_max = ram_max
        self.ram_flush = ram_flush if ram_flush < ram_max else ram_max
        self.ram_flush_bytes = ram_flush_bytes
        self.j = None
        if path is not None:
            seg = max_bytes // 4
            self.j = Journal(path, seg if seg > 2048 else 2048, max_bytes)
        self.floor = 1  # every seq below is delivered (or dropped)
        self.next_seq = 1
        self.dropped = 0  # entries dropped by the overflow rule, in total
        self.unreported = 0  # ... of which not yet reported
        self.refused = 0  # put() of an entry too long for the journal
        self.bad_acks = 0  # acknowledgements of nothing we sent
        self._acked = []  # acknowledged seqs above the floor (out of order), small
        self._ram = []  # [kind, seq, t, payload bytes] not yet on flash, oldest first
        self._cursor = 1  # next seq next_batch() hands out
        self._last_flush = int(clock_s())
        self._marked = 0  # floor of the last mark on flash
        self._on_flash = 0  # highest seq written to flash
        self._shift = None  # D40: (first seq of this boot, seconds added to the time of
        # the entries before it), when the clock was behind the journal at boot
        if self.j is not None:
            self._boot()

    # ---- boot ------------------------------------------------------------------------
    def _boot(self):
        st = [0, 0]  # newest time, highest seq

        def visit(kind, seq, t, payload):
            if kind == "F":
                p = payload.split(b",")
                try:
                    f = int(p[0])
                    if f > self.floor:
                        self.floor = f
                    self.dropped = int(p[1])
                    self.unreported = int(p[2])
                except (ValueError, IndexError):
                    pass
                return
            if seq > st[1]:
                st[1] = seq
            if t > st[0]:
                st[0] = t

        self.j.scan(visit)
        self.next_seq = max(self.floor, st[1] + 1)
        self._marked = self.floor
        self._on_flash = st[1]
        self._cursor = self.floor
        now = int(self.clock_s())
        if st[0] > now:
            self._shift = (self.next_seq, now - st[0])
            log.get("outbox").warning(
                "clock is %d s behind the journal: times shifted", st[0] - now
            )
        self._release()

    # ---- the producer side ---------------------------------------------------------------
    def put(self, kind, text):
        # queue one entry -> True (accepted: it will be delivered, or counted as
        # dropped), False (refused: longer than the journal takes)
        payload = text.encode()
        if len(payload) > MAX_PAYLOAD:
            self.refused += 1
            return False
        seq = self.next_seq
        self.next_seq += 1
        ram = self._ram
        ram.append([kind, seq, int(self.clock_s()), payload])
        if (
            kind in _URGENT
            or len(ram) >= self.ram_flush
            or self._ram_bytes() >= self.ram_flush_bytes
        ):
            self.flush()  # an alert at once; records when enough wait (D131)
        if len(self._ram) > self.ram_max:  # the flash write keeps failing
            self._drop_ram(len(self._ram) - self.ram_max)
        return True

    def _ram_bytes(self):
        n = 0
        for e in self._ram:
            n += len(e[3])
        return n

    def queued(self):
        # entries not yet delivered
        return self.next_seq - self.floor - len(self._acked)

    def take_unreported(self):
        n = self.unreported
        self.unreported = 0
        return n

    # ---- the sender side -----------------------------------------------------------------
    def rewind(self):
        # the link was lost: everything not acknowledged goes again
        self._cursor = self.floor

    def next_entry(self):
        # the next entry not handed out since the last rewind, oldest first:
        # (seq, t, kind, text), or None. D103: one at a time (a batch of 8 held the
        # journal's payloads, their texts and the caller's lines all at once)
        if self._cursor < self.floor:
            self._cursor = self.floor
        ram_first = self._ram[0][1] if self._ram else self.next_seq
        if self.j is not None and self._cursor < ram_first:
            e = self.j.read(self._cursor, self._is_acked)
            if e is not None and e[1] < ram_first:
                self._lost(self._cursor, e[1])
                self._cursor = e[1] + 1
                sh = self._shift
                t = e[2] + sh[1] if sh is not None and e[1] < sh[0] else e[2]
                return e[1], t, e[0], _text(e[3])
            self._lost(self._cursor, ram_first)  # unreadable on flash (corrupt)
            self._cursor = ram_first
        for e in self._ram:
            if e[1] < self._cursor or self._is_acked(e[1]):
                continue
            self._cursor = e[1] + 1
            return e[1], e[2], e[0], _text(e[3])
        return None

    def next_batch(self, n):
        # up to n entries of next_entry() -> [(seq, t, kind, text)] (the MQTT sender)
        out = []
        while len(out) < n:
            e = self.next_entry()
            if e is None:
                break
            out.append(e)
        return out

    def _lost(self, lo, hi):
        # seqs lo..hi-1 were not readable from flash: counted as dropped, never sent
        for seq in range(lo, hi):
            if not self._is_acked(seq):
                self._overflow(1)
                self._acked.append(seq)
        self._advance()

    def _is_acked(self, seq):
        return seq < self.floor or seq in self._acked

    def ack(self, seq):
        # seq was delivered -> True; False (counted) if it is nothing outstanding
        if seq < self.floor or seq >= self.next_seq or seq >= self._cursor:
            self.bad_acks += 1
            return False
        if seq in self._acked:
            return True
        self._acked.append(seq)
        self._advance()
        return True

    # ---- flash ---------------------------------------------------------------------------
    def maybe_flush(self):
        # call about once a second: writes when a batch is due
        if self.j is None:
            return
        now = self.clock_s()
        if (self._ram or self._mark_due()) and now - self._last_flush >= self.flush_s:
            self.flush()

    def _mark_due(self):
        return self.floor > self._marked and self._marked <= self._on_flash

    def flush(self):
        # write what waits in RAM (and the floor mark) now; False if the write failed
        self._last_flush = int(self.clock_s())
        if self.j is None:
            return True
        keep = [e for e in self._ram if not self._is_acked(e[1])]
        mark = self._mark_due()
        if not keep and mark and self.floor == self.next_seq:
            # all delivered: the files go; a new mark only to keep the drop counters
            self.j.clear()
            self._marked = self.floor
            mark = self.dropped > 0
        if not keep and not mark:
            self._ram = []
            return True
        last = keep[-1][1] if keep else None
        counters = b"%d,%d,%d" % (self.floor, self.dropped, self.unreported)
        keep.insert(0, ("F", 0, self._last_flush, counters))  # the floor mark first
        try:
            gone = self.j.append(keep, last)
        except OSError as e:
            log.get("outbox").error("outbox write failed: %s", e)
            return False
        self._ram = []
        self._marked = self.floor
        if last is not None:
            self._on_flash = last
        self._count_gone(gone)
        self._release()
        return True

    def _release(self):
        self._count_gone(self.j.release(self.floor))

    def _count_gone(self, lasts):
        # segments deleted to stay within max_bytes (their last seqs): their undelivered
        # records dropped
        for last in lasts:
            if last is not None and last >= self.floor:
                self._drop_upto(last)

    def _drop_ram(self, n):
        # the flash write keeps failing: drop the oldest (flash ones first, they are older)
        self._drop_upto(self._ram[n - 1][1])

    def _drop_upto(self, seq):
        # every undelivered entry up to seq is dropped and counted; the floor passes it
        n = seq + 1 - self.floor
        keep = []
        for a in self._acked:
            if a <= seq:
                n -= 1
            else:
                keep.append(a)
        self._acked = keep
        self._overflow(n)
        self.floor = seq + 1
        self._advance()

    def _advance(self):
        while self.floor in self._acked:
            self._acked.remove(self.floor)
            self.floor += 1
        ram = self._ram
        while ram and ram[0][1] < self.floor:
            ram.pop(0)
        if self._cursor < self.floor:
            self._cursor = self.floor

    def _overflow(self, n):
        if n <= 0:
            return
        self.dropped += n
        self.unreported += n
        log.get("outbox").warning(
            "outbox full: %d oldest entries dropped (%d in total)", n, self.dropped
        )

    def stats(self):
        j = self.j
        return "q=%d drop=%d bytes=%d writes=%d" % (
            self.queued(),
            self.dropped,
            j.total() if j else 0,
            j.writes if j else 0,
        )
