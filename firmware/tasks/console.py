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

from ovms import lazy
from ovms.sms import ERR_NOT_LOADED

_LINE = "firmware.tasks.console_line"  # a line's processing, loaded per line (D121)


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


class Console:
    # D121: only the reading loop is resident; each line's processing (the interpreter
    # call, the reply's shaping and writing: console_line.py) is loaded for the line and
    # dropped after it. A line that finds no room to load it (MemoryError) or no module
    # is answered ERR_NOT_LOADED and counted in .not_loaded; nothing ran.
    def __init__(self, stream, framework, sender=None, eol="\r\n", clock=None, max_line=200):
        self.stream = stream
        self.fw = framework
        self.sender = sender
        self.eol = eol
        self.clock = clock  # () -> s, or None: time.time()
        self.max_line = max_line
        self.lines = 0  # commands run (for tests and DIAG)
        self.not_loaded = 0  # lines answered ERR_NOT_LOADED

    async def run(self):
        s = self.stream
        if not hasattr(s, "drain"):  # raw stream (MicroPython UART/USB)
            s = asyncio.StreamReader(s)
        line = bytearray()
        data = True
        while data:
            data = await s.read(64)
            for b in data or b"\n":  # EOF ends the last line
                if b == 13 or b == 10:  # CR or LF ends a line
                    if not line:
                        continue
                    self.lines += 1
                    try:
                        cmd = lazy.load(_LINE)
                    except Exception:  # MemoryError, ImportError: a clear reply, counted
                        lazy.unload(_LINE)  # what a half-done import may have left
                        self.not_loaded += 1
                        s.write((ERR_NOT_LOADED + self.eol + "---" + self.eol).encode())
                        await s.drain()
                    else:
                        try:
                            await cmd.run(self, s, bytes(line))
                        finally:
                            cmd = None
                            lazy.unload(_LINE)  # nothing refers to it: the next gc frees it
                    line = bytearray()
                elif len(line) < self.max_line:
                    line.append(b)
