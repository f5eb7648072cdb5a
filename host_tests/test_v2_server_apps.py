# The App side of the test OVMS v2 server (tools/ovms_v2_apps.py): history
# commands 31/32 answered by the server, commands routed to the car and each
# reply back to the client that asked (protocol §8.3, §8.6), over real
# loopback TCP with a scripted car and scripted apps. Both runtimes.
# Licence: MIT (this project).
import asyncio
import os

from support import run_async

from ovms.v2 import codec, login
from tools.ovms_v2_apps import live_records, parse_utc, record_lines, summary_lines, utc_text
from tools.ovms_v2_server import FakeServer

VID = "TWIZY42"
NETPASS = "NETPASS42"
T0 = 1795644541  # 2026-11-25 22:09:01 UTC


class Peer:
    # a car ("C"), app ("A") or batch client ("B") on its own connection
    def __init__(self, on_line=None):
        self.got = []
        self.closed = False
        self.on_line = on_line
        self.task = None

    async def connect(self, port, kind, vid=VID, netpass=NETPASS):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", port)
        ct = login.make_token(os.urandom)
        hello = login.car_welcome(ct, netpass, vid)
        self.w.write(("MP-" + kind + hello[4:] + "\r\n").encode())
        await self.w.drain()
        self.lb = codec.LineBuffer()
        lines = []
        while not lines:
            data = await self.r.read(512)
            if not data:
                self.closed = True
                return False
            lines = self.lb.feed(data)
        st = login.check_server_welcome(codec.text(lines[0]), ct, netpass)
        self.s = codec.Session(login.session_key(netpass, st, ct))
        self.pending = lines[1:]
        self.task = asyncio.create_task(self._read())
        return True

    async def _read(self):
        try:
            while True:
                while self.pending:
                    clear = self.s.decode(self.pending.pop(0))
                    self.got.append(clear)
                    if self.on_line is not None:
                        await self.on_line(self, clear)
                data = await self.r.read(512)
                if not data:
                    break
                self.pending.extend(self.lb.feed(data))
        except OSError:
            pass
        self.closed = True

    async def send(self, *clears):
        self.w.write(self.s.encode_lines(list(clears)))
        await self.w.drain()

    def lines(self, prefix):
        return [m for m in self.got if m.startswith("MP-0 " + prefix)]

    async def close(self):
        if self.task is not None:
            self.task.cancel()
        try:
            self.w.close()
            await self.w.wait_closed()
        except Exception:
            pass


def _clock(t):
    return lambda: t[0]


# ---- pure parts ------------------------------------------------------------------------
def test_utc_text_vectors_and_round_trip():
    assert utc_text(T0) == "2026-11-25 22:09:01"
    assert utc_text(951782400) == "2000-02-29 00:00:00"
    assert utc_text(0) == "1970-01-01 00:00:00"
    assert utc_text(4107542399) == "2100-02-28 23:59:59"
    assert utc_text(4107542400) == "2100-03-01 00:00:00"  # 2100 is no leap year
    t = 0
    while t < 4200000000:
        assert parse_utc(utc_text(t)) == t, t
        t += 1000003
    assert parse_utc("2026-11-25") == T0 - (22 * 3600 + 9 * 60 + 1)
    assert parse_utc("garbage!!!") is None
    assert parse_utc("0000-00-00") < 0  # the real server's "everything"


