# End-to-end OVMS v2 client (firmware/tasks/uplink.py) over real loopback
# TCP against tools/ovms_v2_server.py. Both runtimes; each test < 5 s.
# Licence: MIT (this project).
import asyncio
import os

from support import run_async
from twizy_helpers import fresh

from firmware.hal.netstream import open_tcp
from firmware.tasks.uplink import Timing, Uplink
from ovms.sms import SmsInterpreter
from tools.ovms_v2_server import FakeServer

VID = "TWIZY42"
NETPASS = "NETPASS42"


def _timing(port, **kw):
    t = Timing(
        port=port,
        tick_ms=20,
        login_timeout_ms=1000,
        backoff_min_ms=40,
        backoff_max_ms=160,
    )
    for k in kw:
        setattr(t, k, kw[k])
    return t


def _setup(srv, netpass=NETPASS, **kw):
    v = fresh(params={0: "+4917012345", 4: "127.0.0.1", 8: VID, 9: netpass})
    fw = SmsInterpreter(v.cfg, v)
    up = Uplink(open_tcp, v.cfg, v, fw, randbytes=os.urandom, timing=_timing(srv.port, **kw))
    return up, v, fw


async def _with(srv, up, body):
    task = asyncio.create_task(up.run())
    try:
        await body()
    finally:
        up.stop()
        for _ in range(50):
            await asyncio.sleep(0.01)
            if not up.logged_in:
                break
        task.cancel()
        await srv.close()
        await asyncio.sleep(0.02)


def test_login_commands_and_records():
    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        up, v, fw = _setup(srv)

        async def body():
            assert await srv.wait_for(lambda: srv.logged_in() and up.logged_in)
            assert await srv.wait_for(lambda: srv.lines("H*-OVM-DebugCrash"))
            assert srv.received[0] == "MP-0 H*-OVM-DebugCrash,0,2592000,3.0.0/RT2.5/VHOST,0,0000,0"
            assert v.net.server_ok == 1 and fw.net.server_ok
            # an app connects: S, L, W, F, D at once
            await srv.send("MP-0 Z1")
            assert await srv.wait_for(lambda: srv.lines("D"))
            got = [m[:6] for m in srv.received[1:6]]
            assert got == ["MP-0 S", "MP-0 L", "MP-0 W", "MP-0 F", "MP-0 D"]
            assert srv.lines("W") == ["MP-0 W0,0,0,0,0,0,0,0,-1"]
            # commands
            await srv.send("MP-0 C204,30,60")
            assert await srv.wait_for(lambda: srv.lines("c204"))
            await srv.send("MP-0 C203")
            assert await srv.wait_for(lambda: srv.lines("c203"))
            assert srv.lines("c203") == ["MP-0 c203,0,30,60,0,19,124"]
            await srv.send("MP-0 C1")
            assert await srv.wait_for(lambda: len(srv.lines("c1,")) == 16)
            assert srv.lines("c1,")[15] == "MP-0 c1,0,15,16,0"
            await srv.send("MP-0 C99")
            assert await srv.wait_for(lambda: srv.lines("c99"))
            assert srv.lines("c99") == ["MP-0 c99,3"]
            # ping from the server
            await srv.send("MP-0 AFA")
            assert await srv.wait_for(lambda: srv.lines("a"))
            assert srv.lines("a") == ["MP-0 a"]
            # a framework push (e.g. a forwarded SMS) goes out with the ticker
            fw.push("hello")
            assert await srv.wait_for(lambda: srv.lines("PA"))
            assert srv.lines("PA") == ["MP-0 PAhello"]
            assert up.lines_in == 7 and up.lines_out == len(srv.received)
            assert up.bytes_in > 0 and up.bytes_out > 0
            assert up.connects == 1 and up.logins == 1 and up.auth_failures == 0
            assert "up" in up.diag_text()

        await _with(srv, up, body)

    run_async(main())


def test_reconnect_after_server_drop():
    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        up, v, fw = _setup(srv)

        async def body():
            assert await srv.wait_for(lambda: srv.logins == 1 and up.logged_in)
            await srv.drop()
            assert await srv.wait_for(lambda: not up.logged_in, 2000)
            assert v.net.server_ok == 0
            assert await srv.wait_for(lambda: srv.logins == 2 and up.logged_in, 3000)
            assert up.errors == 1 and up.connects == 2
            # the new connection works (fresh cipher streams both sides)
            await srv.send("MP-0 C201")
            assert await srv.wait_for(lambda: srv.lines("c201"))
            assert srv.lines("c201") == ["MP-0 c201,0,0"]

        await _with(srv, up, body)

    run_async(main())


