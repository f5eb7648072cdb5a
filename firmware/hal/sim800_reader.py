# SIM800 line reader: bytes from the UART -> lines, the "> " prompt, counted payloads.
# Licence: MIT (this project).
#
# LineReader is a mixin of firmware.hal.sim800.Sim800. One task (_reader) reads
# into a preallocated 256-byte chunk buffer and collects a line in a
# preallocated 1 KB line buffer: no "buf + chunk" per read, so the read path
# makes no big transient buffers on a 100 KB-heap board (a decoded line is the
# only allocation, and a TCP payload handed to the stream). Payloads without LF
# (+CIPRXGET: 2,got,left then `got` bytes; "+IPD,n:" then n bytes) are cut by
# their byte count. _line() classifies (lib/ovms/at.py) and routes a line: URC,
# the running command's reply, or a stray (D: anything after a final result).

from firmware.hal.sim800_at import FAIL_FINALS, MAX_LINES
from ovms import at
from ovms.compat import const

_RX_CHUNK = const(256)  # bytes per UART read (preallocated)
MAX_LINE = 1024  # line buffer (preallocated); a longer line is dropped, counted
_IPD = b"+IPD,"


def _ipd_len(buf, n):
    # "+IPD,12" or "+IPD,0,12" in buf[0:n] -> 12, or -1 (no allocation)
    v = -1
    i = n - 1
    mul = 1
    while i >= 5 and buf[i] != 0x2C:
        c = buf[i]
        if c < 48 or c > 57:
            return -1
        v = (0 if v < 0 else v) + (c - 48) * mul
        mul *= 10
        i -= 1
    return v


