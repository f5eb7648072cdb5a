# The Link (firmware/tasks/link.py) between the vehicle and its two outboxes: alerts
# frozen at the event, in order, once per channel; the send-on-change memory moves only
# when a record was accepted. Both runtimes. Licence: MIT (this project).
from support import rmtree, tmpdir
from twizy_helpers import chunk_tick, fresh

from firmware.tasks.link import Link
from ovms.outbox import Outbox

OWNER = "+4917012345"


class Clock:
    def __init__(self):
        self.t = 100000

    def __call__(self):
        return self.t


class Modem:
    def __init__(self, state="OFF"):
        self.state = state
        self.sent = []
        self.queue = 0  # what the driver still has to send

    def send_sms(self, number, parts):
        self.sent.append((number, "".join(parts)))
        self.queue += 1

    def pending_sms(self):
        return self.queue


def _vehicle(notify="SMS,IP"):
    return fresh(params={0: OWNER, 3: notify, 4: "127.0.0.1", 8: "TWIZY42", 9: "PW"})


def test_sms_alert_text_is_frozen_at_the_event_and_sent_once_in_order():
    c = Clock()
    m = Modem()
    v = _vehicle("SMS")
    link = Link(v.cfg, m, None, sms_outbox=Outbox(None, c))
    chunk_tick(v, 1)
    chunk_tick(v, 2)  # charge stops: an alert now
    v.dispatch(link)
    assert link.sms_outbox.queued() >= 1
    first = link.sms_outbox.next_batch(8)
    link.sms_outbox.rewind()
    frozen = [e[3] for e in first]
    assert frozen[0].startswith("Charging Stopped")
    # the car changes afterwards (charging again): the queued text must not change
    for _ in range(90):
        chunk_tick(v, 1)
        v.dispatch(link)
    assert m.sent == []  # modem down: nothing handed over yet
    m.state = "READY"
    v.dispatch(link)
    assert m.sent == [(OWNER, frozen[0])]
    # the next one waits until the driver's queue is empty (one at a time, in order)
    v.dispatch(link)
    assert len(m.sent) == 1
    m.queue = 0
    for _ in range(10):
        v.dispatch(link)
        m.queue = 0
    # the stop (frozen when it happened), then the charge resuming, each once
    texts = [t for _, t in m.sent]
    assert len(texts) == 2
    assert texts[0] == frozen[0] and texts[1].startswith("Charging\n")
    assert link.sms_outbox.queued() == 0


def test_sms_alerts_survive_a_reboot_before_the_modem_is_up():
    d = tmpdir("lnk")
    try:
        c = Clock()
        v = _vehicle("SMS")
        link = Link(v.cfg, Modem(), None, sms_outbox=Outbox(d + "/sms", c))
        chunk_tick(v, 1)
        chunk_tick(v, 2)
        v.dispatch(link)  # the alert is written at once (urgent)
        n = link.sms_outbox.queued()
        assert n >= 1
        m = Modem("READY")  # after the reboot
        link2 = Link(v.cfg, m, None, sms_outbox=Outbox(d + "/sms", c))
        for _ in range(n + 1):
            link2.pump()
            m.queue = 0
        assert len(m.sent) == n and m.sent[0][1].startswith("Charging Stopped")
    finally:
        rmtree(d)


def test_no_owner_drops_and_counts():
    c = Clock()
    v = fresh(params={3: "SMS"})
    link = Link(v.cfg, Modem("READY"), None, sms_outbox=Outbox(None, c))
    chunk_tick(v, 1)
    chunk_tick(v, 2)
    v.dispatch(link)
    assert link.sms_dropped >= 1 and link.sms_outbox.queued() == 0
    assert "no owner" in link.diag_text()


def test_server_records_are_taken_offline_with_their_time():
    c = Clock()
    v = _vehicle("IP")
    ob = Outbox(None, c)
    link = Link(v.cfg, None, None, outbox=ob)
    assert link.server_ready()  # an outbox and a server configured, online or not
    v.inject(10)
    for _ in range(61):
        c.t += 1
        v.tick()
        v.dispatch(link)
    b = ob.next_batch(32)
    # minute work at tick 60 (usage, GPS), the battery records one tick later
    assert len(b) == 17 and b[0][1] == 100060 and b[2][1] == 100061
    # no server configured: the channel does not take anything (alerts stay pending)
    v.cfg.set_param(4, "", save=False)
    assert not link.server_ready()


class Refusing:
    # a channel that refuses everything, then accepts
    def __init__(self):
        self.ok = False
        self.lines = []

    def server_ready(self):
        return True

    def sms_ready(self):
        return False

    def send_server(self, lines):
        if not self.ok:
            return False
        self.lines.extend(lines)
        return True


def test_send_on_change_memory_moves_only_when_accepted():
    v = _vehicle("IP")
    link = Refusing()
    v.inject(10)
    for _ in range(61):
        v.tick()
        v.dispatch(link)
    assert len(v.sent) == 0  # nothing accepted: nothing remembered as sent
    link.ok = True
    for _ in range(61):
        v.tick()
        v.dispatch(link)
    kinds = [x[6 : x.index(",")] for x in link.lines]
    assert "RT-PWR-UsageStats" in kinds and "RT-GPS-Log" in kinds
    assert kinds.count("RT-PWR-BattCell") == 14
    assert len(v.sent) == 17


def test_alert_refused_stays_pending_until_accepted():
    v = _vehicle("IP")
    link = Refusing()
    chunk_tick(v, 1)
    chunk_tick(v, 2)
    v.dispatch(link)
    assert v.pending_flags() != 0
    link.ok = True
    v.dispatch(link)
    assert [x for x in link.lines if x.startswith("MP-0 PACharging Stopped")]


def test_live_lines_need_the_uplink_logged_in():
    class Up:
        logged = False

        def ready(self):
            return self.logged

        def send(self, lines):
            return self.logged

    v = _vehicle("IP")
    up = Up()
    link = Link(v.cfg, None, up, outbox=Outbox(None, Clock()))
    assert not link.send_server(["MP-0 S1"]) and link.refused == 1
    up.logged = True
    assert link.send_server(["MP-0 S1", "MP-0 HRT-X,1,1,a", "MP-0 PAx"])
    assert link.outbox.queued() == 2 and link.server_out == 3
