# SIM800/SIM808 emulator on a TCP socket (127.0.0.1 only), with fault injection.
# Licence: MIT (this project).
#
# Speaks the AT subset firmware/hal/sim800.py uses, so the whole radio side
# runs on a host. Written with asyncio only: it runs inside the test's own
# event loop under CPython *and* the MicroPython unix port (which has no
# subprocess module), or stand-alone:
#
#   python3 -m tools.sim800emu --port 5800 [--control 5801] [--nmea 5802]
#                              [--track FILE] [--seed N] [--soak N]
#   micropython -m tools.sim800emu ...   (same, MICROPYPATH=.frozen:lib:.)
#
# The control port takes line commands (try "help"):
#   sms <number> <text>      deliver an SMS to the modem (+CMTI follows)
#   sent                     list the SMS the modem has sent
#   inbox                    list the SIM storage
#   ussd <code> <answer>     set a canned USSD answer
#   fault <kind>             inject one fault (kinds: see FAULTS)
#   soak <n> <seed>          start a seeded random fault schedule
#   status                   modem state and counters
#
# Network rule: every socket is on the loopback interface. AT+CIPSTART to any
# host other than 127.x.x.x / localhost answers CONNECT FAIL and opens nothing.
#
# Emulated behaviour (SIM800 manual and platform.md §7): echo on after reset
# until ATE0; replies framed "\r\n<line>\r\n"; "\r\n> " prompts for CMGS and
# CIPSEND; SMS text mode with SIM storage (30 slots, kept over a reboot, new
# SMS lost when full); manual TCP receive (+CIPRXGET: 1 / 2,got,left + bytes)
# or +IPD,n: pushes; USSD answers as +CUSD URCs; +CGNSINF and NMEA GGA/RMC
# from a track file (CSV: t_s,lat,lon,alt_m,speed_kmh[,course]).

import asyncio
import sys

from ovms import at, nmea
from ovms.aio import sleep_ms, ticks_add, ticks_diff, ticks_ms

CR = b"\r"
SM_SLOTS = 30
RX_MAX = 65536

# fault kinds. "cmd" faults hit the next AT command line, the others act at once.
FAULTS = (
    "drop",  # close the TCP link: CLOSED
    "garbage",  # random bytes (no CR/LF) on the line
    "nul",  # NUL bytes
    "delay",  # next command answered late (below `max_delay_ms`)
    "missing",  # next command ignored (never answered, not executed)
    "error",  # next command answers ERROR (not executed)
    "cme",  # next command answers +CME ERROR: 100 (not executed)
    "reboot",  # spontaneous reset: RDY, +CFUN: 1, +CPIN: READY, Call Ready, SMS Ready
    "undervolt",  # UNDER-VOLTAGE WARNNING
    "pdp",  # +PDP: DEACT (link and GPRS context gone)
    "urc_mid",  # a URC between the next reply's lines and its final result
    "powerdown",  # UNDER-VOLTAGE POWER DOWN: silent until the reset pin (or auto_on_ms)
)
_CMD_FAULTS = ("delay", "missing", "error", "cme", "urc_mid")
# soak weights (per 100): cheap faults often, expensive ones (powerdown) rarely
SOAK_WEIGHTS = {
    "drop": 10,
    "garbage": 12,
    "nul": 6,
    "delay": 14,
    "missing": 12,
    "error": 10,
    "cme": 6,
    "reboot": 6,
    "undervolt": 6,
    "pdp": 6,
    "urc_mid": 11,
    "powerdown": 1,
}


class XorShift:
    # xorshift32: the same sequence under CPython and MicroPython
    def __init__(self, seed):
        self.s = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def next(self):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def below(self, n):
        return self.next() % n if n > 0 else 0

    def between(self, a, b):
        return a + self.below(b - a + 1)


def loopback(host):
    if host == "localhost":
        return True
    parts = host.split(".")
    if len(parts) != 4 or parts[0] != "127":
        return False
    for p in parts:
        if not p or len(p) > 3 or not p.isdigit() or int(p) > 255:
            return False
    return True


def nodelay(writer):
    # TCP_NODELAY on a stream's socket. CPython's asyncio sets it already;
    # MicroPython does not, and Nagle + delayed ACK then add ~40 ms per reply.
    s = getattr(writer, "s", None)
    if s is None:
        try:
            s = writer.get_extra_info("socket")
        except Exception:
            s = None
    if s is not None:
        try:
            s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
        except Exception:
            pass