class LineReader:
    def _reader_init(self):
        # preallocated buffers (issue 7: no big transient buffers)
        self._rxbuf = bytearray(_RX_CHUNK)  # (its view: the reader task's own, D127)
        self._lmv = memoryview(bytearray(MAX_LINE))  # the line buffer, only as a view
        self._llen = 0  # bytes of the current line in it; -1: the current line
        # overflowed, drop it up to its LF
        self._ipd = False  # the current line so far reads "+IPD,"...
        self._need = 0  # binary payload bytes still to come
        self._to_stream = False  # that payload belongs to the TCP stream
        self._cmt = None  # +CMT header seen: (sender, ts); the text is the next line
        self._dead = False  # the port itself ended (host: emulator gone)

    async def _reader(self):
        # runs until the port ends; an exception here is a bug and ends the task
        r = self._r
        into = getattr(r, "readinto", None)
        rx = self._rxbuf
        mv = memoryview(rx)
        while True:
            try:
                if into is not None:
                    n = await into(mv)
                else:  # CPython's StreamReader has no readinto
                    chunk = await r.read(_RX_CHUNK)
                    n = len(chunk)
                    rx[:n] = chunk
            except OSError:
                n = 0
            if n is None:
                continue
            if not n:
                self._dead = True
                self._finish("PORT")
                self._wake.set()
                return
            self._feed(n, mv)

    def _split(self, data):
        # feed bytes from elsewhere (tests, fuzz) through the chunk buffer;
        # everything is consumed (a partial line waits in the line buffer)
        mv = memoryview(data)
        rv = memoryview(self._rxbuf)
        i = 0
        while i < len(data):
            k = len(data) - i
            if k > _RX_CHUNK:
                k = _RX_CHUNK
            self._rxbuf[:k] = mv[i : i + k]
            self._feed(k, rv)
            i += k
        return b""

    def _feed(self, n, mv=None):
        # split _rxbuf[0:n] into prompt, payloads and lines (collected in _lmv); mv: a
        # view of _rxbuf (the reader's; made here when none is given)
        b = self._rxbuf
        if mv is None:
            mv = memoryview(b)
        lb = self._lmv
        i = 0
        while i < n:
            if self._need:
                take = self._need if self._need < n - i else n - i
                self._payload(mv[i : i + take], take == self._need)
                i += take
                self._need -= take
                continue
            ll = self._llen
            if ll < 0:  # drop the rest of an over-long line
                j = b.find(b"\n", i, n)
                if j < 0:
                    return
                i = j + 1
                self._llen = 0
                continue
            c = b[i]
            if ll == 0:
                if c == 13 or c == 10 or c == 0:
                    i += 1
                    continue
                if c == 0x3E and self._want_prompt and self._active and self._final is None:
                    i += 1  # "> ": the modem waits for the payload
                    if i < n and b[i] == 0x20:
                        i += 1
                    self._want_prompt = False
                    self._finish("PROMPT")
                    continue
            if ll < 5 or self._ipd:
                # byte by byte while the line may be a "+IPD,n:" header (no LF)
                i += 1
                if c == 10:
                    self._end_line()
                    continue
                if ll < 5:
                    self._ipd = c == _IPD[ll] and (ll == 0 or self._ipd)
                elif c == 0x3A:  # ":" ends the header: n payload bytes follow
                    k = _ipd_len(lb, ll)
                    self._llen = 0
                    self._ipd = False
                    if k > 0:
                        self._need = k
                        self._to_stream = True
                    continue
                elif ll > 16:
                    self._ipd = False  # too long for a header: an ordinary line
                lb[ll] = c
                self._llen = ll + 1
                continue
            j = b.find(b"\n", i, n)
            end = n if j < 0 else j
            k = end - i
            if ll + k > MAX_LINE:
                self.counters["stray"] += 1
                self._llen = -1 if j < 0 else 0
                self._ipd = False
                i = n if j < 0 else j + 1
                continue
            lb[ll : ll + k] = mv[i:end]
            self._llen = ll + k
            i = end
            if j >= 0:
                i += 1
                self._end_line()

    def _end_line(self):
        ll = self._llen
        self._llen = 0
        self._ipd = False
        self.progress += 1
        if ll:
            self._line(at.decode(self._lmv[:ll]))

    def _payload(self, data, last=True):
        # one piece of a counted payload; a payload nobody waits for is one stray,
        # counted at its last piece however the UART cut it
        s = self._stream
        if self._to_stream and s is not None:
            s._feed(data)
        elif last:
            self.counters["stray"] += 1

    def _line(self, line):
        if not line:
            return
        if self._cmt is not None:  # text line of a +CMT
            self._direct_line(line)
            return
        busy = self._active and self._final is None  # a command waits for its reply
        if line.startswith("+CIPRXGET: 2,"):
            # the payload follows without LF; its byte count is honoured even
            # for a late reply (then the bytes are dropped as stray)
            got, left = at.parse_rxget2(line)
            mine = self._rxget and busy
            if mine:
                self._rx_left = left if left > 0 else 0
            if got > 0:
                self._need = got
                self._to_stream = mine
            return
        kind, tag, arg = at.classify(line, self._expect)
        if kind == at.URC:
            self._urc(tag, arg, line)
            return
        if not busy:  # D: no command waits, or its reply already ended
            self.counters["stray"] += 1
            if line.startswith("+CMGS:"):
                self.late_cmgs = True
            return
        if kind == at.DATA:
            if line == self._echo:
                return
            if self._mark is not None:
                if line == self._mark:
                    self._mark = None  # the sync's own reply: its final follows
                else:
                    self.counters["stray"] += 1
                    if line.startswith("+CMGS:"):
                        self.late_cmgs = True
                return
            if "IP" in self._until and at.looks_like_ip(line):
                self._lines.append(line)
                self._finish("IP")
                return
            if len(self._lines) < MAX_LINES:
                self._lines.append(line)
            else:
                self.truncated = True
        elif kind == at.FINAL:
            if self._mark is not None:  # a late final of an older command
                self.counters["stray"] += 1
                return
            # success finals of this command, generic errors and the fail
            # finals end it; an OK before CONNECT OK (CIPSTART) or a stray
            # SHUT OK / CLOSE OK does not
            if tag in self._until or at.is_error(tag) or tag in FAIL_FINALS:
                self._finish(tag, arg)
        elif kind == at.PROMPT and self._want_prompt:
            self._want_prompt = False
            self._finish("PROMPT")
