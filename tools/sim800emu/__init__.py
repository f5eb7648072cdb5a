# SIM800/SIM808 emulator on a TCP socket (127.0.0.1 only), with fault injection.
# Licence: MIT (this project).
#
# Speaks the AT subset firmware/hal/sim800*.py uses, so the whole radio side
# runs on a host. Written with asyncio only: it runs inside the test's own
# event loop under CPython *and* the MicroPython unix port (which has no
# subprocess module), or stand-alone:
#
#   python3 -m tools.sim800emu --port 5800 [--control 5801] [--nmea 5802]
#                              [--track FILE] [--seed N] [--soak N]
#   micropython -m tools.sim800emu ...   (same, MICROPYPATH=.frozen:lib:.)
#
# Rooms: base (helpers), commands (the AT command table), sms, tcp, gnss,
# faults (resets, faults, scripts, soak), control (control port, command line).
#
# Emulated behaviour (SIM800 manual and platform.md §7): echo on after reset
# until ATE0; replies framed "\r\n<line>\r\n", one write per reply; "\r\n> "
# prompts for CMGS and CIPSEND, ESC (0x1B) leaves text entry; SMS text mode with
# SIM storage (sm_slots slots, kept over a reboot, new SMS lost when full);
# manual TCP receive (+CIPRXGET: 1 / 2,got,left + bytes) or +IPD,n: pushes; USSD
# answers as +CUSD URCs; +CGNSINF and NMEA GGA/RMC from a track file.

import asyncio

from ovms import at
from ovms.aio import sleep_ms, ticks_diff, ticks_ms
from tools.sim800emu import commands
from tools.sim800emu.base import (  # noqa: F401 (public names of the emulator)
    EmuPin,
    XorShift,
    close_writer,
    done,
    listen,
    load_track,
    loopback,
    nodelay,
    parse_track_row,
)
from tools.sim800emu.control import EmuControl, main  # noqa: F401
from tools.sim800emu.faults import CMD_FAULTS, FAULTS, SOAK_WEIGHTS, EmuFaults  # noqa: F401
from tools.sim800emu.gnss import EmuGnss
from tools.sim800emu.sleep import EmuSleep
from tools.sim800emu.sms import EmuSms
from tools.sim800emu.tcp import EmuTcp

CR = b"\r"
SM_SLOTS = 30
HISTORY = 200


