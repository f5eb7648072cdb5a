# Fault soak: per seed, 1,000 seeded random faults from the emulator
# (tools/sim800emu) while SMS and TCP traffic run through the SIM800 driver.
# Asserted EXACTLY, per seed: every injected SMS answered exactly once (0 lost,
# 0 duplicated, as the emulator recorded what it sent), every reply text
# correct, the driver READY again, no exception escaped (bugs 0, run() alive),
# the TCP link heals and never delivered corrupt data, and (unix port) the heap
# did not grow. `make test` runs SEEDS; `make soak` (tools/soak.py) runs 20 seeds
# in both runtimes, two at a time, with SOAK_SEEDS set per run.
# Runs under pytest and host_tests/mprunner.py. Licence: MIT (this project).
#
# SOAK_SEEDS (environment, "1,2,3") and SOAK_FAULTS change the run.
# Memory: mem_alloc after a 100-fault warm-up vs after the whole run.
import asyncio
import gc
import os
import sys

from support import MICROPYTHON, echo_server, modem_on_emu, run_async, stop_modem, wait_until

from firmware.hal.sim800_at import READY
from ovms.aio import sleep_ms, ticks_diff, ticks_ms
from tools.sim800emu import Sim800Emu

OWNER = "+4915112345678"
FAULTS = 1000
SEEDS = (2026, 2027, 2028)
WARMUP = 100  # faults before the first memory reading
GAP_MS = (1, 15)  # between faults: 8 ms on average, plus the wait for a command


def _env(name):
    try:
        return os.getenv(name)
    except Exception:
        return None


if _env("SOAK_SEEDS"):
    SEEDS = tuple([int(x) for x in _env("SOAK_SEEDS").split(",") if x.strip()])
if _env("SOAK_FAULTS"):
    FAULTS = int(_env("SOAK_FAULTS"))


def _mem():
    gc.collect()
    gc.collect()
    return gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0


async def _tcp_traffic(m, port, stats, run):
    # echo exchanges over the modem's TCP stream; any OSError/timeout means
    # "link lost": close, reconnect. Wrong echo data is counted as corrupt.
    seq = 0
    while run[0]:
        s = None
        try:
            s = await m.open_tcp("127.0.0.1", port)
            stats["connects"] += 1
            while run[0]:
                seq += 1
                msg = b"MP-0 seq=%d ......................................\r\n" % seq
                s.write(msg)
                await s.drain()
                got = await asyncio.wait_for(s.readexactly(len(msg)), 2)
                if got != msg:
                    stats["corrupt"] += 1
                    break
                stats["echoes"] += 1
        except (OSError, asyncio.TimeoutError):
            stats["drops"] += 1
        except Exception as e:  # anything else escaped the driver: a bug
            stats["escaped"].append(repr(e))
        if s is not None:
            try:
                await s.close()
            except Exception as e:
                stats["escaped"].append(repr(e))
        await sleep_ms(10)


async def _sms_traffic(emu, stats, run):
    n = stats["sms_injected"]
    while run[0]:
        await sleep_ms(80)
        if len(emu.inbox) < 20:
            n += 1
            emu.inject_sms(OWNER, "Q%d" % n)
            stats["sms_injected"] = n


def _fold(emu, replies, stats):
    # count the emulator's sent SMS per request number into `replies`
    # (bytearray, preallocated: keeps the memory reading flat), then clear them
    for number, text in emu.sent:
        n = int(text[4:]) if text[:4] == "re Q" and text[4:].isdigit() else -1
        if number != OWNER or n <= 0 or n >= len(replies):
            stats["unexpected"] += 1
            if len(stats["odd"]) < 5:
                stats["odd"].append((number, text))
        elif replies[n] < 255:
            replies[n] += 1
        stats["answered"] += 1
    emu.sent = []


async def _phase(emu, m, port, faults, stats, replies):
    # traffic + `faults` faults, then stop the traffic and wait until every SMS
    # injected so far is answered and the driver is READY; returns settled?
    run = [True]
    tcp = asyncio.create_task(_tcp_traffic(m, port, stats, run))
    sms = asyncio.create_task(_sms_traffic(emu, stats, run))
    await emu.soak(faults, GAP_MS)  # returns after the last fault
    run[0] = False
    await sms
    want = stats["sms_injected"]

    def settled():
        return (
            m.state == READY
            and not emu.inbox
            and not m.pending_sms()
            and stats["answered"] + len(emu.sent) >= want
            and not emu._cmd_faults
        )

    # bounds a hang only (a powerdown near the end costs the whole ladder)
    ok = await wait_until(settled, 60000)
    await asyncio.wait_for(tcp, 10)
    _fold(emu, replies, stats)
    return ok


