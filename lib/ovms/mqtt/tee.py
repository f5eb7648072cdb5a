# Two outboxes behind one: the Link (firmware/tasks/link.py) puts every server entry
# into both the v2 uplink's and the MQTT uplink's outbox (uplink selection "both").
# Licence: MIT (this project).
#
# Each uplink removes from its own outbox what its peer acknowledged, so one slow or
# absent peer never holds back or loses the other's entries; each outbox has its own
# overflow count (D44). put() is accepted when either accepted it.


class OutboxTee:
    def __init__(self, *outboxes):
        self.outboxes = outboxes

    def put(self, kind, text):
        ok = False
        for ob in self.outboxes:
            if ob.put(kind, text):
                ok = True
        return ok

    def maybe_flush(self):
        for ob in self.outboxes:
            ob.maybe_flush()

    def flush(self):
        ok = True
        for ob in self.outboxes:
            if not ob.flush():
                ok = False
        return ok

    def queued(self):
        return max([ob.queued() for ob in self.outboxes])

    def stats(self):
        return " | ".join([ob.stats() for ob in self.outboxes])