class Sim800Emu(EmuSms, EmuTcp, EmuGnss, EmuFaults, EmuControl, EmuSleep):
    def __init__(
        self,
        seed=1,
        track=None,
        ussd=None,
        boot_ms=30,
        max_delay_ms=40,
        auto_on_ms=0,
        sm_slots=SM_SLOTS,
        late_banner=False,
    ):
        self.rng = XorShift(seed)
        self.track = track or []
        self.ussd = {"*100#": ("Balance: 5.00 EUR, valid until 31.12.2026", 15)}
        if ussd:
            for k in ussd:
                self.ussd[k] = ussd[k]
        self.boot_ms = boot_ms
        self.max_delay_ms = max_delay_ms
        self.auto_on_ms = auto_on_ms  # powerdown without a pin: back after this (0 = never)
        self.sm_slots = sm_slots  # SIM storage size (AT+CPMS)
        self.late_banner = late_banner  # Call Ready / SMS Ready held until the next SMS (B)
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
        self.cmd_counts = {}  # command key ("+CMGL", "+CMGD", ...) -> lines received
        self.history = []  # the last HISTORY command lines, oldest first
        self.cmgs_delay_ms = 0  # the network takes this long to confirm an SMS (+CMGS)
        self._late = None  # the +CMGS reply being delayed
        self.pin = EmuPin(self)
        self._writer = None
        self._servers = []
        self._tasks = []
        self._t0 = ticks_ms()
        self._smsno = 0
        self._cmd_faults = []
        self._scripts = []  # [prefix, kind, count, after]
        self._held_banner = []
        self._gen = 0  # boot generation: work started before a reset is dropped
        self.soaking = False
        self._sleep_setup()  # AT+CSCLK, DTR, RI (sleep.py)
        self._reset_state()
        self.booting_until = ticks_ms()
        self.off = False

    # ---- state -----------------------------------------------------------------
    def _reset_state(self):
        self._sleep_reset()  # AT+CSCLK=0 after a reset
        self.echo = True
        self.cmgf = 0
        self.cnmi = False
        self.creg_n = 0
        self.cmee = 0
        self.s7 = 60
        self.rxmode = 0  # 1 = manual receive (CIPRXGET=1)
        self.iphead = 0
        self.ip_state = "IP INITIAL"
        self.gnss_on = False
        self.mode = None  # None | ("sms", number) | ("tcp", n)
        self._inbuf = b""
        self._close_tcp()

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
            await close_writer(t[1])
        for t in self._tasks:
            t.cancel()
        self._tasks = []
        if self._writer is not None:
            await close_writer(self._writer)
            self._writer = None
        for s in self._servers:
            s.close()
            try:
                await s.wait_closed()
            except Exception:  # noqa: S110 (already closed)
                pass
        self._servers = []

    def _spawn(self, coro):
        self._tasks = [x for x in self._tasks if not done(x)]
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
        except Exception:  # noqa: S110 (the driver went away)
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
        if not self.off and self._urc_passes():  # asleep: maybe lost (sleep.py)
            self._reply([line])

    # ---- the modem's UART -------------------------------------------------------------
    async def _client(self, reader, writer):
        if self._writer is not None:  # one UART: a new client replaces the old
            self._spawn(close_writer(self._writer))
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
        await close_writer(writer)

    async def _input(self, data):
        if self.off or ticks_diff(self.booting_until, ticks_ms()) > 0:
            return  # off or booting: the UART is deaf
        if self._deaf(len(data)):
            return  # sleep mode 1: asleep, or DTR fell less than dtr_wake_ms ago
        self._inbuf += data
        while self._inbuf:
            if self.mode is not None:
                if not self._data_mode():
                    return
                if self._late is not None:
                    # a slow network: the modem takes no command until it answers
                    lines = self._late
                    self._late = None
                    gen = self._gen
                    await sleep_ms(self.cmgs_delay_ms)
                    if gen != self._gen or self.off:
                        return
                    self._reply(lines)
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
        n = m[1]  # tcp: exactly n bytes
        if len(buf) < n:
            return False
        self._inbuf = buf[n:]
        self.mode = None
        self._tcp_payload(buf[:n])
        return True

    async def _command(self, line):
        self.commands += 1
        k = _cmd_key(line)
        self.cmd_counts[k] = self.cmd_counts.get(k, 0) + 1
        self.history.append(line)
        if len(self.history) > HISTORY:
            self.history.pop(0)
        gen = self._gen
        after = None
        s = self._scripted(line.upper())
        if s is not None:
            fault, after = s
        else:
            fault = self._cmd_faults.pop(0) if self._cmd_faults else None
        if fault == "noreply" and commands.prompted(line):
            fault = "missing"  # a lost prompt: the modem never entered text mode
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
            lines = commands.execute(self, line)
        except Exception:
            lines = ["ERROR"]
        if after is not None:
            after()
        if lines is None or fault == "noreply":
            return
        if fault == "urc_mid" and len(lines) >= 2:
            lines.insert(len(lines) - 1, "+CREG: %d" % self.creg_stat)
        elif fault == "urc_mid":
            lines.insert(0, "RING")
        elif fault == "tail":  # "~..." so it never reads as a result code or a URC
            lines.append("~" + self._garbage(printable=True).decode())
        self._reply(lines)


def _cmd_key(line):
    # "AT+CMGD=3" -> "+CMGD", "ATE0" -> "E0"
    u = line.upper()[2:]
    i = 0
    while i < len(u) and u[i] not in "=?":
        i += 1
    return u[:i]