def test_wrong_netpass_backs_off():
    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        up, v, fw = _setup(srv, netpass="WRONG")

        async def body():
            assert await srv.wait_for(lambda: up.auth_failures >= 2, 3000)
            assert srv.logins == 0 and srv.auth_failures >= 2
            assert not up.logged_in and up.logins == 0
            assert 20 <= up.last_backoff_ms <= 160
            # exponential, jittered, capped
            assert 20 <= up.backoff_ms(1) <= 40
            assert 40 <= up.backoff_ms(2) <= 80
            assert 80 <= up.backoff_ms(10) <= 160

        await _with(srv, up, body)

    run_async(main())


def test_car_pings_after_silence():
    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        up, v, fw = _setup(srv, ping_ms=150, pong_timeout_ms=2000)

        async def body():
            assert await srv.wait_for(lambda: srv.lines("A"), 2000)
            assert srv.lines("A")[0] == "MP-0 A"
            # the server's "a" arrives and counts as a received line
            assert await srv.wait_for(lambda: up.lines_in >= 2, 2000)
            assert up.logged_in and up.errors == 0

        await _with(srv, up, body)

    run_async(main())


def test_unanswered_ping_reconnects():
    async def main():
        srv = FakeServer({VID: NETPASS})
        srv.auto_pong = False
        await srv.start()
        up, v, fw = _setup(srv, ping_ms=100, pong_timeout_ms=100)

        async def body():
            assert await srv.wait_for(lambda: srv.logins >= 2, 3000)
            assert up.errors >= 1

        await _with(srv, up, body)

    run_async(main())


def test_no_server_configured_waits():
    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        up, v, fw = _setup(srv)
        v.cfg.set_param(4, "", save=False)

        async def body():
            await asyncio.sleep(0.2)
            assert up.connects == 0 and not up.logged_in
            v.cfg.set_param(4, "127.0.0.1", save=False)
            up.reconnect()
            assert await srv.wait_for(lambda: up.logged_in, 2000)

        await _with(srv, up, body)

    run_async(main())


def test_vehicle_records_through_the_ticker_link():
    # the app's ticker dispatches the vehicle's notifications; its Link puts records
    # into the uplink's outbox (online or not), the uplink sends them as h records
    from firmware.tasks.link import Link

    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        up, v, fw = _setup(srv)
        link = Link(v.cfg, None, up)

        async def body():
            assert link.server_ready()  # the outbox takes records before the login
            v.inject(10)
            for _ in range(61):
                v.tick()
                v.dispatch(link)
            assert up.outbox.queued() == 17  # usage, GPS, pack, 14 cells
            assert await srv.wait_for(lambda: len(srv.records("RT-PWR-BattCell")) == 14)
            assert srv.lines("hRT") == []  # (h lines carry the ackcode first)
            usage = srv.records("RT-PWR-UsageStats")
            assert len(usage) == 1 and usage[0][2] == 0
            assert await srv.wait_for(lambda: up.outbox.queued() == 0)
            assert up.sender.acked == 17 and srv.acks == 17
            assert srv.bad_records == 0
            # every record went out as an acknowledged h, none as H
            assert len(srv.lines("h")) == 17 and srv.lines("HRT") == []
            assert up.queue_dropped == 0

        await _with(srv, up, body)

    run_async(main())


def test_garbled_commands_each_get_exactly_one_reply_d43():
    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        up, v, fw = _setup(srv)

        async def body():
            assert await srv.wait_for(lambda: up.logged_in)
            for c in ("MP-0 Cabc", "MP-0 C", "MP-0 C12x,1", "MP-0 C201"):
                await srv.send(c)
            assert await srv.wait_for(lambda: srv.lines("c201"))
            assert srv.lines("c") == [
                "MP-0 c0,1,Invalid syntax",
                "MP-0 c0,1,Invalid syntax",
                "MP-0 c0,1,Invalid syntax",
                "MP-0 c201,0,0",
            ]

        await _with(srv, up, body)

    run_async(main())


def test_no_reconnect_storm_when_the_server_drops_after_login_d42():
    # the server accepts every login and drops the link at once: the back-off must grow
    # as for a refused login (today's bug: it restarted at the minimum after each login)
    async def main():
        srv = FakeServer({VID: NETPASS})
        srv.drop_at_login = True
        await srv.start()
        up, v, fw = _setup(srv, backoff_min_ms=20, backoff_max_ms=100000)
        seen = []

        async def body():
            while srv.logins < 5:
                assert await srv.wait_for(lambda: up._failures > len(seen), 10000)
                seen.append((up._failures, up.last_backoff_ms))
            # attempt k waited at least half of min * 2^(k-1)
            for k, ms in seen:
                assert ms >= 10 * 2 ** (k - 1), seen
            assert [k for k, ms in seen] == list(range(1, len(seen) + 1))
            assert up.logins >= 4 and up.auth_failures == 0
            assert up.progress >= len(seen)

        await _with(srv, up, body)

    run_async(main())