async def listen(cb, port=0):
    # asyncio server on 127.0.0.1 -> (server, port). MicroPython sockets have
    # no getsockname(), so port 0 is replaced by trying ports from a random base.
    if port:
        return (await asyncio.start_server(cb, "127.0.0.1", port), port)
    if sys.implementation.name != "micropython":
        srv = await asyncio.start_server(cb, "127.0.0.1", 0)
        return (srv, srv.sockets[0].getsockname()[1])
    import random

    base = 20000 + random.getrandbits(14)
    for i in range(200):
        p = base + i * 7
        try:
            return (await asyncio.start_server(cb, "127.0.0.1", p), p)
        except OSError:
            pass
    raise OSError("no free port")


def load_track(path):
    # CSV t_s,lat,lon,alt_m,speed_kmh[,course] -> [(t_ms, lat_e6, lon_e6, alt, speed_x100, course)]
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] == "#" or line[0].isalpha():
                continue
            rows.append(parse_track_row(line))
    return rows


def parse_track_row(line):
    f = [x.strip() for x in line.split(",")]
    course = nmea.dec_scaled(f[5], 0) if len(f) > 5 and f[5] else 0
    return (
        nmea.dec_scaled(f[0], 3),
        nmea.dec_scaled(f[1], 6),
        nmea.dec_scaled(f[2], 6),
        nmea.dec_scaled(f[3], 0),
        nmea.dec_scaled(f[4], 2),
        course,
    )


class EmuPin:
    # the modem's reset line: value(0) holds the modem off, value(1) boots it
    def __init__(self, emu):
        self.emu = emu
        self.v = 1
        self.pulses = 0

    def value(self, v=None):
        if v is None:
            return self.v
        if self.v and not v:
            self.emu._power_off()
        elif not self.v and v:
            self.pulses += 1
            self.emu.reboot()
        self.v = 1 if v else 0


