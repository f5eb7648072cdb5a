# Hypothesis fuzz of the SIM800 driver's byte splitter (firmware/hal/sim800_reader.py),
# CPython only: the Sim800 class reads arbitrary modem bytes through a fake
# stream reader (asyncio StreamReader API: read(n), or readinto(buf) as on
# MicroPython), idle or while a command waits for its reply. It never raises,
# counts no bug, ends cleanly at the end of the port, and what it makes of
# the bytes (URCs, SMS, the command's result and lines, counters) does not
# depend on how the bytes were cut into reads. A well-formed URC after any
# garbage without "+" is still recognised.
# FUZZ_EXAMPLES sets the number of examples (see fuzzing.py).
# Licence: MIT (this project).
import asyncio

from fuzzing import fuzz
from hypothesis import example, given
from hypothesis import strategies as st

from firmware.hal.sim800 import Sim800
from firmware.hal.sim800_at import ModemError
from ovms import at

# modem-ish pieces: results, URCs, payload headers, prompts, separators
_PIECES = [
    b"\r\n",
    b"\n",
    b"\r",
    b"OK",
    b"ERROR",
    b"+CME ERROR: 10",
    b"> ",
    b">",
    b"+CSQ: 21,0",
    b'+CMTI: "SM",3',
    b'+CMT: "+4915100000000","","26/01/01,10:00:00+04"',
    b"+IPD,5:",
    b"+IPD,0,3:",
    b"+CIPRXGET: 2,4,0",
    b"+CIPRXGET: 1",
    b"RDY",
    b"Call Ready",
    b"SMS Ready",
    b"+CPIN: READY",
    b"+CFUN: 1",
    b"CLOSED",
    b"0, CLOSED",
    b"SEND OK",
    b"NORMAL POWER DOWN",
    b"UNDER-VOLTAGE WARNNING",
    b'+CUSD: 0,"Balance",15',
    b"+CREG: 1",
    b"\x00",
    b"\xff",
]
streams = st.lists(st.one_of(st.sampled_from(_PIECES), st.binary(max_size=40)), max_size=30).map(
    b"".join
)
long_lines = st.builds(lambda a, n, b: a + b"x" * n + b, streams, st.integers(900, 1300), streams)
data = st.one_of(streams, long_lines)
# a reply as the modem sends it (echo, lines, final), with garbage around it
_line = st.one_of(st.sampled_from(_PIECES[3:]), st.binary(max_size=30))
replies = st.builds(
    lambda pre, echo, lines, final, post: (
        pre + echo + b"\r\n" + b"".join([x + b"\r\n" for x in lines]) + final + post
    ),
    st.one_of(st.just(b""), streams),
    st.sampled_from([b"", b"AT+CSQ\r", b"AT+CREG?\r"]),
    st.lists(_line, max_size=6),
    st.sampled_from([b"\r\nOK\r\n", b"OK\r\n", b"ERROR\r\n", b"+CMS ERROR: 500\r\n"]),
    st.one_of(st.just(b""), streams),
)


class _Writer:
    def __init__(self):
        self.out = b""
        self.written = asyncio.Event()

    def write(self, b):
        self.out += bytes(b)
        self.written.set()

    async def drain(self):
        pass


class _Reader:
    # read(n): the next piece of the stream (at most n bytes), b"" at the end.
    # With a writer: nothing before the driver has written its command.
    def __init__(self, stream, cuts, writer=None):
        self.pieces = _cut(stream, cuts)
        self.writer = writer

    async def read(self, n):
        if self.writer is not None:
            await self.writer.written.wait()
        if not self.pieces:
            return b""
        p = self.pieces.pop(0)
        if len(p) > n:
            self.pieces.insert(0, p[n:])
            p = p[:n]
        return p


class _IntoReader(_Reader):
    # MicroPython's stream API: readinto(buffer) -> bytes read
    async def readinto(self, buf):
        p = await self.read(len(buf))
        buf[: len(p)] = p
        return len(p)


def _cut(stream, cuts):
    out = []
    i = 0
    for c in cuts:
        if c <= 0:
            continue
        out.append(stream[i : i + c])
        i += c
        if i >= len(stream):
            break
    out.append(stream[i:])
    return [p for p in out if p]


