# Issue 8 §1 end to end: the server is down for 30 vehicle minutes during a drive and a
# charge, the module reboots in the middle; then the link returns. Every record of those
# minutes must arrive once, in order, with its original time; every alert with the text
# of its moment (server: P + acknowledged h copy; SMS: to the owner, once each).
# Both runtimes: vehicle minutes are fast-forwarded with a virtual clock (the ticks are
# called directly); the delivery runs over real loopback TCP to the test server, which
# stamps the records with the same virtual clock. Licence: MIT (this project).
import os

from support import rmtree, run_async, tmpdir
from twizy_helpers import fresh

from firmware.hal.netstream import open_tcp
from firmware.tasks.link import Link
from firmware.tasks.uplink import Timing, Uplink
from ovms.outbox import Outbox
from ovms.sms import SmsInterpreter
from tools.ovms_v2_server import FakeServer

VID = "TWIZY42"
NETPASS = "NETPASS42"
OWNER = "+4917012345"
T0 = 1700000000  # virtual board clock, seconds


class Clock:
    def __init__(self):
        self.t = T0

    def __call__(self):
        return self.t


class Modem:
    # the SIM800 as the Link sees it: READY or not, a queue the SMS leave at once
    def __init__(self):
        self.state = "OFF"
        self.sent = []  # (number, parts)

    def send_sms(self, number, parts):
        self.sent.append((number, parts))

    def pending_sms(self):
        return 0


class SpyLink(Link):
    # the real Link, remembering what it accepted and when (the expected deliveries)
    def __init__(self, clock, made, texts, *a, **kw):
        Link.__init__(self, *a, **kw)
        self.clock = clock
        self.made = made
        self.texts = texts

    def send_server(self, lines):
        ok = Link.send_server(self, lines)
        for line in lines:
            if line[5] in "HP":
                self.made.append((self.clock(), line))
        return ok

    def send_sms(self, text):
        self.texts.append(text)
        return Link.send_sms(self, text)


def _boot(d, clock, modem, made, texts):
    # what the app does at boot: settings, vehicle, outboxes from the folder, Link
    v = fresh(params={0: OWNER, 3: "SMS,IP", 4: "127.0.0.1", 8: VID, 9: NETPASS})
    srv_ob = Outbox(d + "/srv", clock, max_bytes=262144)
    sms_ob = Outbox(d + "/sms", clock, max_bytes=16384)
    link = SpyLink(clock, made, texts, v.cfg, modem, None, outbox=srv_ob, sms_outbox=sms_ob)
    return v, link


def _minute(v, k, lat_e6):
    # a minute of the car: a GPS fix (driving: the position moves) and a battery set
    v.gps_fix(lat_e6, 13404954, 46 + k % 7, (k * 13) % 360)
    v.inject(10 + k % 3)


def _run(v, link, clock, seconds, k0, moving):
    for s in range(seconds):
        if s % 60 == 0:
            k = k0 + s // 60
            _minute(v, k, 52520008 + (k * 150 if moving else 0))
        clock.t += 1
        v.tick()
        v.dispatch(link)


def test_thirty_minutes_offline_with_a_reboot_then_everything_arrives_once():
    d = tmpdir("e2e")
    try:
        clock = Clock()
        modem = Modem()
        made = []  # (time, line) accepted for the server
        texts = []  # SMS alert texts, frozen at the event
        v, link = _boot(d, clock, modem, made, texts)
        # minutes 0..11: driving, server down, modem down
        v.inject(0)
        _run(v, link, clock, 12 * 60, 0, True)
        # minute 12: plugged in, charging starts
        v.inject(1)
        _run(v, link, clock, 3 * 60, 12, False)
        # minute 15: a planned reboot (the supervisor flushes first), all RAM gone
        link.flush()
        del v, link
        v, link = _boot(d, clock, modem, made, texts)
        v.inject(0)
        v.inject(1)
        _run(v, link, clock, 5 * 60, 15, False)
        # minute 20: the modem is back (SMS), the charge stops (an alert at that moment)
        modem.state = "READY"
        v.inject(2)
        _run(v, link, clock, 10 * 60, 20, False)
        t_end = clock.t
        assert t_end - T0 == 30 * 60
        records = [m for m in made if m[1].startswith("MP-0 H")]
        alerts = [m for m in made if m[1].startswith("MP-0 P")]
        # not vacuous: a record set every minute, alerts on both channels
        assert len(records) >= 100, len(records)
        assert len(alerts) >= 2 and len(texts) >= 2, (alerts, texts)
        # the SMS alerts went out once each, in order, with the text of their moment
        assert [p[0] for p in modem.sent] == [OWNER] * len(texts)
        assert ["".join(p[1]) for p in modem.sent] == ["".join(_shape(t)) for t in texts]
        # the server comes back: everything goes out over loopback TCP
        run_async(_deliver(d, clock, v, link, records, alerts))
        assert link.sms_outbox.queued() == 0
    finally:
        rmtree(d)


def _shape(text):
    from ovms import smsout

    return smsout.shape([text])


async def _deliver(d, clock, v, link, records, alerts):
    import asyncio

    srv = FakeServer({VID: NETPASS}, clock=clock)
    await srv.start()
    fw = SmsInterpreter(v.cfg, v)
    t = Timing(port=srv.port, tick_ms=10, login_timeout_ms=2000, window=16)
    up = Uplink(
        open_tcp, v.cfg, v, fw, randbytes=os.urandom, timing=t, outbox=link.outbox,
        sms_outbox=link.sms_outbox,
    )  # fmt: skip
    link.uplink = up
    task = asyncio.create_task(up.run())
    try:
        n = len(records) + len(alerts)
        assert await srv.wait_for(lambda: link.outbox.queued() == 0, 60000), link.outbox.queued()
        hist = [h for h in srv.records() if h[1] not in ("*-OVM-DebugCrash",)]
        got_records = [h for h in hist if h[1] != "*-Log-Notification"]
        want = []
        for when, line in records:
            f = line[6:].split(",", 3)
            want.append((when, f[0], int(f[1]), f[3]))
        # every record once, in order, with its original time
        assert got_records == want
        # every alert once, in order, with its event-time text and time
        got_p = srv.lines("P")
        assert got_p == [a[1] for a in alerts]
        notes = [h for h in hist if h[1] == "*-Log-Notification"]
        assert notes == [(a[0], "*-Log-Notification", 0, "A," + a[1][7:]) for a in alerts]
        assert srv.acks == n and up.sender.acked == n and srv.bad_records == 0
        assert link.outbox.dropped == 0 and up.sender.bad_acks == 0
        # a minute later the delivered journal is gone from flash
        clock.t += 60
        link.outbox.maybe_flush()
        assert link.outbox.j.total() == 0 and link.outbox.j.segs == []
        assert Outbox(d + "/srv", clock).queued() == 0
    finally:
        up.stop()
        await asyncio.sleep(0.05)
        task.cancel()
        await srv.close()
        await asyncio.sleep(0.02)