class Sim800Emu:
    def __init__(self, seed=1, track=None, ussd=None, boot_ms=30, max_delay_ms=40, auto_on_ms=0):
        self.rng = XorShift(seed)
        self.track = track or []
        self.ussd = {"*100#": ("Balance: 5.00 EUR, valid until 31.12.2026", 15)}
        if ussd:
            for k in ussd:
                self.ussd[k] = ussd[k]
        self.boot_ms = boot_ms
        self.max_delay_ms = max_delay_ms
        self.auto_on_ms = auto_on_ms  # powerdown without a pin: back after this (0 = never)
        self.ussd_delay_ms = 20
        self.connect_delay_ms = 5
        self.rssi = 20
        self.creg_stat = 1
        self.inbox = {}  # slot -> [status, sender, ts, text]
        self.sent = []  # (number, text) in send order
        self.lost_sms = 0
        self.counts = {}  # fault kind -> injected count
        self.faults = 0
        self.commands = 0
        self.pin = EmuPin(self)
        self._writer = None
        self._servers = []
        self._tasks = []
        self._t0 = ticks_ms()
        self._smsno = 0
        self._cmd_faults = []
        self._gen = 0  # boot generation: work started before a reset is dropped
        self.soaking = False
        self._reset_state()
        self.booting_until = ticks_ms()
        self.off = False

    # ---- state -----------------------------------------------------------------
    def _reset_state(self):
        self.echo = True
        self.cmgf = 0
        self.cnmi = False
        self.creg_n = 0
        self.cmee = 0
        self.rxmode = 0  # 1 = manual receive (CIPRXGET=1)
        self.iphead = 0
        self.ip_state = "IP INITIAL"
        self.gnss_on = False
        self.mode = None  # None | ("sms", number, text bytes) | ("tcp", n, bytes)
        self._inbuf = b""
        self._close_tcp()

    def _close_tcp(self):
        t = getattr(self, "_tcp", None)
        self._tcp = None
        self._rx = b""
        if t is not None:
            t[2].cancel()
            # MicroPython's StreamWriter.close() does nothing; wait_closed() closes
            self._spawn(_close_writer(t[1]))

    @property
    def connected(self):
        return self._tcp is not None

    # ---- servers ----------------------------------------------------------------
    async def start(self, port=0):
        # the modem's UART as a TCP server; returns the port
        srv, p = await listen(self._client, port)
        self._servers.append(srv)
        self.port = p
        return p

    async def start_control(self, port=0):
        srv, p = await listen(self._control, port)
        self._servers.append(srv)
        return p

    async def start_nmea(self, port=0, period_ms=1000):
        # a standalone NMEA GPS on its own "UART": GGA + RMC every period_ms
        self.nmea_period_ms = period_ms
        srv, p = await listen(self._nmea_client, port)
        self._servers.append(srv)
        return p

    async def close(self):
        self.soaking = False
        t = self._tcp
        self._tcp = None
        if t is not None:
            t[2].cancel()
            await _close_writer(t[1])
        for t in self._tasks:
            t.cancel()
        self._tasks = []
        if self._writer is not None:
            try:
                self._writer.close()
                await self._writer.wait_closed()
            except Exception:
                pass
            self._writer = None
        for s in self._servers:
            s.close()
            try:
                await s.wait_closed()
            except Exception:
                pass
        self._servers = []

    def _spawn(self, coro):
        self._tasks = [x for x in self._tasks if not _done(x)]
        t = asyncio.create_task(coro)
        self._tasks.append(t)
        return t

    # ---- output -------------------------------------------------------------------
    def _out(self, data):
        w = self._writer
        if w is None:
            return
        try:
            w.write(data)
        except Exception:
            pass

    def _reply(self, lines):
        # one atomic write: "\r\n<line>\r\n" per line (binary payloads raw)
        parts = []
        for ln in lines:
            if isinstance(ln, bytes):
                parts.append(ln)
            else:
                parts.append(b"\r\n" + at.encode(ln) + b"\r\n")  # CSCS 8859-1
        self._out(b"".join(parts))

    def urc(self, line):
        if not self.off:
            self._reply([line])

    # ---- the modem's UART -------------------------------------------------------------
    async def _client(self, reader, writer):
        if self._writer is not None:  # one UART: a new client replaces the old
            self._spawn(_close_writer(self._writer))
        nodelay(writer)
        self._writer = writer
        try:
            while True:
                data = await reader.read(512)
                if not data:
                    break
                await self._input(data)
                try:
                    await writer.drain()
                except Exception:
                    break
        except (Exception, asyncio.CancelledError):
            pass  # a handler task ends quietly (CPython logs a cancelled one)
        if self._writer is writer:
            self._writer = None
        try:
            writer.close()
            await writer.wait_closed()
        except Exception:
            pass

    async def _input(self, data):
        if self.off or ticks_diff(self.booting_until, ticks_ms()) > 0:
            return  # off or booting: the UART is deaf
        self._inbuf += data
        while self._inbuf:
            if self.mode is not None:
                if not self._data_mode():
                    return
                continue
            i = -1
            for j in range(len(self._inbuf)):
                if self._inbuf[j] in (13, 10):
                    i = j
                    break
            if i < 0:
                if len(self._inbuf) > 600:
                    self._inbuf = b""
                return
            raw = self._inbuf[:i]
            self._inbuf = self._inbuf[i + 1 :]
            line = at.decode(raw)
            if not line:
                continue
            if self.echo:
                self._out(raw + CR)
            await self._command(line)

    def _data_mode(self):
        # collect the text after "> ": True if something was consumed
        m = self.mode
        buf = self._inbuf
        if m[0] == "sms":
            for j in range(len(buf)):
                c = buf[j]
                if c == 0x1A or c == 0x1B:
                    text = buf[:j]
                    self._inbuf = buf[j + 1 :]
                    self.mode = None
                    if self.echo:
                        self._out(text)
                    if c == 0x1A:
                        self._sms_send(m[1], text)
                    return True
            return False
        # tcp: exactly n bytes
        n = m[1]
        if len(buf) < n:
            return False
        payload = buf[:n]
        self._inbuf = buf[n:]
        self.mode = None
        if self._tcp is None:
            self._reply(["SEND FAIL"])
            return True
        try:
            self._tcp[1].write(payload)
        except Exception:
            self._reply(["SEND FAIL"])
            return True
        self._reply(["SEND OK"])
        return True

    async def _command(self, line):
        self.commands += 1
        gen = self._gen
        fault = self._cmd_faults.pop(0) if self._cmd_faults else None
        if fault == "missing":
            return
        if fault == "delay":
            await sleep_ms(self.rng.between(1, self.max_delay_ms))
            if gen != self._gen or self.off:
                return
        if fault == "error":
            self._reply(["ERROR"])
            return
        if fault == "cme":
            self._reply(["+CME ERROR: 100"])
            return
        try:
            lines = self._execute(line)
        except Exception:
            lines = ["ERROR"]
        if lines is None:
            return
        if fault == "urc_mid" and len(lines) >= 2:
            lines.insert(len(lines) - 1, "+CREG: %d" % self.creg_stat)
        elif fault == "urc_mid":
            lines.insert(0, "RING")
        self._reply(lines)

    def _execute(self, line):
        # one AT command -> reply lines (None: the reply is sent elsewhere)
        u = line.upper()
        if not u.startswith("AT"):
            return ["ERROR"]
        c = u[2:]
        if c == "":
            return ["OK"]
        if c in ("E0", "E1", "E"):
            self.echo = c == "E1"
            return ["OK"]
        if c == "I":
            return ["SIM800 R14.18", "OK"]
        if c in ("+CMEE=0", "+CMEE=1", "+CMEE=2"):
            self.cmee = int(c[-1])
            return ["OK"]
        if c == "+CPIN?":
            return ["+CPIN: READY", "OK"]
        if c == "+CSQ":
            return ["+CSQ: %d,0" % self.rssi, "OK"]
        if c.startswith("+CREG="):
            self.creg_n = at._int(c[6:], 0)
            return ["OK"]
        if c == "+CREG?":
            return ["+CREG: %d,%d" % (self.creg_n, self.creg_stat), "OK"]
        if c.startswith("+CMGF="):
            self.cmgf = at._int(c[6:], 0)
            return ["OK"]
        if c.startswith("+CSCS=") or c.startswith("+CSDH=") or c.startswith("+CIPHEAD="):
            if c.startswith("+CIPHEAD="):
                self.iphead = at._int(c[9:], 0)
            return ["OK"]
        if c.startswith("+CPMS="):
            n = len(self.inbox)
            return ["+CPMS: %d,%d,%d,%d,%d,%d" % (n, SM_SLOTS, n, SM_SLOTS, n, SM_SLOTS), "OK"]
        if c.startswith("+CNMI="):
            f = c[6:].split(",")
            self.cnmi = len(f) > 1 and f[1] == "1"
            return ["OK"]
        if c.startswith("+CMGR="):
            return self._cmgr(at._int(c[6:]))
        if c.startswith("+CMGD="):
            f = c[6:].split(",")
            idx = at._int(f[0])
            if len(f) > 1 and f[1].strip() == "4":
                self.inbox = {}
            elif idx in self.inbox:
                del self.inbox[idx]
            return ["OK"]
        if c.startswith("+CMGL"):
            return self._cmgl()
        if c.startswith("+CMGS="):
            if self.cmgf != 1:
                return ["+CMS ERROR: 302"]
            num = at.fields(line[8:])[0]
            self.mode = ("sms", num)
            self._out(b"\r\n> ")
            return None
        if c.startswith("+CUSD="):
            f = at.fields(line[8:])
            if f[0] == "1" and len(f) > 1:
                self._spawn(self._ussd_answer(f[1], self._gen))
            return ["OK"]
        if c == "+CFUN?":
            return ["+CFUN: 1", "OK"]
        if c.startswith("+CFUN="):
            if c == "+CFUN=1,1":
                self._reply(["OK"])
                self.reboot()
                return None
            return ["OK"]
        if c == "+CGATT=1" or c == "+CGATT=0":
            return ["OK"]
        if c == "+CGATT?":
            return ["+CGATT: 1", "OK"]
        if c == "+CIPSHUT":
            self._close_tcp()
            self.ip_state = "IP INITIAL"
            return ["SHUT OK"]
        if c.startswith("+CIPMUX="):
            return ["OK"] if c[-1] == "0" else ["ERROR"]
        if c.startswith("+CIPRXGET="):
            return self._ciprxget(c[10:])
        if c.startswith("+CSTT"):
            if self.ip_state != "IP INITIAL":
                return ["ERROR"]
            self.ip_state = "IP START"
            return ["OK"]
        if c == "+CIICR":
            if self.ip_state != "IP START":
                return ["ERROR"]
            self.ip_state = "IP GPRSACT"
            return ["OK"]
        if c == "+CIFSR":
            if self.ip_state not in ("IP GPRSACT", "IP STATUS", "TCP CLOSED", "CONNECT OK"):
                return ["ERROR"]
            if self.ip_state == "IP GPRSACT":
                self.ip_state = "IP STATUS"
            return ["10.64.12.34"]
        if c.startswith("+CIPSTART="):
            return self._cipstart(line)
        if c == "+CIPSEND?":
            return ["+CIPSEND: 1460", "OK"]
        if c.startswith("+CIPSEND="):
            n = at._int(c[9:])
            if self._tcp is None or n <= 0 or n > 1460:
                return ["ERROR"]
            self.mode = ("tcp", n)
            self._out(b"\r\n> ")
            return None
        if c.startswith("+CIPCLOSE"):
            if self._tcp is None:
                return ["ERROR"]
            self._close_tcp()
            self.ip_state = "TCP CLOSED"
            return ["CLOSE OK"]
        if c == "+CIPSTATUS":
            return ["OK", "STATE: " + self.ip_state]
        if c.startswith("+CGNSPWR="):
            self.gnss_on = c[-1] == "1"
            return ["OK"]
        if c == "+CGNSPWR?":
            return ["+CGNSPWR: %d" % (1 if self.gnss_on else 0), "OK"]
        if c == "+CGNSINF":
            return [self.cgnsinf(), "OK"]
        if c.startswith("+CGNSURC="):
            return ["OK"]
        return ["ERROR"]

    # ---- SMS ---------------------------------------------------------------------------
    def inject_sms(self, sender, text):
        # an SMS arrives from the network: store it, announce it (+CMTI) if the
        # modem is set up for that. Returns the slot, or -1 when storage is full.
        for i in range(1, SM_SLOTS + 1):
            if i not in self.inbox:
                self._smsno += 1
                n = self._smsno
                ts = "26/01/%02d,%02d:%02d:%02d+04" % (
                    1 + (n // 86400) % 28,
                    (n // 3600) % 24,
                    (n // 60) % 60,
                    n % 60,
                )
                self.inbox[i] = ["REC UNREAD", sender, ts, text]
                booting = ticks_diff(self.booting_until, ticks_ms()) > 0
                if self.cnmi and not self.off and not booting:
                    self.urc('+CMTI: "SM",%d' % i)
                return i
        self.lost_sms += 1
        return -1

    def _header(self, i, m):
        return '"%s","%s","","%s",145,4,0,0,"+491770000000",145,%d' % (
            m[0],
            m[1],
            m[2],
            len(m[3]),
        )

    def _cmgr(self, i):
        if self.cmgf != 1:
            return ["+CMS ERROR: 302"]
        if i < 1 or i > SM_SLOTS:
            return ["+CMS ERROR: 321"]
        m = self.inbox.get(i)
        if m is None:
            return ["OK"]
        out = ["+CMGR: " + self._header(i, m), m[3], "OK"]
        if m[0] == "REC UNREAD":
            m[0] = "REC READ"
        return out

    def _cmgl(self):
        if self.cmgf != 1:
            return ["+CMS ERROR: 302"]
        out = []
        keys = sorted(self.inbox)
        for i in keys:
            m = self.inbox[i]
            out.append("+CMGL: %d,%s" % (i, self._header(i, m)))
            out.append(m[3])
            if m[0] == "REC UNREAD":
                m[0] = "REC READ"
        out.append("OK")
        return out

    def _sms_send(self, number, raw):
        text = at.decode(raw) if b"\n" not in raw else _text(raw)
        self.sent.append((number, text))
        self._reply(["+CMGS: %d" % (len(self.sent) % 256), "OK"])

    async def _ussd_answer(self, code, gen):
        await sleep_ms(self.ussd_delay_ms)
        if gen != self._gen:
            return
        a = self.ussd.get(code)
        if a is None:
            self.urc("+CUSD: 4")
            return
        text, dcs = a
        if dcs == 72:
            text = "".join(["%04X" % ord(ch) for ch in text])
        self.urc('+CUSD: 0,"%s",%d' % (text, dcs))

    # ---- TCP ------------------------------------------------------------------------------
    def _cipstart(self, line):
        f = at.fields(line[line.find("=") + 1 :])
        if len(f) < 3 or f[0].upper() != "TCP":
            return ["ERROR"]
        if self._tcp is not None:
            return ["ERROR", "ALREADY CONNECT"]
        if self.ip_state not in ("IP STATUS", "TCP CLOSED", "IP INITIAL"):
            return ["ERROR"]
        host = f[1]
        port = at._int(f[2])
        self.ip_state = "TCP CONNECTING"
        self._spawn(self._connect(host, port, self._gen))
        return ["OK"]

    async def _connect(self, host, port, gen):
        await sleep_ms(self.connect_delay_ms)
        if not loopback(host) or port <= 0 or port > 65535:
            if gen == self._gen:
                self.ip_state = "TCP CLOSED"
                self.urc("CONNECT FAIL")
            return
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except Exception:
            if gen == self._gen:
                self.ip_state = "TCP CLOSED"
                self.urc("CONNECT FAIL")
            return
        if gen != self._gen or self.ip_state != "TCP CONNECTING":
            await _close_writer(w)
            return
        nodelay(w)
        self._rx = b""
        pump = asyncio.create_task(self._pump(r))
        self._tcp = (r, w, pump)
        self.ip_state = "CONNECT OK"
        self.urc("CONNECT OK")

    async def _pump(self, r):
        # the real socket's data into the modem's receive buffer
        me = None
        try:
            while True:
                data = await r.read(1460)
                me = self._tcp
                if not data:
                    break
                if self.rxmode == 1:
                    was_empty = not self._rx
                    if len(self._rx) + len(data) <= RX_MAX:
                        self._rx += data
                    if was_empty:
                        self.urc("+CIPRXGET: 1")
                else:
                    self._out(b"\r\n+IPD,%d:" % len(data) + data)
        except asyncio.CancelledError:
            return
        except Exception:
            pass
        if me is not None and self._tcp is me:
            self._tcp = None
            self._rx = b""
            self.ip_state = "TCP CLOSED"
            self.urc("CLOSED")

    def _ciprxget(self, arg):
        f = arg.split(",")
        mode = at._int(f[0])
        if mode == 0 or mode == 1:
            self.rxmode = mode
            return ["OK"]
        if mode == 2:
            if self._tcp is None:
                return ["ERROR"]
            n = at._int(f[1]) if len(f) > 1 else 1460
            if n <= 0:
                return ["ERROR"]
            n = min(n, 1460)
            data = self._rx[:n]
            self._rx = self._rx[n:]
            return ["+CIPRXGET: 2,%d,%d" % (len(data), len(self._rx)), data, "OK"]
        if mode == 4:
            return ["+CIPRXGET: 4,%d" % len(self._rx), "OK"]
        return ["ERROR"]

    # ---- GNSS ------------------------------------------------------------------------------
    def position(self):
        # the track row for "now" (the track loops), or None
        if not self.track:
            return None
        el = ticks_diff(ticks_ms(), self._t0)
        span = self.track[-1][0] + 1000
        el = el % span if span > 0 else 0
        row = self.track[0]
        for r in self.track:
            if r[0] <= el:
                row = r
        return row

    def _utc(self):
        s = ticks_diff(ticks_ms(), self._t0) // 1000
        s = 43200 + s % 43200
        return "%02d%02d%02d" % (s // 3600, (s // 60) % 60, s % 60)

    def cgnsinf(self):
        if not self.gnss_on:
            return "+CGNSINF: 0,,,,,,,,,,,,,,,,,,,,"
        p = self.position()
        utc = "20260101" + self._utc() + ".000"
        if p is None:
            return "+CGNSINF: 1,0,%s,,,,0.00,0.0,0,,,,,,4,0,,,,," % utc
        t, lat, lon, alt, spd, course = p
        return "+CGNSINF: 1,1,%s,%s,%s,%d.000,%d.%02d,%d.0,1,,0.9,1.2,0.8,,10,8,3,,42,," % (
            utc,
            nmea.e6_text(lat),
            nmea.e6_text(lon),
            alt,
            spd // 100,
            spd % 100,
            course,
        )

    def nmea_sentences(self):
        p = self.position()
        utc = self._utc() + ".00"
        if p is None:
            return [
                nmea.sentence("GPGGA,%s,,,,,0,00,99.9,,M,,M,," % utc),
                nmea.sentence("GPRMC,%s,V,,,,,,,010126,,,N" % utc),
            ]
        t, lat, lon, alt, spd, course = p
        la, ns = nmea.e6_ddmm(lat, False)
        lo, ew = nmea.e6_ddmm(lon, True)
        kn_x1000 = spd * 10000 // nmea.KNOT_KMH_X1000  # 1/100 km/h -> 1/1000 knot
        return [
            nmea.sentence(
                "GPGGA,%s,%s,%s,%s,%s,1,08,0.9,%d.0,M,47.0,M,," % (utc, la, ns, lo, ew, alt)
            ),
            nmea.sentence(
                "GPRMC,%s,A,%s,%s,%s,%s,%d.%03d,%d.0,010126,,,A"
                % (utc, la, ns, lo, ew, kn_x1000 // 1000, kn_x1000 % 1000, course)
            ),
        ]

    async def _nmea_client(self, reader, writer):
        try:
            while True:
                for s in self.nmea_sentences():
                    writer.write(s.encode() + b"\r\n")
                await writer.drain()
                await sleep_ms(self.nmea_period_ms)
        except (Exception, asyncio.CancelledError):
            pass
        try:
            writer.close()
        except Exception:
            pass

    # ---- resets and faults ----------------------------------------------------------------
    def reboot(self):
        # modem reset: settings gone, SIM storage kept, echo back on, banner
        self._gen += 1
        self.off = False
        self._reset_state()
        self.booting_until = ticks_add(ticks_ms(), self.boot_ms)
        self._spawn(self._banner(self._gen))

    async def _banner(self, gen):
        self._reply(["RDY"])
        for line in ("+CFUN: 1", "+CPIN: READY"):
            await sleep_ms(self.boot_ms // 3 + 1)
            if gen != self._gen:
                return
            self._reply([line])
        await sleep_ms(self.boot_ms)
        if gen != self._gen:
            return
        self._reply(["Call Ready"])
        self._reply(["SMS Ready"])

    def _power_off(self):
        self._gen += 1
        self._reset_state()
        self.off = True

    def fault(self, kind):
        # inject one fault now (or on the next command for the _CMD_FAULTS)
        self.faults += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind in _CMD_FAULTS:
            if len(self._cmd_faults) < 64:
                self._cmd_faults.append(kind)
            return
        if self.off and kind != "reboot":
            return
        if kind == "drop":
            if self._tcp is not None:
                self._close_tcp()
                self.ip_state = "TCP CLOSED"
                self.urc("CLOSED")
        elif kind == "garbage" or kind == "nul":
            n = self.rng.between(1, 16)
            b = bytearray(n)
            for i in range(n):
                if kind == "nul":
                    b[i] = 0
                else:
                    v = self.rng.below(256)
                    b[i] = v if v not in (10, 13, 0x3E) else 0x7E
            self._out(bytes(b))
        elif kind == "reboot":
            self.reboot()
        elif kind == "undervolt":
            self.urc("UNDER-VOLTAGE WARNNING")
        elif kind == "pdp":
            self._close_tcp()
            if self.ip_state != "IP INITIAL":
                self.ip_state = "PDP DEACT"
            self.urc("+PDP: DEACT")
        elif kind == "powerdown":
            self.urc("UNDER-VOLTAGE POWER DOWN")
            self._power_off()
            if self.auto_on_ms:
                self._spawn(self._auto_on(self._gen))

    async def _auto_on(self, gen):
        await sleep_ms(self.auto_on_ms)
        if gen == self._gen and self.off:
            self.reboot()

    def pick(self, weights=None):
        w = weights or SOAK_WEIGHTS
        total = 0
        for k in FAULTS:
            total += w.get(k, 0)
        r = self.rng.below(total)
        for k in FAULTS:
            r -= w.get(k, 0)
            if r < 0:
                return k
        return FAULTS[0]

    async def soak(self, n, gap_ms=(5, 40), weights=None):
        # n seeded random faults, one every gap_ms[0]..gap_ms[1] ms. A command
        # fault waits until the previous one has hit its command, so they do not
        # pile up into a wall of failures while the driver is in a long timeout.
        self.soaking = True
        for _ in range(n):
            if not self.soaking:
                break
            await sleep_ms(self.rng.between(gap_ms[0], gap_ms[1]))
            kind = self.pick(weights)
            if kind in _CMD_FAULTS:
                while self._cmd_faults and self.soaking:
                    await sleep_ms(5)
            self.fault(kind)
        self.soaking = False

    def start_soak(self, n, gap_ms=(5, 40), weights=None):
        return self._spawn(self.soak(n, gap_ms, weights))

    # ---- control port ------------------------------------------------------------------------
    async def _control(self, reader, writer):
        writer.write(b"sim800emu ready; try 'help'\n")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                out = self.control(_text(line).strip())
                writer.write(out.encode() + b"\n")
                await writer.drain()
        except (Exception, asyncio.CancelledError):
            pass
        try:
            writer.close()
        except Exception:
            pass

    def control(self, line):
        # one control command -> reply text (also usable from code)
        parts = line.split(" ", 2)
        cmd = parts[0].lower()
        if cmd == "sms" and len(parts) == 3:
            return "ok slot %d" % self.inject_sms(parts[1], parts[2])
        if cmd == "sent":
            return "\n".join(["to %s: %s" % (n, t) for n, t in self.sent]) or "(none)"
        if cmd == "inbox":
            keys = sorted(self.inbox)
            rows = ["%d %s %s: %s" % ((i,) + tuple(self.inbox[i][1:])) for i in keys]
            return "\n".join(rows) or "(empty)"
        if cmd == "ussd" and len(parts) == 3:
            self.ussd[parts[1]] = (parts[2], 15)
            return "ok"
        if cmd == "fault" and len(parts) >= 2 and parts[1] in FAULTS:
            self.fault(parts[1])
            return "ok"
        if cmd == "soak" and len(parts) >= 2:
            if len(parts) == 3:
                self.rng = XorShift(at._int(parts[2], 1))
            self.start_soak(at._int(parts[1], 100))
            return "ok"
        if cmd == "status":
            return "off=%d echo=%d ip=%s tcp=%d inbox=%d sent=%d faults=%d cmds=%d" % (
                self.off,
                self.echo,
                self.ip_state,
                self.connected,
                len(self.inbox),
                len(self.sent),
                self.faults,
                self.commands,
            )
        return "commands: sms <number> <text> | sent | inbox | ussd <code> <answer> | " + (
            "fault <%s> | soak <n> [seed] | status" % "|".join(FAULTS)
        )


async def _close_writer(w):
    try:
        w.close()
        await w.wait_closed()
    except Exception:
        pass


def _done(task):
    try:
        return task.done()
    except Exception:
        return False


def _text(raw):
    try:
        return bytes(raw).decode()
    except Exception:
        return "".join([chr(b) if b < 128 else "?" for b in bytes(raw)])


# ---- command line ------------------------------------------------------------------------------
def _args(argv):
    opts = {"port": 5800, "control": 0, "nmea": 0, "track": None, "seed": 1, "soak": 0}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in opts and i + 1 < len(argv):
            v = argv[i + 1]
            opts[a[2:]] = v if a == "--track" else int(v)
            i += 2
        else:
            print("usage: sim800emu [--port N] [--control N] [--nmea N] [--track CSV]")
            print("                 [--seed N] [--soak N]   (all on 127.0.0.1)")
            raise SystemExit(2)
    return opts


async def main(argv):
    o = _args(argv)
    track = load_track(o["track"]) if o["track"] else None
    emu = Sim800Emu(seed=o["seed"], track=track, boot_ms=1000, max_delay_ms=500, auto_on_ms=5000)
    p = await emu.start(o["port"])
    print("SIM800 emulator: AT on 127.0.0.1:%d" % p)
    cp = await emu.start_control(o["control"] or p + 1)
    print("control on 127.0.0.1:%d (line commands, 'help')" % cp)
    if o["nmea"]:
        print("NMEA on 127.0.0.1:%d" % await emu.start_nmea(o["nmea"]))
    if o["soak"]:
        emu.start_soak(o["soak"], (200, 2000))
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
