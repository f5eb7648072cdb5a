# The CAN adapter interface and the behaviour every adapter shares.
# Licence: MIT (this project).
#
# One small surface (STYLE §4), implemented by
#   can_machine.CANMachine   machine.CAN (MicroPython >= 1.28: STM32, MIMXRT, Alif)
#   can_pyb.CANPyb           pyb.CAN (STM32, every version)
#   can_fake.FakeCan         host / simulation: a candump trace replayed on the asyncio clock
# ESP32: the on-chip TWAI through machine.CAN (MicroPython PR #19461, a custom build; see
# firmware/boards/esp32.py). No MCP2515 adapter: from Python it cannot catch the Twizy's
# battery group (4 frames within about 0.5 ms, 2 receive buffers).
#
#   a.start()           acceptance filters for `ids` (the vehicle's list, passed in by the
#                       app: a driver knows no vehicle; None = accept all), the RX wake-up;
#                       the controller is listen-only (no ACK, no TX, spec §1.1) from its
#                       construction on; nothing is received before start(). A start-up
#                       failure deinits the controller and raises.
#   a.recv(buf) -> id   copy the oldest waiting frame into `buf` (a caller-owned bytearray(8)),
#                       set a.dlc, return the 11-bit ID; -1 when nothing waits. Allocates
#                       nothing (the first call with a new buffer builds one memoryview).
#   a.dlc               data length of the frame recv() returned last
#   await a.wait()      until frames may be waiting: a flag set from the RX interrupt (or by
#                       the fake's feeder); without an interrupt it polls every poll_ms.
#                       A wake-up can be spurious: drain with recv() until -1.
#   a.check()           once a second from a task: bus-off recovery (restart()), counters
#                       from the controller, and one kick of the flag (no wake-up is lost
#                       for longer than a second even if an IRQ was missed)
#   a.send(id, data)    OSError while listen-only (the Twizy module never transmits)
#   counters            frames (received), overruns (frames lost: FIFO full), errors
#                       (receive error flags, RTR/extended frames dropped), bus_off
#                       (recoveries done)
#
# The flag lives inside the adapter (tasks never touch ThreadSafeFlag): on MicroPython an
# asyncio.ThreadSafeFlag, which may be set from a hard IRQ; on CPython an Event that
# clears itself once its waiter has woken (the same behaviour).

import asyncio
import errno

from ovms.aio import sleep_ms

BITRATE = 500_000  # bit/s (spec §1.1)
STD_MASK = 0x7FF  # 11-bit identifiers


def plan_filters(ids, n):
    # the 11-bit IDs -> at most n (id, mask) pairs accepting every one of them and as few
    # others as possible (the decoder drops those). Greedy: start with one exact filter
    # per ID, merge the two whose merged filter lets the fewest IDs through, repeat.
    # The Twizy's 11 IDs into 4 (ESP32 TWAI, FILTERS_MAX 4): (0x154, 0x3F4) for 0x155 and
    # 0x554..0x55F, (0x596, 0x7B6) for 0x597/0x59E/0x5D7, 0x599 and 0x69F exact: 26 IDs
    # pass instead of 11 (one (0x500, 0x700) mask alone would pass 256).
    # Runs once at start (allocates).
    f = [(i & STD_MASK, STD_MASK) for i in sorted(set(ids))]
    if n < 1:
        raise ValueError("no filters")
    while len(f) > n:
        best = None
        for a in range(len(f)):
            for b in range(a + 1, len(f)):
                m = f[a][1] & f[b][1] & ~(f[a][0] ^ f[b][0]) & STD_MASK
                cost = _accepted(m)
                if best is None or cost < best[0]:
                    best = (cost, a, b, m)
        _, a, b, m = best
        merged = (f[a][0] & m, m)
        f = [f[k] for k in range(len(f)) if k != a and k != b] + [merged]
        f.sort()
    return f


def _accepted(mask):
    # IDs an 11-bit (id, mask) filter lets through: 2 ^ (bits not compared)
    n = 1
    for bit in range(11):
        if not mask & (1 << bit):
            n *= 2
    return n


class EventFlag:
    # task-to-task wake-up with ThreadSafeFlag's behaviour (clears itself once its
    # waiter has woken), built on asyncio.Event: for CPython, and for FakeCan,
    # which is set from a task. On the unix port a ThreadSafeFlag is polled
    # through select.poll beside the sockets; with the SIM800 emulator and a
    # server on loopback in the same loop that crashed the 1.29-preview port
    # (SIGSEGV in modselect poll_iternext), and no IRQ needs it there.
    def __init__(self):
        self._ev = asyncio.Event()

    def set(self):
        self._ev.set()

    def clear(self):
        self._ev.clear()

    async def wait(self):
        await self._ev.wait()
        self._ev.clear()


# an IRQ handler may set this one
Flag = asyncio.ThreadSafeFlag if hasattr(asyncio, "ThreadSafeFlag") else EventFlag


class CANAdapter:
    FLAG = Flag  # the wake-up flag class

    def __init__(self, bitrate=BITRATE, ids=None, listen_only=True, irq=True, poll_ms=10):
        self.bitrate = bitrate
        self.ids = ids
        self.listen_only = listen_only
        self.poll_ms = poll_ms  # wait() period without an interrupt
        self.dlc = 0
        self.frames = 0
        self.overruns = 0
        self.errors = 0
        self.bus_off = 0
        self.started = False
        self._flag = self.FLAG() if irq else None

    async def wait(self):
        if self._flag is None:
            await sleep_ms(self.poll_ms)
        else:
            await self._flag.wait()

    def kick(self):
        # wake the waiter (IRQ handlers call this; no allocation)
        if self._flag is not None:
            self._flag.set()

    def check(self):
        self.kick()

    def send(self, can_id, data):
        if self.listen_only:
            raise OSError(errno.EPERM)
        return self._send(can_id, data)

    def _send(self, can_id, data):
        raise OSError(errno.EOPNOTSUPP)

    def counters(self):
        # for logs, DIAG and the sim summary (allocates: not for the frame path)
        return {
            "frames": self.frames,
            "overruns": self.overruns,
            "errors": self.errors,
            "bus_off": self.bus_off,
        }