def _run(stream, cuts, reader_cls=_Reader, command=None):
    # -> everything the driver made of the stream
    async def main():
        w = _Writer()
        m = Sim800(None, w)
        m._r = reader_cls(stream, cuts, w if command else None)
        events = []
        m.on_urc = lambda tag, arg: events.append(("URC", tag, arg))
        m.on_sms = lambda sender, text: events.append(("SMS", sender, text))
        m.on_gnss = lambda line: events.append(("GNSS", line))
        result = None
        if command is None:
            await m._reader()
        else:
            reader = asyncio.create_task(m._reader())
            try:
                result = ("ok", list(await m.cmd(command[0], ms=60000, expect=command[1])))
            except ModemError as e:
                result = ("error", type(e).__name__, str(e))
            await reader
        assert m._dead  # the port's end was seen
        assert m.counters["bugs"] == 0
        return events, dict(m.counters), result, m.progress

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(main(), 60))
    finally:
        loop.close()


cuts = st.lists(st.integers(1, 300), max_size=12)


def _same(a, b):
    # the same events, counters (a stray payload counts once however it was
    # cut: test_fuzz_stray_once_per_payload), result and progress
    return a == b


URC_TAGS = set([getattr(at, n) for n in dir(at) if n.startswith("U_")])


def _check_events(a):
    events, counters, _result, progress = a
    assert all(isinstance(v, int) and v >= 0 for v in counters.values()), counters
    assert isinstance(progress, int) and progress >= 0
    for ev in events:
        if ev[0] == "URC":
            assert ev[1] in URC_TAGS and isinstance(ev[2], str), ev
            assert ev[2] == ev[2].strip(" \t") and all(c >= " " or c == "\t" for c in ev[2])
        elif ev[0] == "SMS":
            assert isinstance(ev[1], str) and isinstance(ev[2], str), ev
            assert at.normalise_number(ev[1]) == ev[1], ev  # the sender normalised
        else:
            assert ev[0] == "GNSS" and isinstance(ev[1], str), ev


@fuzz()
@given(data, cuts)
def test_fuzz_idle_splitter(stream, cut):
    a = _run(stream, cut)
    assert _same(a, _run(stream, [len(stream)]))  # one read
    assert a == _run(stream, cut, _IntoReader)  # readinto, as on the board: the same reads
    _check_events(a)


@fuzz()
@given(
    st.one_of(data, replies),
    cuts,
    st.sampled_from([("AT+CSQ", "+CSQ:"), ("AT+CREG?", "+CREG:"), ('AT+CMGL="ALL"', None)]),
)
def test_fuzz_command_reply_splitter(stream, cut, command):
    a = _run(stream, cut, command=command)
    assert _same(a, _run(stream, [len(stream)], command=command))
    _check_events(a)
    result = a[2]
    if result[0] == "ok":
        # every reply line is text of the stream (control bytes dropped), not the echo
        visible = bytes([b for b in stream if b >= 32 or b in (9, 10)])
        for line in result[1]:
            assert line and all(ch >= " " or ch == "\t" for ch in line)
            assert line.encode("latin-1") in visible
            assert line != command[0]
        assert b"OK" in stream
    else:
        assert result[0] == "error"


@fuzz()
@given(st.binary(max_size=1500).map(lambda b: b.replace(b"+", b"-")), cuts)
def test_fuzz_urc_after_garbage(garbage, cut):
    # whatever came before (without "+": no payload header), a URC on a line
    # of its own is recognised
    stream = garbage + b'\r\n+CMTI: "SM",7\r\n'
    events = _run(stream, cut)[0]
    assert events and events[-1] == ("URC", at.U_CMTI, '"SM",7')


# ---- found by this fuzz, fixed in sim800_reader.py (now a plain invariant)
@fuzz(300)
@given(st.integers(1, 40), st.integers(1, 300))
@example(4, 3)
def test_fuzz_stray_once_per_payload(size, first):
    # a +CIPRXGET: 2 payload with no command waiting is one stray, however the
    # UART delivered it (the reader once counted one per read piece)
    stream = b"\r\n+CIPRXGET: 2,%d,0\r\n" % size + b"p" * size + b"\r\nOK\r\n"
    one = _run(stream, [len(stream)])[1]["stray"]
    cut = len(stream) - size - 6 + min(first, size - 1)  # inside the payload
    assert _run(stream, [cut])[1]["stray"] == one
