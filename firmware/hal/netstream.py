# The byte stream (interface: firmware/hal/stream.py) over the board's native IP stack:
# asyncio.open_connection (WiFi/Ethernet boards with NET "native", host runs and tests).
# Licence: MIT (this project). A modem board never imports it (D101).

import asyncio

from firmware.hal.stream import StreamBase


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
