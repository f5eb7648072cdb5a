# SIM800 emulator: GPRS context and one TCP connection (CIPMUX=0) on loopback.
# Licence: MIT (this project).
#
# Manual receive (+CIPRXGET: 1, then 2,got,left + bytes) or +IPD,n: pushes.
# AT+CIPSTART to any host other than 127.x.x.x / localhost answers CONNECT FAIL
# and opens nothing.

import asyncio

from ovms import at
from ovms.aio import sleep_ms
from ovms.units import dec_int
from tools.sim800emu.base import close_writer, loopback, nodelay

RX_MAX = 65536
MSS = 1460  # bytes of payload per TCP segment (the SIM800's CIPSEND maximum)
TCPIP_HEADER = 40  # IPv4 20 + TCP 20 bytes, no options


class Wire:
    # bytes on the GPRS link, counted where the emulator meets the network (D64):
    # payload as the modem's TCP socket carries it, and with TCP/IP overhead: every
    # payload segment (<= MSS: each CIPSEND, each chunk the socket delivers) carries a
    # 40-byte IPv4+TCP header and is acknowledged by one 40-byte pure ACK the other
    # way (no delayed or piggybacked ACKs: an upper bound, real stacks send fewer);
    # a connection costs SYN / SYN-ACK / ACK (80 up, 40 down), a close FIN+ACK each
    # way (80 up, 80 down). Operators bill IP bytes, so wire_* is what a plan counts.
    def __init__(self):
        self.payload_up = self.payload_down = 0
        self.segments_up = self.segments_down = 0
        self.connects = self.closes = 0

    def up(self, n):
        self.payload_up += n
        self.segments_up += (n + MSS - 1) // MSS

    def down(self, n):
        self.payload_down += n
        self.segments_down += (n + MSS - 1) // MSS

    def wire_up(self):
        segs = self.segments_up + self.segments_down  # own data + ACKs of theirs
        return self.payload_up + TCPIP_HEADER * (segs + 2 * self.connects + 2 * self.closes)

    def wire_down(self):
        segs = self.segments_down + self.segments_up
        return self.payload_down + TCPIP_HEADER * (segs + self.connects + 2 * self.closes)


class EmuTcp:
    @property
    def wire(self):
        w = getattr(self, "_wire", None)
        if w is None:
            w = self._wire = Wire()
        return w

    def _close_tcp(self):
        t = getattr(self, "_tcp", None)
        self._tcp = None
        self._rx = b""
        if t is not None:
            self.wire.closes += 1
            t[2].cancel()
            # MicroPython's StreamWriter.close() does nothing; wait_closed() closes
            self._spawn(close_writer(t[1]))

    @property
    def connected(self):
        return self._tcp is not None

    def _cipshut(self, c, line):
        self._close_tcp()
        self.ip_state = "IP INITIAL"
        return ["SHUT OK"]

    def _cstt(self, c, line):
        if self.ip_state != "IP INITIAL":
            return ["ERROR"]
        self.ip_state = "IP START"
        return ["OK"]

    def _ciicr(self, c, line):
        if self.ip_state != "IP START":
            return ["ERROR"]
        self.ip_state = "IP GPRSACT"
        return ["OK"]

    def _cifsr(self, c, line):
        if self.ip_state not in ("IP GPRSACT", "IP STATUS", "TCP CLOSED", "CONNECT OK"):
            return ["ERROR"]
        if self.ip_state == "IP GPRSACT":
            self.ip_state = "IP STATUS"
        return ["10.64.12.34"]

    def _cipsend(self, c, line):
        n = dec_int(c[9:])
        if self._tcp is None or n <= 0 or n > 1460:
            return ["ERROR"]
        self.mode = ("tcp", n)
        self._out(b"\r\n> ")
        return None

    def _cipclose(self, c, line):
        if self._tcp is None:
            return ["ERROR"]
        self._close_tcp()
        self.ip_state = "TCP CLOSED"
        return ["CLOSE OK"]

    def _tcp_payload(self, payload):
        # the n bytes after a CIPSEND prompt
        if self._tcp is None:
            self._reply(["SEND FAIL"])
            return
        try:
            self._tcp[1].write(payload)
        except Exception:
            self._reply(["SEND FAIL"])
            return
        self.wire.up(len(payload))
        self._reply(["SEND OK"])

    def _cipstart(self, c, line):
        f = at.fields(line[line.find("=") + 1 :])
        if len(f) < 3 or f[0].upper() != "TCP":
            return ["ERROR"]
        if self._tcp is not None:
            return ["ERROR", "ALREADY CONNECT"]
        if self.ip_state not in ("IP STATUS", "TCP CLOSED", "IP INITIAL"):
            return ["ERROR"]
        host = f[1]
        port = dec_int(f[2])
        self.ip_state = "TCP CONNECTING"
        self._spawn(self._connect(host, port, self._gen))
        return ["OK"]

    async def _connect(self, host, port, gen):
        await sleep_ms(self.connect_delay_ms)
        # remote_ok (tools/sim.py --server with a host outside this machine, set only
        # on the owner's explicit request): the real network; otherwise loopback only
        remote = getattr(self, "remote_ok", False) and not loopback(host)
        if not (remote or loopback(host)) or port <= 0 or port > 65535:
            if gen == self._gen:
                self.ip_state = "TCP CLOSED"
                self.urc("CONNECT FAIL")
            return
        try:
            r, w = await asyncio.open_connection(host if remote else "127.0.0.1", port)
        except Exception:
            if gen == self._gen:
                self.ip_state = "TCP CLOSED"
                self.urc("CONNECT FAIL")
            return
        if gen != self._gen or self.ip_state != "TCP CONNECTING":
            await close_writer(w)
            return
        nodelay(w)
        self.wire.connects += 1
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
                self.wire.down(len(data))
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
        except Exception:  # noqa: S110 (the peer went away: CLOSED below)
            pass
        if me is not None and self._tcp is me:
            self.wire.closes += 1  # the server closed
            self._tcp = None
            self._rx = b""
            self.ip_state = "TCP CLOSED"
            self.urc("CLOSED")

    def _ciprxget(self, c, line):
        f = c[10:].split(",")
        mode = dec_int(f[0])
        if mode == 0 or mode == 1:
            self.rxmode = mode
            return ["OK"]
        if mode == 2:
            if self._tcp is None:
                return ["ERROR"]
            n = dec_int(f[1]) if len(f) > 1 else 1460
            if n <= 0:
                return ["ERROR"]
            n = min(n, 1460)
            data = self._rx[:n]
            self._rx = self._rx[n:]
            return ["+CIPRXGET: 2,%d,%d" % (len(data), len(self._rx)), data, "OK"]
        if mode == 4:
            return ["+CIPRXGET: 4,%d" % len(self._rx), "OK"]
        return ["ERROR"]
