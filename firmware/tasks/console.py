# DIAG console task: SMS commands typed on a serial/USB console, replies printed.
# Licence: MIT (this project).
#
# The user guide's DIAG mode: "configuration commands without need of the GSM
# network". Each line received is run through the same interpreter as an SMS
# (ovms.sms.SmsInterpreter) and the reply is written exactly as the SMS would be
# sent: every part after ovms.smsout.shape(), each followed by a line "---".
# No reply: nothing is written. Part texts are written unchanged (their own
# "\n" / "\r\n"); `eol` only ends the part and the "---" line.
#
# stream: an asyncio stream (read(n) coroutine, write(bytes), drain()
# coroutine) or a raw MicroPython stream (UART, USB VCP), which is wrapped in
# asyncio.StreamReader. A line ends at CR or LF (terminals send CR alone);
# lines are cut at `max_line` bytes. EOF ends the task.
#
# Runs as the DIAG console (trusted: physical access passes every auth check)
# unless `sender` is given, then exactly as an SMS from that number.

import asyncio
import time

from ovms import smsout
from ovms.compat import text as _text  # bytes -> str, never raising (D91)


class Duplex:
    # one console stream from a reader and a writer (the REPL's stdin/stdout, a UART)
    def __init__(self, reader, writer):
        self.r = reader
        self.w = writer

    async def read(self, n):
        return await self.r.read(n)

    def write(self, data):
        self.w.write(data)

    async def drain(self):
        await self.w.drain()


def _now_s():
    return int(time.time())


class Console:
    def __init__(self, stream, framework, sender=None, eol="\r\n", clock=None, max_line=200):
        self.stream = stream
        self.fw = framework
        self.sender = sender
        self.eol = eol
        self.clock = clock if clock is not None else _now_s
        self.max_line = max_line
        self.lines = 0  # commands run (for tests and DIAG)

    async def run(self):
        s = self.stream
        if not hasattr(s, "drain"):  # raw stream (MicroPython UART/USB)
            s = asyncio.StreamReader(s)
        line = bytearray()
        while True:
            data = await s.read(64)
            if not data:
                break
            for b in data:
                if b == 13 or b == 10:  # CR or LF ends a line
                    if line:
                        await self._command(s, bytes(line))
                        line = bytearray()
                elif len(line) < self.max_line:
                    line.append(b)
        if line:
            await self._command(s, bytes(line))

    async def _command(self, s, raw):
        self.lines += 1
        parts = smsout.shape(self.execute(_text(raw)))
        eol = self.eol
        for p in parts:
            s.write((p + eol + "---" + eol).encode())
            await s.drain()

    def execute(self, text):
        # one command line -> reply texts (unshaped), as the SMS path gets them
        fw = self.fw
        if self.sender is None:
            return fw.handle(fw.cfg.params[0], text, self.clock(), trusted=True)
        return fw.handle(self.sender, text, self.clock())
