# Shared helpers for host tests (both runtimes). Licence: MIT (this project).
import sys

MICROPYTHON = sys.implementation.name == "micropython"

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
ROOT = _here.rsplit("/", 1)[0] if "/" in _here else ".."
if ROOT == "" or _here == ROOT:
    ROOT = "."
TRACES = _here + "/fixtures/traces"
TRACE_PREFIX = TRACES + "/Twizy-Virtual-BMS__Protocol."


def trace(name):
    # trace("Init-Drv") -> path of the bundled real recording
    return TRACE_PREFIX + name + ".candump.log"


def run_async(coro):
    # fresh event loop per test: MicroPython tasks survive into the next run()
    import asyncio

    asyncio.new_event_loop()
    return asyncio.run(coro)


def frame(hexdata):
    # "07 97 C7 54 ..." or "0797C754..." -> (bytearray(8) slot, dlc)
    raw = bytes.fromhex(hexdata.replace(" ", ""))
    slot = bytearray(8)
    slot[: len(raw)] = raw
    return slot, len(raw)


# ---- temporary directories (both runtimes; no tempfile on MicroPython) -------
# TMP_ROOT: where tmpdir() makes its folders. /tmp on a PC; the emulated Cortex-M has no
# /tmp (its only writable filesystem is the host folder mounted by mpremote), so its
# runner sets TMP_ROOT (set_tmp_root) before the tests run.
_tmp_count = [0]
TMP_ROOT = ["/tmp"]


def set_tmp_root(path):
    TMP_ROOT[0] = path


def tmpdir(tag="t"):
    # a fresh empty directory under TMP_ROOT with a unique name; a root that cannot be
    # written raises OSError (never loops)
    import os
    import random

    for _ in range(100):
        _tmp_count[0] += 1
        path = "%s/ovms-%s-%08x-%d" % (TMP_ROOT[0], tag, random.getrandbits(30), _tmp_count[0])
        try:
            os.mkdir(path)
            return path
        except OSError:
            try:
                os.stat(path)  # exists: try another name
            except OSError:
                raise OSError("tmpdir: cannot create a folder under " + TMP_ROOT[0])
    raise OSError("tmpdir: no free name under " + TMP_ROOT[0])


def rmtree(path):
    # a folder made by tmpdir() with everything in it (the app tests make subfolders)
    from tools.fsutil import rmtree as remove

    remove(path)


# ---- SIM800 driver against the emulator (test_sim800*.py, test_emu*.py) ----------------
# Short timeouts so the fault tests stay fast; the emulator's injected delays
# (max_delay_ms) stay below "default" so a delayed reply is never a timeout.
MODEM_FAST = {
    "default": 100,
    "AT+CGATT": 100,
    "AT+CIPSHUT": 100,
    "AT+CIICR": 100,
    "AT+CIPSTART": 600,
    "AT+CIPSTART_INITIAL": 600,
    "AT+CMGS": 200,
    "AT+CIPSEND": 200,
    "AT+CMGL": 200,
    "AT+CMGD": 100,
    "AT+CFUN": 100,
    "AT+CUSD": 100,
    "ussd": 1000,
    "prompt": 100,
    "autobaud": 60,
    "autobaud_tries": 8,
    "sync_tries": 3,
    "del_retry": 300,
    "banner": 5000,
    "idle": 50,
    "csq": 500,
    "sweep": 1000,
    "gnss": 100,
    "rx_poll": 200,
    "backoff": 20,
    "boot": 40,
    "pin": 5,
    "tmo_streak": 3,
    "sms_tries": 30,
}


async def modem_on_emu(emu=None, timing=None, wrap=None, **kw):
    # start a Sim800Emu (unless given) and a Sim800 driver talking to it over
    # loopback TCP; returns (emu, modem). The caller stops both (stop_modem).
    # wrap(writer) -> a writer stand-in (fault tests on the driver's side).
    import asyncio

    from firmware.hal.sim800 import Sim800
    from tools.sim800emu import Sim800Emu, nodelay

    if emu is None:
        emu = Sim800Emu(seed=1)
    port = await emu.start()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    nodelay(w)
    if wrap is not None:
        w = wrap(w)
    t = dict(MODEM_FAST)
    if timing:
        t.update(timing)
    if "reset_pin" not in kw:
        kw["reset_pin"] = emu.pin
    m = Sim800(r, w, timing=t, **kw)
    m.start()
    return emu, m


async def stop_modem(emu, m):
    await m.stop()
    await emu.close()


async def steps_until(cond, ms=5000):
    # poll cond() every 1 ms asleep, at most ms times: a count of loop steps, not wall time
    # (bounds a hang only; the supervisor tests) -> the last cond() value
    from ovms.aio import sleep_ms

    n = 0
    while not cond() and n < ms:
        await sleep_ms(1)
        n += 1
    return cond()


async def wait_until(cond, ms=5000, step_ms=10):
    # poll cond() until true or ms elapsed; returns the last cond() value
    from ovms.aio import sleep_ms, ticks_diff, ticks_ms

    t0 = ticks_ms()
    while not cond():
        if ticks_diff(ticks_ms(), t0) >= ms:
            return cond()
        await sleep_ms(step_ms)
    return True


