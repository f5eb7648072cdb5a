# The byte-stream interface every server protocol rides on, and the buffering its
# transports share (StreamBase). Licence: MIT (this project).
#
# Interface (the SIM800 GPRS link, firmware/hal/sim800_gprs.py, and native TCP,
# firmware/hal/netstream.py):
#   await s.read(n)         1..n bytes; b"" once the peer has closed
#   await s.readexactly(n)  exactly n bytes; OSError if the link ends first
#   await s.readline()      up to and including b"\n"; b"" at EOF
#   s.write(data)           queue bytes; await s.drain() sends them
#   await s.close()         close (never raises)
# A dropped link (modem reset, PDP context lost, socket error) raises OSError
# from read/drain. close() is a coroutine because MicroPython's StreamWriter
# only really closes in wait_closed().
# D101: its own module, so that a modem board (the default) imports the base class
# without the native-socket stream it never uses.

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
