# The byte-stream interface every server protocol rides on, and its native-IP
# implementation over asyncio.open_connection (WiFi/Ethernet boards, host runs).
# Licence: MIT (this project).
#
# Interface (shared with the SIM800 GPRS link in firmware/hal/sim800.py):
#   await s.read(n)         1..n bytes; b"" once the peer has closed
#   await s.readexactly(n)  exactly n bytes; OSError if the link ends first
#   await s.readline()      up to and including b"\n"; b"" at EOF
#   s.write(data)           queue bytes; await s.drain() sends them
#   await s.close()         close (never raises)
# A dropped link (modem reset, PDP context lost, socket error) raises OSError
# from read/drain. close() is a coroutine because MicroPython's StreamWriter
# only really closes in wait_closed().

import asyncio

MAX_LINE = 2048  # readline() gives up (OSError) on longer lines


class StreamBase:
    # buffering helpers on top of a transport's _recv(n) -> bytes (b"" = EOF)
    def __init__(self):
        self._rx = b""  # bytes received but not yet read

    async def _recv(self, n):
        raise NotImplementedError

    async def read(self, n=1460):
        if self._rx:
            out = self._rx[:n]
            self._rx = self._rx[n:]
            return out
        data = await self._recv(n)
        if len(data) > n:
            self._rx = data[n:]
            data = data[:n]
        return data

    async def readexactly(self, n):
        out = b""
        while len(out) < n:
            part = await self.read(n - len(out))
            if not part:
                raise OSError("link closed")
            out += part
        return out

    async def readline(self):
        out = b""
        while True:
            i = self._rx.find(b"\n")
            if i >= 0:
                out += self._rx[: i + 1]
                self._rx = self._rx[i + 1 :]
                return out
            out += self._rx
            self._rx = b""
            if len(out) > MAX_LINE:
                raise OSError("line too long")
            data = await self._recv(MAX_LINE)
            if not data:
                return out
            self._rx = data


class NetStream(StreamBase):
    # a TCP connection over the board's native IP stack (or the host's)
    def __init__(self, reader, writer):
        super().__init__()
        self._r = reader
        self._w = writer
        self.closed = False

    @classmethod
    async def connect(cls, host, port, timeout_ms=30000):
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_ms / 1000)
        except asyncio.TimeoutError:  # noqa: UP041 (no builtin TimeoutError on MicroPython)
            raise OSError("connect timeout")
        return cls(r, w)

    async def _recv(self, n):
        if self.closed:
            raise OSError("closed")
        data = await self._r.read(n)
        return data if data else b""

    def write(self, data):
        if self.closed:
            raise OSError("closed")
        self._w.write(data)

    async def drain(self):
        if self.closed:
            raise OSError("closed")
        await self._w.drain()

    async def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            self._w.close()
            await self._w.wait_closed()
        except Exception:
            pass


async def open_tcp(host, port, timeout_ms=30000):
    # same call shape as Sim800.open_tcp(): the uplink code takes either
    return await NetStream.connect(host, port, timeout_ms)
