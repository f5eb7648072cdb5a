# Shared helpers for host tests (both runtimes). Licence: MIT (this project).
import sys

MICROPYTHON = sys.implementation.name == "micropython"

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
ROOT = _here.rsplit("/", 1)[0] if "/" in _here else ".."
if ROOT == "" or ROOT == _here:
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
_tmp_count = [0]


def tmpdir(tag="t"):
    # a fresh empty directory under /tmp with a unique name
    import os
    import random

    while True:
        _tmp_count[0] += 1
        path = "/tmp/ovms-%s-%08x-%d" % (tag, random.getrandbits(32), _tmp_count[0])
        try:
            os.mkdir(path)
            return path
        except OSError:
            continue


def rmtree(path):
    # remove a directory made by tmpdir() with its files (no subdirectories)
    import os

    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        try:
            os.remove(path + "/" + n)
        except OSError:
            pass
    try:
        os.rmdir(path)
    except OSError:
        pass


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
    "quiet": 30,
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


async def modem_on_emu(emu=None, timing=None, **kw):
    # start a Sim800Emu (unless given) and a Sim800 driver talking to it over
    # loopback TCP; returns (emu, modem). The caller stops both (stop_modem).
    import asyncio

    from firmware.hal.sim800 import Sim800
    from tools.sim800emu import Sim800Emu, nodelay

    if emu is None:
        emu = Sim800Emu(seed=1)
    port = await emu.start()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    nodelay(w)
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