async def echo_server():
    # a real TCP echo server on 127.0.0.1 -> (server, port)
    import asyncio

    from tools.sim800emu import listen, nodelay

    async def serve(r, w):
        nodelay(w)
        try:
            while True:
                d = await r.read(1024)
                if not d:
                    break
                w.write(d)
                await w.drain()
        except (Exception, asyncio.CancelledError):
            pass
        try:
            w.close()
            await w.wait_closed()
        except Exception:
            pass

    return await listen(serve, 0)


# ---- CAN adapter contract (test_can_fake.py, test_can_adapters.py) ----------------
# One suite for every adapter behind firmware/hal/can.py. make() -> (adapter, inject):
# inject(can_id, data) puts one frame on the bus (through the adapter's acceptance
# filter, as the controller would see it). USED is an ID the adapter is filtered for,
# UNUSED one it is not.
CAN_USED = 0x155
CAN_UNUSED = 0x080


def recv_locked(adapter, buf):
    # adapter.recv(buf) with the heap locked on the unix port (any allocation raises)
    try:
        import micropython
    except ImportError:
        return adapter.recv(buf)
    micropython.heap_lock()
    try:
        r = adapter.recv(buf)
    finally:
        micropython.heap_unlock()
    return r


def can_contract(make):
    a, inject = make()
    buf = bytearray(8)
    # nothing is received before start()
    inject(CAN_USED, b"\x01\x02")
    assert a.recv(buf) == -1
    a.start()
    assert a.started
    assert a.recv(buf) == -1
    # one frame: ID, DLC and data into the caller's slot
    inject(CAN_USED, b"\x07\x97\xc7\x54\x97\x98\x00\x73")
    assert a.recv(buf) == CAN_USED
    assert a.dlc == 8 and bytes(buf) == b"\x07\x97\xc7\x54\x97\x98\x00\x73"
    assert a.recv(buf) == -1
    # the acceptance filter: unused IDs never arrive
    inject(CAN_UNUSED, b"\x01")
    assert a.recv(buf) == -1
    # short frames, order kept (FIFO), the slot reused
    inject(0x597, b"\x00\xe4")
    inject(0x69F, b"\xf0\x82\x87\x37")
    assert a.recv(buf) == 0x597 and a.dlc == 2 and buf[:2] == b"\x00\xe4"
    assert a.recv(buf) == 0x69F and a.dlc == 4 and buf[:4] == b"\xf0\x82\x87\x37"
    assert a.recv(buf) == -1
    # the receive path allocates nothing (proven on the unix port)
    inject(0x5D7, b"\x00\x00\x04\x06\x75\x20\x00")
    assert recv_locked(a, buf) == 0x5D7 and a.dlc == 7
    assert recv_locked(a, buf) == -1
    assert a.frames == 4
    # listen-only: no transmit
    try:
        a.send(0x601, b"\x40")
        raise AssertionError("send() must fail while listen-only")
    except OSError:
        pass
    a.check()
    c = a.counters()
    assert c["frames"] == 4 and c["overruns"] == 0 and c["bus_off"] == 0
    return a


async def can_wakes(a, inject, ms=500):
    # a frame arriving while a task waits on a.wait() wakes it
    import asyncio

    from ovms.aio import sleep_ms

    woke = []

    async def waiter():
        await a.wait()
        woke.append(1)

    t = asyncio.create_task(waiter())
    await sleep_ms(5)
    assert not woke
    inject(CAN_USED, b"\x00")
    await wait_until(lambda: woke, ms)
    t.cancel()
    return bool(woke)


# ---- a modem port's writer, passed through (both runtimes) -----------------------------
class PassWriter:
    # forwards everything to the asyncio writer w; a test overrides write() to watch or
    # break the port's writes
    def __init__(self, w):
        self.w = w

    def write(self, data):
        self.w.write(data)

    async def drain(self):
        await self.w.drain()

    def close(self):
        self.w.close()

    async def wait_closed(self):
        await self.w.wait_closed()


# ---- log capture (both runtimes) -------------------------------------------------------
class LogCapture:
    # replaces a logger's info/warning/error for a test (both runtimes): quiet,
    # and the messages can be asserted; release() puts the logger back
    def __init__(self, tag):
        from ovms import log

        self.lg = log.get(tag)
        self.got = []
        for level in ("info", "warning", "error"):
            setattr(self.lg, level, self._rec(level))

    def _rec(self, level):
        def rec(msg, *args):
            self.got.append((level, msg % args if args else msg))

        return rec

    def release(self):
        for level in ("info", "warning", "error"):
            delattr(self.lg, level)

    def levels(self):
        return [g[0] for g in self.got]

    def text(self):
        return "\n".join([g[1] for g in self.got])


# ---- whole real traces through FakeCan (test_can_fake_*.py) --------------------------
def can_used_in(name):
    # used-ID frames of a bundled trace, counted from the file itself
    n = 0
    from firmware.hal.can_fake import read_trace
    from ovms.twizy.frames import USED_IDS

    for r in read_trace(trace(name)):
        if r[1] in USED_IDS:
            n += 1
    return n


class FrameRecorder:
    # a vehicle stand-in for can_rx: the IDs it was handed (and when, on a virtual clock)
    def __init__(self, clock=None):
        self.ids = []
        self.t = []
        self.clock = clock

    def frame(self, can_id, data, dlc):
        self.ids.append(can_id)
        if self.clock is not None:
            self.t.append(self.clock.now)
