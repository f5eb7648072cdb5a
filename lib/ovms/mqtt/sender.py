# The MQTT channel's outbox on the wire: outbox entries -> QoS 1 PUBLISH packets,
# PUBACKs -> entries leave the outbox. Pure; used by firmware/tasks/mqtt.py.
# Licence: MIT (this project).
#
# Same rules as the v2 sender (lib/ovms/v2/sender.py, D41/D44): at most `window`
# entries in flight; an entry leaves the outbox only when the broker acknowledged its
# PUBLISH (at-least-once: after a link or broker loss the unacknowledged go again, with
# the DUP flag); after a (re)connect the entries the overflow rule dropped are reported
# by a "*-OVM-OutboxLost" record (notify/data/ovm.outboxlost). An entry with no MQTT
# form (lib/ovms/mqtt/topics.notification) is acknowledged at once and counted.
# Packet ids: 1..65535, from the entry's sequence number (the window is far smaller
# than 65535, so two entries in flight never share one).

from ovms.mqtt.topics import notification
from ovms.v2.sender import LOST_RECORD


def pid_of(seq):
    return (seq - 1) % 65535 + 1


class Sender:
    def __init__(self, outbox, sms_outbox=None, window=8):
        self.outbox = outbox
        self.sms_outbox = sms_outbox
        self.window = window
        self.inflight = []  # [pid, seq] published on this connection, not acknowledged
        self.acked = 0
        self.bad_acks = 0  # PUBACK of nothing in flight
        self.not_mqtt = 0  # entries without an MQTT form (dropped)
        self._high = 0  # highest seq ever published (a lower one again = DUP)

    def login(self, report_sms=True):
        # a new connection: the unacknowledged go again; report drops (D44)
        ob = self.outbox
        ob.rewind()
        self.inflight = []
        boxes = ((0, ob), (1, self.sms_outbox)) if report_sms else ((0, ob),)
        for recno, o in boxes:
            if o is not None:
                n = o.take_unreported()
                if n:
                    ob.put("R", LOST_RECORD % (recno, n, o.dropped))

    def ack(self, pid):
        for i in range(len(self.inflight)):
            p, seq = self.inflight[i]
            if p == pid:
                self.inflight.pop(i)
                if self.outbox.ack(seq):
                    self.acked += 1
                    return True
                break
        self.bad_acks += 1
        return False

    def next(self, pre):
        # -> [(pid, topic, payload, dup)] for the free window
        ob = self.outbox
        out = []
        while True:
            room = self.window - len(self.inflight)
            batch = ob.next_batch(room) if room > 0 else ()
            if not batch:
                return out
            for seq, _t, _kind, text in batch:
                m = notification(pre, text)
                if m is None:  # no MQTT form: leaves at once (counted)
                    self.not_mqtt += 1
                    ob.ack(seq)
                    continue
                pid = pid_of(seq)
                self.inflight.append([pid, seq])
                out.append((pid, m[0], m[1], seq <= self._high))
                if seq > self._high:
                    self._high = seq
