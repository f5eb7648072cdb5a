# SIM800 GPRS room: bring-up and the single TCP connection as a byte stream.
# Licence: MIT (this project).
#
# GprsRoom is a mixin of firmware.hal.sim800.Sim800. One TCP connection
# (CIPMUX=0) in manual receive mode (CIPRXGET=1): the reader hands counted
# payloads to the stream (Sim800Stream._feed), the stream asks for data with
# AT+CIPRXGET=2,n when +CIPRXGET: 1 said some waits (or every rx_poll ms).
# Interface: see firmware/hal/stream.py (read/readexactly/readline/write/
# drain/close). read() returns b"" after CLOSED, raises OSError after a PDP
# loss or a modem reset.

import asyncio

from firmware.hal.sim800_at import ModemError, ModemReset, ModemTimeout
from firmware.hal.stream import StreamBase
from ovms.aio import Flag
from ovms.compat import const

_TCP_CHUNK = const(1460)  # bytes per CIPSEND / CIPRXGET
_WRITE_MAX = const(128)  # bytes per write of a CIPSEND payload to the port (D107)


class GprsRoom:
    def _gprs_init(self):
        self._gprs_lock = asyncio.Lock()
        self.ip = ""
        self.gprs_up = False
        self._cifsr_stuck = False
        self._stream = None

    async def open_tcp(self, host, port):
        # GPRS up (if needed), then one TCP connection (CIPMUX=0) as a stream.
        # An ERROR to CIPSTART (context gone, a link the modem still holds)
        # gets one full bring-up (starting with CIPSHUT) and a second try.
        if self._stream is not None:
            await self._stream.close()
        if not await self.wait_ready(self.t_ms["AT+CIICR"]):
            raise ModemError("CIPSTART", "not ready")
        tries = 0
        while True:
            tries += 1
            await self._gprs_bringup()
            s = Sim800Stream(self)
            self._stream = s
            try:
                await self.cmd(
                    'AT+CIPSTART="TCP","%s","%d"' % (host, port),
                    until=("CONNECT OK", "ALREADY CONNECT"),
                )
                return s
            except ModemError as e:
                s.dropped = True
                s.closed = True
                if self._stream is s:
                    self._stream = None
                if isinstance(e, ModemReset) or e.final == "CONNECT FAIL":
                    raise
                self.gprs_up = False  # full bring-up next time
                if tries >= 2:
                    raise

    async def _gprs_bringup(self):
        async with self._gprs_lock:
            if self.gprs_up:
                return
            await self.cmd("AT+CIPSHUT", until=("SHUT OK",), tries=3)
            await self.cmd("AT+CIPMUX=0", tries=3)
            await self.cmd("AT+CIPRXGET=1", tries=3)
            await self.cmd("AT+CGATT=1", tries=3)
            await self.cmd('AT+CSTT="%s","%s","%s"' % self._cstt, tries=3)
            await self.cmd("AT+CIICR", tries=3)
            try:
                lines = await self.cmd("AT+CIFSR", ip=True, tries=3)
            except ModemError as e:
                if e.final == "ERROR" or e.final == "+CME ERROR":
                    self._cifsr_stuck = True  # only a reset helps (spec §7)
                    self._wake.set()
                raise
            self.ip = lines[-1] if lines else ""
            self.gprs_up = True

    def _gprs_down(self):
        self.gprs_up = False
        s = self._stream
        if s is not None:
            s._drop()
            self._stream = None

    async def _rx_get(self, n):
        # pull up to n bytes of the TCP stream (manual receive mode)
        await self.cmd("AT+CIPRXGET=2,%d" % n, expect="+CIPRXGET: 2")
        return self._rx_left


