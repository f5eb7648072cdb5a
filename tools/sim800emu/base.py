# SIM800 emulator helpers: seeded random numbers, loopback rule, sockets, track files.
# Licence: MIT (this project).

import asyncio
import sys

from ovms import gnss
from ovms.units import digits


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
    # ASCII digits only (str.isdigit() takes "١" on CPython, and int() reads it)
    return all(digits(p) and len(p) <= 3 and int(p) <= 255 for p in parts)


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
        except Exception:  # noqa: S110 (not a TCP socket)
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
    course = gnss.dec_scaled(f[5], 0) if len(f) > 5 and f[5] else 0
    return (
        gnss.dec_scaled(f[0], 3),
        gnss.dec_scaled(f[1], 6),
        gnss.dec_scaled(f[2], 6),
        gnss.dec_scaled(f[3], 0),
        gnss.dec_scaled(f[4], 2),
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


async def close_writer(w):
    try:
        w.close()
        await w.wait_closed()
    except Exception:  # noqa: S110 (already closed)
        pass


def done(task):
    try:
        return task.done()
    except Exception:
        return False


def text_of(raw):
    try:
        return bytes(raw).decode()
    except Exception:
        return "".join([chr(b) if b < 128 else "?" for b in bytes(raw)])
