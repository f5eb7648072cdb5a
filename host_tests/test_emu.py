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


class _Out:
    # stands in for the modem UART's writer: collects what the emulator says
    def __init__(self):
        self.data = b""

    def write(self, b):
        self.data += b

    async def drain(self):
        pass


def test_command_table_scripts_and_new_faults():
    async def go():
        emu = Sim800Emu(seed=9, sm_slots=10)
        out = _Out()
        emu._writer = out
        await emu._input(b"ATE0\rAT+CMEE=2\rAT+CMEE?\rATS7=42\rATS7?\rATS7=0\r")
        assert out.data.count(b"OK\r\n") == 5 and b"+CMEE: 2" in out.data
        assert b"\r\n042\r\n" in out.data and out.data.endswith(b"ERROR\r\n")
        out.data = b""
        await emu._input(b'AT+CMGF=1\rAT+CPMS="SM","SM","SM"\r')
        assert b"+CPMS: 0,10,0,10,0,10" in out.data
        # a script: the next AT+CMGD=2 is executed, its reply lost, then after() runs
        emu.inject_sms("+4917", "one")
        emu.inject_sms("+4917", "two")
        seen = []
        emu.script("AT+CMGD=2", "noreply", after=lambda: seen.append(sorted(emu.inbox)))
        out.data = b""
        await emu._input(b"AT+CMGD=2\r")
        assert out.data == b"" and seen == [[1]] and emu.history[-1] == "AT+CMGD=2"
        await emu._input(b"AT+CMGD=1\r")  # the script is used up
        assert out.data == b"\r\nOK\r\n" and not emu.inbox
        # tail: a "~..." line right after the final result, in the same write
        emu.fault("tail")
        out.data = b""
        await emu._input(b"AT\r")
        assert out.data.startswith(b"\r\nOK\r\n\r\n~") and out.data.endswith(b"\r\n")
        # noreply on a prompt command: no prompt, no text entry
        emu.fault("noreply")
        out.data = b""
        await emu._input(b'AT+CMGS="+4917"\r')
        assert out.data == b"" and emu.mode is None
        assert emu.cmd_counts["+CMGD"] == 2 and emu.cmd_counts["S7"] == 3

    run_async(go())


def test_late_banner_waits_for_the_next_sms():
    async def go():
        emu = Sim800Emu(seed=10, boot_ms=3, late_banner=True)
        out = _Out()
        emu._writer = out
        emu.reboot()
        assert await wait_until(lambda: b"+CPIN: READY" in out.data, 2000)
        await asyncio.sleep(0.05)
        assert b"Call Ready" not in out.data and b"RDY" in out.data
        await emu._input(b'ATE0\rAT+CMGF=1\rAT+CMGS="+4917"\r')
        await emu._input(b"hi\x1a")
        assert out.data.index(b"Call Ready") < out.data.index(b"+CMGS: 1")
        assert emu.sent == [("+4917", "hi")]

    run_async(go())