class Sim800Stream(StreamBase):
    # the single GPRS TCP connection (CIPMUX=0) in manual receive mode
    def __init__(self, modem):
        super().__init__()
        self._m = modem
        self._in = b""  # payload delivered by the reader
        self._tx = []  # written, not yet sent: the writers' bytes, never joined
        self._tx_off = 0  # bytes of _tx[0] already sent
        self._tx_n = 0  # bytes of the CIPSEND payload being sent (drain -> _put)
        self._ev = Flag()  # data, +CIPRXGET: 1, CLOSED or a drop (D127: a timed wait, no task)
        self._ready = True  # ask once at start: data may already be waiting
        self.closed = False
        self.eof = False  # the peer closed (CLOSED)
        self.dropped = False  # link lost (PDP deact, modem reset, send failure)

    # reader-side hooks (sync); data is a memoryview into the reader's buffer
    def _feed(self, data):
        self._in += bytes(data)
        self._ev.set()

    def _avail(self):
        self._ready = True
        self._ev.set()

    def _eof(self):
        self.eof = True
        self._ev.set()

    def _drop(self):
        self.dropped = True
        self._ev.set()

    async def _recv(self, n):
        m = self._m
        while True:
            if self._in:
                out = self._in
                self._in = b""
                return out
            if self.dropped:
                raise OSError("link dropped")
            if self.eof or self.closed:
                return b""
            if self._ready:
                self._ready = False
                try:
                    left = await m._rx_get(n if n < _TCP_CHUNK else _TCP_CHUNK)
                except ModemError as e:
                    if isinstance(e, ModemTimeout):
                        raise
                    if self.eof:
                        continue
                    self.dropped = True
                    raise
                if left > 0:
                    self._ready = True
                continue
            self._ev.clear()
            if not await self._ev.wait_ms(m.t_ms["rx_poll"]):
                self._ready = True  # a lost +CIPRXGET: 1 must not stall us

    def write(self, data):
        if self.closed or self.dropped or self.eof:
            raise OSError("link closed")
        if data:
            self._tx.append(data)

    async def drain(self):
        # the written pieces go out in CIPSEND payloads of up to _TCP_CHUNK bytes: the
        # payload's length is counted over the pieces, then _put writes them after the
        # prompt. D107: no joined copy of a batch and no gathering buffer (a fragmented
        # board heap cannot place a few-KB block; a 1.46 KB buffer for the driver's life
        # cost the steady heap as much), no bytes slicing per chunk
        tx = self._tx
        while tx:
            if self.closed or self.dropped or self.eof:
                raise OSError("link closed")
            n = 0
            k = 0
            off = self._tx_off
            while n < _TCP_CHUNK and k < len(tx):
                take = min(len(tx[k]) - off, _TCP_CHUNK - n)
                n += take
                off += take
                if off == len(tx[k]):
                    k += 1
                    off = 0
            self._tx_n = n
            try:
                await self._m.cmd(
                    "AT+CIPSEND=%d" % n,
                    until=("SEND OK", "DATA ACCEPT"),
                    payload=self._put,
                )
            except ModemError:
                self.dropped = True  # unknown how much went out: the session is over
                raise
            del tx[:k]
            self._tx_off = off

    async def _put(self, text):
        # the CIPSEND payload (after the prompt): the first _tx_n bytes of the pieces,
        # written to the port in slices of at most _WRITE_MAX bytes, each drained before
        # the next (D107: asyncio's Stream.write copies what the port did not take into
        # its out_buf, and appends every further write to it until a drain: one slice is
        # the most it can copy)
        tx = self._tx
        n = self._tx_n
        off = self._tx_off
        k = 0
        while n > 0:
            mv = memoryview(tx[k])
            end = off + min(len(mv) - off, n)
            n -= end - off
            while off < end:
                j = min(off + _WRITE_MAX, end)
                await self._m._write(mv[off:j], text)
                off = j
            k += 1
            off = 0

    async def close(self):
        if self.closed:
            return
        self.closed = True
        self._ev.set()
        m = self._m
        if m._stream is self:
            m._stream = None
        if not self.dropped and not self.eof:
            try:
                await m.cmd("AT+CIPCLOSE", until=("CLOSE OK",))
            except ModemError:
                pass
