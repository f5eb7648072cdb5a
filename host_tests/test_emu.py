# The SIM800 emulator itself (tools/sim800emu.py): loopback rule, control
# commands, seeded fault schedule, track parsing, raw AT dialogue.
# Licence: MIT (this project).
import asyncio

from support import run_async, wait_until

from tools.sim800emu import FAULTS, Sim800Emu, XorShift, loopback, nodelay, parse_track_row


def test_loopback_rule():
    assert loopback("127.0.0.1") and loopback("127.1.2.3") and loopback("localhost")
    for h in ("10.0.0.1", "192.0.2.1", "example.com", "127.0.0", "127.0.0.256", "", "::1"):
        assert not loopback(h)


def test_xorshift_repeatable():
    a = XorShift(7)
    b = XorShift(7)
    seq = [a.below(1000) for _ in range(50)]
    assert seq == [b.below(1000) for _ in range(50)]
    assert seq != [XorShift(8).below(1000) for _ in range(50)]
    e1 = Sim800Emu(seed=3)
    e2 = Sim800Emu(seed=3)
    kinds = [e1.pick() for _ in range(200)]
    assert kinds == [e2.pick() for _ in range(200)]
    assert set(kinds) <= set(FAULTS)


def test_track_row():
    assert parse_track_row("12.5,51.257704,-7.160899,139,48.5") == (
        12500,
        51257704,
        -7160899,
        139,
        4850,
        0,
    )


def test_control_commands():
    emu = Sim800Emu()
    assert emu.control("sms +4917 hello world") == "ok slot 1"
    assert "hello world" in emu.control("inbox")
    assert emu.control("sent") == "(none)"
    assert emu.control("fault undervolt") == "ok"
    assert "faults=1" in emu.control("status")
    assert "commands:" in emu.control("help")


def test_raw_at_dialogue():
    async def go():
        emu = Sim800Emu(seed=1)
        port = await emu.start()
        cport = await emu.start_control()
        r, w = await asyncio.open_connection("127.0.0.1", port)
        nodelay(w)
        buf = [b""]

        async def pump():
            while True:
                d = await r.read(256)
                if not d:
                    return
                buf[0] += d

        t = asyncio.create_task(pump())
        try:
            w.write(b"AT\r")
            await w.drain()
            assert await wait_until(lambda: b"OK\r\n" in buf[0], 2000)
            assert buf[0].startswith(b"AT\r")  # echo on after reset
            buf[0] = b""
            w.write(b'ATE0\rAT+CMGF=1\rAT+CNMI=2,1,0,0,0\rAT+CMGS="+4917"\r')
            await w.drain()
            assert await wait_until(lambda: b"> " in buf[0], 2000)
            w.write(b"hi\x1a")
            await w.drain()
            assert await wait_until(lambda: b"+CMGS:" in buf[0], 2000)
            assert emu.sent == [("+4917", "hi")]
            buf[0] = b""
            w.write(b'AT+CIPSTART="TCP","198.51.100.7","80"\r')
            await w.drain()
            assert await wait_until(lambda: b"CONNECT FAIL" in buf[0], 2000)
            # control port
            cr, cw = await asyncio.open_connection("127.0.0.1", cport)
            await cr.readline()
            cw.write(b"sms +4915 STAT\n")
            await cw.drain()
            assert (await cr.readline()).startswith(b"ok slot")
            assert await wait_until(lambda: b'+CMTI: "SM",1' in buf[0], 2000)
            cw.close()
            await cw.wait_closed()
        finally:
            t.cancel()
            w.close()
            await w.wait_closed()
            await emu.close()

    run_async(go())