def test_lost_acknowledgements_resend_after_reconnect():
    # at-least-once: without an ack the records stay and go again on the next connection
    async def main():
        from ovms.outbox import Outbox

        clock = [7000]  # the board clock and the server's, frozen: exact stamps
        srv = FakeServer({VID: NETPASS}, clock=lambda: clock[0])
        srv.ack_h = False
        await srv.start()
        up, v, fw = _setup(srv, ack_timeout_ms=200)
        up.outbox = up.sender.outbox = Outbox(None, lambda: clock[0])
        for i in range(3):
            up.outbox.put("R", "MP-0 HRT-X,%d,86400,v%d" % (i, i))
            clock[0] += 10

        async def body():
            assert await srv.wait_for(lambda: len(srv.records("RT-X")) >= 3)
            assert await srv.wait_for(lambda: srv.logins >= 2, 5000)  # no ack: reconnect
            srv.ack_h = True
            assert await srv.wait_for(lambda: up.outbox.queued() == 0, 5000)
            got = srv.records("RT-X")
            assert len(got) >= 6  # each one at least twice (duplicates after lost acks)
            assert sorted(set([(r[2], r[3]) for r in got])) == [(i, "v%d" % i) for i in range(3)]
            # a duplicate carries the same original time
            assert sorted(set([(r[0], r[2]) for r in got])) == [(7000, 0), (7010, 1), (7020, 2)]

        await _with(srv, up, body)

    run_async(main())


def test_full_outbox_is_reported_after_login_d44():
    from ovms.outbox import Outbox

    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        v = fresh(params={0: "+4917012345", 4: "127.0.0.1", 8: VID, 9: NETPASS})
        ob = Outbox(None, lambda: 5000, ram_max=5)
        sms = Outbox(None, lambda: 5000, ram_max=2)
        for i in range(12):
            ob.put("R", "MP-0 HRT-X,%d,86400,v" % i)
        for i in range(3):
            sms.put("T", "alert %d" % i)
        assert ob.dropped == 7 and sms.dropped == 1
        fw = SmsInterpreter(v.cfg, v)
        up = Uplink(
            open_tcp, v.cfg, v, fw, randbytes=os.urandom,
            timing=_timing(srv.port), outbox=ob, sms_outbox=sms,
        )  # fmt: skip
        assert "drop=7" in up.diag_text()

        async def body():
            assert await srv.wait_for(lambda: len(srv.records("*-OVM-OutboxLost")) == 2)
            assert [(r[2], r[3]) for r in srv.records("*-OVM-OutboxLost")] == [
                (0, "7,7"),
                (1, "1,1"),
            ]
            # one overflow rule for everything: the two report records made room by
            # dropping the two oldest records (7, 8), reported at the next login
            assert [r[2] for r in srv.records("RT-X")] == [9, 10, 11]
            assert ob.dropped == 9 and ob.unreported == 2 and sms.unreported == 0
            assert await srv.wait_for(lambda: ob.queued() == 0)
            # DIAG: what both outboxes dropped (fw.net, shown by the DIAG command)
            assert await srv.wait_for(lambda: getattr(fw.net, "outbox_dropped", 0) == 10)

        await _with(srv, up, body)

    run_async(main())


def test_a_bug_in_an_inner_task_ends_run_with_it():
    # issue 9's supervisor restarts the task: run() must raise, not swallow
    async def main():
        for where in ("reader", "ticker"):
            srv = FakeServer({VID: NETPASS})
            await srv.start()
            up, v, fw = _setup(srv)

            def boom(*a, where=where):
                raise ZeroDivisionError(where)

            task = asyncio.create_task(up.run())
            try:
                assert await srv.wait_for(lambda up=up: up.logged_in)
                if where == "reader":
                    up.handler.handle = boom
                    await srv.send("MP-0 A")
                else:
                    up.handler.periodic = boom
                for _ in range(300):
                    if task.done():
                        break
                    await asyncio.sleep(0.01)
                assert task.done()
                try:
                    await task  # MicroPython's Task has no result()
                    raise AssertionError("run() returned")
                except ZeroDivisionError as e:
                    assert e.args == (where,)
            finally:
                up.stop()
                task.cancel()
                await srv.close()
                await asyncio.sleep(0.02)

    run_async(main())