def test_history_queries_order_expiry_duplicates():
    h = [
        # (ts, type, recno, lifetime, data, arrival)
        (T0 + 5, "RT-GPS-Log", 2, 86400, "b", T0 + 5),
        (T0, "RT-GPS-Log", 9, 86400, "a", T0),
        (T0, "RT-GPS-Log", 9, 86400, "a2", T0),  # same key: the last is kept
        (T0 - 90000, "RT-PWR-BattPack", 1, 86400, "old h", T0),  # past stamp, full lifetime
        (T0 - 10, "*-OVM-DebugCrash", 0, 5, "gone", T0 - 10),  # expired
        (T0 + 5, "RT-GPS-Log", 1, 86400, "c", T0 + 5),
    ]
    now = T0 + 60
    assert len(live_records(h, now)) == 4
    assert record_lines(h, now, "RT-GPS-Log") == [
        "MP-0 c32,0,1,3,RT-GPS-Log,2026-11-25 22:09:01,9,a2",
        "MP-0 c32,0,2,3,RT-GPS-Log,2026-11-25 22:09:06,1,c",
        "MP-0 c32,0,3,3,RT-GPS-Log,2026-11-25 22:09:06,2,b",
    ]
    assert record_lines(h, now, "RT-GPS-Log", since=T0) == [
        "MP-0 c32,0,1,2,RT-GPS-Log,2026-11-25 22:09:06,1,c",
        "MP-0 c32,0,2,2,RT-GPS-Log,2026-11-25 22:09:06,2,b",
    ]
    assert record_lines(h, now, "NOPE") == ["MP-0 c32,1,No historical data available"]
    assert summary_lines(h, now, VID) == [
        "MP-0 c31,0,1,2,RT-GPS-Log,3,3,115,2026-11-25 22:09:01,2026-11-25 22:09:06",
        "MP-0 c31,0,2,2,RT-PWR-BattPack,1,1,47,2026-11-24 21:09:01,2026-11-24 21:09:01",
    ]
    # the expired record is gone once its lifetime since arrival has passed
    assert summary_lines(h, T0 + 86400 + 6, VID) == ["MP-0 c31,1,No historical data available"]


# ---- over TCP -----------------------------------------------------------------------------
def _answering_car(delay_ms=0):
    # answers C1 (16 lines), C3 (32 lines), anything else with one c<n>,0,<n>
    async def on_line(car, clear):
        if not clear.startswith("MP-0 C"):
            return
        n = clear[6:].split(",")[0]
        if n == "6":
            return  # the 2013 car: a PA alert, no c
        if delay_ms and n == "41":
            await asyncio.sleep(delay_ms / 1000)
        if n in ("1", "3"):
            m = 16 if n == "1" else 32
            await car.send(*["MP-0 c%s,0,%d,%d,v%d" % (n, k, m, k) for k in range(m)])
        else:
            await car.send("MP-0 c%s,0,%s" % (n, n))

    return on_line


def test_history_stored_and_served_without_the_car():
    async def main():
        t = [T0]
        srv = FakeServer({VID: NETPASS}, clock=_clock(t))
        srv.log_history = 3600
        await srv.start()
        car = Peer()
        app = Peer()
        try:
            assert await car.connect(srv.port, "C")
            await car.send(
                "MP-0 HRT-PWR-BattPack,1,86400,14,1,1,1,9600",
                "MP-0 h7,-120,RT-GPS-Log,43190,86400,52.520008,13.404954,46,90,30,1,120,17",
                "MP-0 S81,K,230,10,done,standard,80,72,0,0,0,0,0,4,0,0,0,-1",
            )
            assert await srv.wait_for(lambda: len(srv.history) == 3 and car.lines("h7"))
            await car.close()
            assert await srv.wait_for(lambda: not srv.logged_in())
            t[0] += 30
            assert await app.connect(srv.port, "B")
            assert await srv.wait_for(lambda: app.lines("T"))
            # login burst: car offline, the stored S, seconds since its update
            assert app.got[0] == "MP-0 Z0"
            assert "MP-0 S81,K,230,10,done,standard,80,72,0,0,0,0,0,4,0,0,0,-1" in app.got
            assert app.got[-1] == "MP-0 T30"
            await app.send("MP-0 C31")
            assert await srv.wait_for(lambda: len(app.lines("c31")) == 3)
            assert app.lines("c31") == [
                "MP-0 c31,0,1,3,RT-GPS-Log,1,1,74,2026-11-25 22:07:01,2026-11-25 22:07:01",
                "MP-0 c31,0,2,3,RT-PWR-BattPack,1,1,55,2026-11-25 22:09:01,2026-11-25 22:09:01",
                "MP-0 c31,0,3,3,S,1,1,80,2026-11-25 22:09:01,2026-11-25 22:09:01",
            ]
            await app.send("MP-0 C32,RT-GPS-Log")
            assert await srv.wait_for(lambda: app.lines("c32"))
            assert app.lines("c32") == [
                "MP-0 c32,0,1,1,RT-GPS-Log,2026-11-25 22:07:01,43190,"
                "52.520008,13.404954,46,90,30,1,120,17"
            ]
            # a car command while the car is away: dropped, like the real server
            await app.send("MP-0 C203")
            await app.send("MP-0 A")
            assert await srv.wait_for(lambda: app.lines("a"))
            assert srv.app_side.dropped_commands == 1 and not app.lines("c203")
            assert srv.app_side.answered == 2 and srv.app_side.forwarded == 0
        finally:
            await app.close()
            await srv.close()

    run_async(main())