async def _soak(seed):
    loop = asyncio.get_event_loop()
    escaped = []
    loop.set_exception_handler(lambda lp, ctx: escaped.append(repr(ctx.get("exception"))))
    srv, port = await echo_server()
    emu = Sim800Emu(seed=seed, boot_ms=20, max_delay_ms=30)
    emu, m = await modem_on_emu(emu, on_sms=lambda s, t: ["re " + t])
    stats = {
        "connects": 0,
        "echoes": 0,
        "drops": 0,
        "corrupt": 0,
        "escaped": [],
        "sms_injected": 0,
        "answered": 0,
        "unexpected": 0,
        "odd": [],  # the first unexpected replies, for the failure message
    }
    replies = bytearray(8192)  # replies[n]: answers to "Q<n>"
    try:
        assert await m.wait_ready(3000)
        t0 = ticks_ms()
        # memory is read at the same point of both phases (settled, no
        # traffic), with the test's own log of sent SMS set aside
        ok1 = await _phase(emu, m, port, WARMUP, stats, replies)
        mem0 = _mem()
        ok2 = await _phase(emu, m, port, FAULTS - WARMUP, stats, replies)
        mem1 = _mem()
        dt = ticks_diff(ticks_ms(), t0)
        want = stats["sms_injected"]
        # a last clean exchange proves the link heals
        s = await m.open_tcp("127.0.0.1", port)
        s.write(b"final")
        await s.drain()
        assert await asyncio.wait_for(s.readexactly(5), 3) == b"final"
        await s.close()
        missing = [i for i in range(1, want + 1) if replies[i] == 0]
        twice = [i for i in range(1, want + 1) if replies[i] > 1]
        c = m.counters
        print(
            "soak: %s seed=%d faults=%d (%s) in %d ms; SMS in=%d answered=%d lost=%d "
            "duplicated=%d wrong=%d; TCP connects=%d echoes=%d drops=%d corrupt=%d; "
            "modem %s; mem_alloc after warm-up=%d at end=%d"
            % (
                sys.implementation.name,
                seed,
                emu.faults,
                " ".join(["%s=%d" % (k, emu.counts[k]) for k in sorted(emu.counts)]),
                dt,
                want,
                stats["answered"],
                len(missing),
                len(twice),
                stats["unexpected"],
                stats["connects"],
                stats["echoes"],
                stats["drops"],
                stats["corrupt"],
                " ".join(["%s=%d" % (k, c[k]) for k in sorted(c)]),
                mem0,
                mem1,
            )
        )
        assert ok1 and ok2, (m.state, len(emu.inbox), m.pending_sms(), stats["answered"], want)
        assert emu.faults == FAULTS
        assert m.state == READY and m.fatal is None, m.fatal
        # exactly once, by what the emulator sent: 0 lost, 0 duplicated, texts right
        assert not missing and not twice, (seed, missing[:10], twice[:10])
        assert stats["unexpected"] == 0, stats["odd"]
        assert stats["answered"] == want
        # and by the driver's own account
        assert c["sms_in"] == want and c["sms_out"] == want, c
        assert c["sms_dropped"] == 0 and c["sms_lost"] == 0 and c["sms_cut"] == 0
        assert emu.lost_sms == 0
        assert stats["corrupt"] == 0
        assert stats["echoes"] > 0 and stats["connects"] > 1
        assert not stats["escaped"], stats["escaped"]
        assert not escaped, escaped
        assert c["bugs"] == 0, m.last_error
        assert c["reboots"] > 0 and c["pin"] > 0
        if MICROPYTHON:
            assert mem1 - mem0 < 16 * 1024, (mem0, mem1)
    finally:
        await stop_modem(emu, m)
        srv.close()


def test_fault_soak():
    for seed in SEEDS:
        run_async(_soak(seed))