class _SegmentStream:
    # records every write and what each drain() sent (no network)
    def __init__(self):
        self.pending = []
        self.drains = []  # [wire lines] per drain

    def write(self, data):
        if data == b"\r\n" and self.pending and not self.pending[-1].endswith(data):
            self.pending[-1] += data  # a line's end, written after its base64 (no copy)
        else:
            self.pending.append(bytes(data))

    async def drain(self):
        self.drains.append(self.pending)
        self.pending = []


def _entry_by_entry(drain_bytes):
    # D103: the uplink reads, formats, encrypts and writes one outbox entry at a time
    # and drains whenever a TCP segment's worth (1460 bytes) is written: never a window
    # of lines (clear or wire) held at once
    from ovms.outbox import Outbox
    from ovms.v2 import codec

    async def main():
        v = fresh(params={0: "+4917012345", 4: "127.0.0.1", 8: VID, 9: NETPASS})
        clock = [5000]
        ob = Outbox(None, lambda: clock[0])
        for i in range(20):
            ob.put("R", "MP-0 HRT-X,%d,86400,%s" % (i, "v" * 300))
        ob.put("P", "MP-0 PAan alert")
        t = _timing(1, drain_bytes=drain_bytes)
        up = Uplink(None, v.cfg, v, None, randbytes=os.urandom, timing=t, outbox=ob)
        up.sender.window = 24
        up.sender.login()
        key = b"k" * 16
        up._session = codec.Session(key)
        up._stream = st = _SegmentStream()
        read = []
        next_entry = ob.next_entry

        def spy():
            e = next_entry()
            read.append(len(st.pending))  # wire lines written before this read
            return e

        ob.next_entry = spy
        await up._send(["MP-0 S1"], True)
        rx = codec.Session(key)
        lines = [rx.decode(w[:-2]) for d in st.drains for w in d]
        assert lines[0] == "MP-0 S1" and len(lines) == 1 + 20 + 2
        assert [m.split(",")[3] for m in lines[1:21]] == ["%d" % i for i in range(20)]
        assert lines[21] == "MP-0 PAan alert"
        assert lines[22] == "MP-0 h21,0,*-Log-Notification,0,86400,A,an alert"
        assert up.lines_out == 23 and up.bytes_out == sum([len(w) for d in st.drains for w in d])
        assert up.sender.inflight == list(range(1, 22))
        return st.drains, read

    return run_async(main())


def test_outbox_goes_entry_by_entry_at_most_a_segment_per_drain_d103():
    drains, read = _entry_by_entry(1460)
    assert max([sum([len(w) for w in d]) for d in drains]) <= 1460
    assert len(drains) == 7  # 3 wire lines of 434-438 bytes per segment
    # one entry read per line written; never more than a segment's lines waiting
    assert read[:5] == [1, 2, 3, 4, 1] and max(read) == 4


def test_a_64k_board_drains_every_512_bytes_d133():
    # D133: UPLINK_DRAIN_BYTES = 512 (the heap board's): at most 512 bytes of wire lines
    # wait for their CIPSEND; the same lines in the same order, more drains
    drains, read = _entry_by_entry(512)
    assert max([sum([len(w) for w in d]) for d in drains]) <= 512
    assert len(drains) == 21  # S1 with the first record, then one 434-438-byte line each
    assert read[:5] == [1, 2, 1, 1, 1] and max(read) == 2


def test_login_code_is_loaded_for_the_login_only_d105():
    # D105: ovms/v2/login.py (tokens, HMAC-MD5 digests, welcome lines) is loaded for a
    # login and dropped after it; without room for it the attempt is a counted link
    # error and the uplink tries again after the back-off (no traceback)
    import sys

    from ovms import lazy
    from ovms.v2 import codec

    name = "ovms.v2.login"

    def loaded():
        return name in sys.modules or hasattr(sys.modules["ovms.v2"], "login")

    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        up, v, fw = _setup(srv)
        real = lazy.load
        calls = []

        def failing(n):
            calls.append(n)
            if n == name and len(calls) <= 2:
                raise MemoryError("no room")
            return real(n)

        lazy.load = failing

        async def body():
            assert await srv.wait_for(lambda: up.logged_in, 5000)
            assert calls[:3] == [name, name, name] and up.errors == 2
            assert up.logins == 1 and up.auth_failures == 0
            assert not loaded()
            assert isinstance(up._session, codec.Session)

        try:
            await _with(srv, up, body)
        finally:
            lazy.load = real

    saved = sys.modules.get(name)
    try:
        run_async(main())
    finally:
        if saved is not None:  # the test server's own import (tools/ovms_v2_server.py)
            sys.modules[name] = saved