def test_each_reply_goes_to_the_client_that_asked():
    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        car = Peer(_answering_car(delay_ms=150))
        x = Peer()
        y = Peer()
        watcher = Peer()
        try:
            assert await car.connect(srv.port, "C")
            assert await x.connect(srv.port, "B")
            assert await y.connect(srv.port, "B")
            assert await srv.wait_for(lambda: x.lines("T") and y.lines("T"))
            assert x.got[0] == "MP-0 Z1"
            assert car.lines("Z") == ["MP-0 Z0"]  # batch clients are not watching apps
            # x's USSD answer is slow; y's command goes in behind it
            await x.send("MP-0 C41,*100#")
            await y.send("MP-0 C203")
            assert await srv.wait_for(lambda: x.lines("c") and y.lines("c"))
            assert x.lines("c") == ["MP-0 c41,0,41"]
            assert y.lines("c") == ["MP-0 c203,0,203"]
            # a series (1 and 3) stays with its client until index max-1
            await x.send("MP-0 C1")
            await y.send("MP-0 C3")
            assert await srv.wait_for(lambda: len(y.lines("c3,")) == 32)
            assert len(x.lines("c1,")) == 16 and not y.lines("c1,") and not x.lines("c3,")
            assert x.lines("c1,")[15] == "MP-0 c1,0,15,16,v15"
            # an app watching: the car hears Z1, and Z0 when it leaves
            assert await watcher.connect(srv.port, "A")
            assert await srv.wait_for(lambda: car.lines("Z1"))
            await watcher.close()
            assert await srv.wait_for(lambda: car.got[-1] == "MP-0 Z0")
            # a reply nobody asked for goes to everyone and is counted
            await car.send("MP-0 c99,0,unasked")
            assert await srv.wait_for(lambda: x.lines("c99") and y.lines("c99"))
            assert srv.app_side.stray_replies == 1 and srv.app_side.mismatched == 0
            assert srv.app_side.forwarded == 4 and srv.app_side.queue == []
            # a car that leaves a command unanswered (the 2013 car and C6): the
            # next reply goes to the wrong client, and the server counts it
            await x.send("MP-0 C6")
            await y.send("MP-0 C207")
            assert await srv.wait_for(lambda: x.lines("c207"))
            assert not y.lines("c207") and srv.app_side.mismatched == 1
            # a client that left before its reply: the reply is nobody else's
            srv.app_side.queue = []
            z = Peer()
            assert await z.connect(srv.port, "B")
            await z.send("MP-0 C41,*100#")
            await z.close()
            await y.send("MP-0 C201")
            assert await srv.wait_for(lambda: y.lines("c201"))
            assert srv.app_side.orphan_replies == 1 and not y.lines("c41")
            # the car leaves: clients hear Z0
            await car.close()
            assert await srv.wait_for(lambda: x.got[-1] == "MP-0 Z0")
        finally:
            for p in (x, y, car):
                await p.close()
            await srv.close()

    run_async(main())


def test_login_refused_silently():
    async def main():
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        try:
            for vid, pw in ((VID, "WRONG"), ("NOSUCH", NETPASS)):
                p = Peer()
                assert not await p.connect(srv.port, "B", vid, pw)
                await p.close()
            assert srv.app_side.auth_failures == 2 and srv.app_side.logins == 0
        finally:
            await srv.close()

    run_async(main())
