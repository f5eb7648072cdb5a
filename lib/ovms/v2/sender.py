# The server channel's outbox on the wire: outbox entries -> acknowledged `h` lines,
# acknowledgements -> entries leave the outbox. Pure; used by firmware/tasks/uplink.py.
# Licence: MIT (this project).
#
# Spec: ovms-v2-protocol.md §4 (h records and their acknowledgement), §6.8 (P), §7.
#
# D41: every outbox entry goes out as an acknowledged `h` record
# "MP-0 h<seq>,<timediff>,<type>,<recno>,<lifetime>,<data>" (timediff = made - now,
# <= 0, so the server stamps the ORIGINAL time), also when nothing else is queued: one
# path, and a live record needs the same acknowledgement to leave the outbox. An alert
# entry ("MP-0 PA<text>", text frozen at the event) goes out as the P line followed by
# its acknowledged h copy "*-Log-Notification,0,86400,A,<text>": the server handles a
# connection's lines in order, so the acknowledgement of the copy confirms both. At
# most `window` entries are in flight; after a reconnect the unacknowledged ones go
# again (at-least-once: a duplicate only after a lost acknowledgement).
# D103: the lines are handed out one at a time (next_line), each entry read from the
# outbox only when its line is asked for, so the uplink holds one entry, its clear line
# and its wire line at a time (a window of 8 made at once was the largest transient of
# the firmware's heap: the journal's payloads, their texts and the lines, ≈ 5 KB).
# D44: after a login, entries dropped by the overflow rule since the last report are
# reported by a record "*-OVM-OutboxLost,<0 server | 1 SMS>,2592000,<dropped since the
# last report>,<dropped in total>" (queued in the server outbox like any record).

from ovms.compat import const
from ovms.units import digits

_NOTIFY_TYPE = const("*-Log-Notification")
_NOTIFY_LIFETIME_S = const(86400)
LOST_RECORD = "MP-0 H*-OVM-OutboxLost,%d,2592000,%d,%d"


class Sender:
    def __init__(self, outbox, sms_outbox=None, window=8):
        self.outbox = outbox
        self.sms_outbox = sms_outbox
        self.window = window
        self.inflight = []  # seqs sent on this connection, not acknowledged
        self.acked = 0  # entries acknowledged
        self.bad_acks = 0  # acknowledgements of nothing in flight
        self.not_records = 0  # entries that were no record (dropped)
        self._copy = None  # the h copy of the alert whose P line went last

    def login(self):
        # a new connection: the unacknowledged go again; report drops (D44)
        ob = self.outbox
        ob.rewind()
        self.inflight = []
        self._copy = None
        for recno, o in ((0, ob), (1, self.sms_outbox)):
            if o is not None:
                n = o.take_unreported()
                if n:
                    ob.put("R", LOST_RECORD % (recno, n, o.dropped))

    def ack(self, data):
        # data of "MP-0 h<ackcode>" (our ackcode is the entry's seq) -> True if it
        # acknowledged an entry in flight
        if digits(data) and len(data) < 10:  # ASCII only: CPython's isdigit() takes "²"
            seq = int(data)
            if seq in self.inflight:
                self.inflight.remove(seq)
                if self.outbox.ack(seq):
                    self.acked += 1
                    return True
        self.bad_acks += 1
        return False

    def next_line(self):
        # the next clear line, or None (window full, nothing waits): a record entry
        # gives its h line; an alert its P line, then (next call) its h copy
        m = self._copy
        if m is not None:
            self._copy = None
            return m
        ob = self.outbox
        while len(self.inflight) < self.window:
            e = ob.next_entry()
            if e is None:
                return None
            seq, t, kind, text = e
            now = int(ob.clock_s())
            td = t - now if t < now else 0
            if kind == "P" and text.startswith("MP-0 P") and len(text) > 6:
                m = "MP-0 h%d,%d,%s,0,%d,%s,%s"
                self._copy = m % (seq, td, _NOTIFY_TYPE, _NOTIFY_LIFETIME_S, text[6], text[7:])
                m = text
            elif text.startswith("MP-0 H") and text.count(",") >= 3:
                m = "MP-0 h%d,%d,%s" % (seq, td, text[6:])
            else:  # the Link queues nothing else: drop it (counted), never block the queue
                self.not_records += 1
                ob.ack(seq)
                continue
            self.inflight.append(seq)
            return m
        return None
