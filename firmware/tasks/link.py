# Link: the vehicle's two channels (OVMS server, SMS to the owner), each behind one
# durable outbox (lib/ovms/outbox.py). Licence: MIT (this project).
#
# What vehicle.dispatch(link) talks to (ticker task, synchronous, once a second):
#   server_ready()       the server channel accepts: an outbox and a server configured
#                        (parameters 4 and 8); online or not
#   send_server(lines)   history records ("MP-0 H...") and alerts ("MP-0 PA...") into the
#                        server outbox (made now, frozen now); other lines (S ...) are
#                        live: handed to the uplink only while it is logged in.
#                        -> True when every line was accepted (the vehicle's
#                        send-on-change memory moves forward only then)
#   sms_ready()          the SMS channel accepts (an SMS outbox, or the modem READY)
#   send_sms(text)       an alert to the owner (parameter 0), text frozen now, into the
#                        SMS outbox; without a registered owner dropped and counted
#   pump()               end of every dispatch pass: hands the next SMS to the modem,
#                        writes the outboxes' flash batches when due
# Delivery: the uplink (firmware/tasks/uplink.py) sends the server outbox and removes
# what the server acknowledges. The SMS outbox hands one alert at a time to the modem
# (modem.send_sms with the texts of ovms.smsout.shape) and removes it once the driver's
# own queue is empty again (it was sent, or the driver gave up and counted it), so an
# alert is handed over once per channel, in order; after a reboot an alert handed over
# but not yet out goes again (at-least-once).
# flush(): write both outboxes now (before a planned reboot: the supervisor's hook).

# D129: the parameter numbers are read as config.PARAM_X: 5 names in this resident
# module's globals, 6 slots (was 8: 64 -> 48 bytes).
from ovms import config, smsout


class Link:
    def __init__(self, config, modem=None, uplink=None, on_sms=None, outbox=None,
                 sms_outbox=None):  # fmt: skip
        self.cfg = config
        self.modem = modem
        self.uplink = uplink
        self.on_sms = on_sms  # optional observer (number, text) of every SMS handed over
        if outbox is None and uplink is not None:
            outbox = getattr(uplink, "outbox", None)
        self.outbox = outbox  # server channel; None: no server channel
        self.sms_outbox = sms_outbox  # SMS channel; None: straight to the modem
        self.sms_out = 0  # SMS texts handed to the modem
        self.sms_dropped = 0  # no owner registered
        self.server_out = 0  # lines accepted for the server
        self.refused = 0  # lines not accepted (offline live line, entry too long)
        self._sms_seq = None  # the SMS outbox entry the modem has now

    # ---- server channel ----------------------------------------------------------------
    def server_ready(self):
        if self.outbox is None:
            u = self.uplink
            return u is not None and u.ready()
        p = self.cfg.params
        return bool(p[config.PARAM_SERVERIP].strip() and p[config.PARAM_VEHICLEID])

    def send_server(self, lines):
        ok = True
        ob = self.outbox
        for line in lines:
            code = line[5:6]
            if ob is not None and code in ("H", "P"):
                good = ob.put(code if code == "P" else "R", line)
            else:
                u = self.uplink
                good = u is not None and u.send([line]) is not False
            if good:
                self.server_out += 1
            else:
                self.refused += 1
                ok = False
        return ok

    # ---- SMS channel ---------------------------------------------------------------------
    def sms_ready(self):
        if self.sms_outbox is not None:
            return True
        m = self.modem
        return m is not None and m.state == "READY"

    def _owner(self):
        return config.owner_phone(self.cfg.param(config.PARAM_REGPHONE))

    def send_sms(self, text):
        owner = self._owner()
        if owner is None:
            self.sms_dropped += 1
            return True  # nobody to tell: accepted (and counted), not retried
        if self.sms_outbox is not None:
            return self.sms_outbox.put("T", text)
        self._hand_over(owner, text)
        return True

    def _hand_over(self, owner, text):
        parts = smsout.shape([text])
        if not parts:
            return
        self.sms_out += 1
        self.modem.send_sms(owner, parts)
        if self.on_sms is not None:
            self.on_sms(owner, text)

    def pump(self):
        self._pump_sms()
        for ob in (self.outbox, self.sms_outbox):
            if ob is not None:
                ob.maybe_flush()

    def _pump_sms(self):
        ob = self.sms_outbox
        m = self.modem
        if ob is None or m is None or m.state != "READY":
            return
        if self._sms_seq is not None:
            pending = getattr(m, "pending_sms", None)
            if pending is not None and pending() > 0:
                return  # still in the driver's queue
            ob.ack(self._sms_seq)
            self._sms_seq = None
        e = ob.next_entry()
        if e is None:
            return
        seq, _t, _kind, text = e
        owner = self._owner()
        if owner is None:
            self.sms_dropped += 1
            ob.ack(seq)
            return
        self._sms_seq = seq
        self._hand_over(owner, text)

    # ---- both -------------------------------------------------------------------------
    def flush(self):
        ok = True
        for ob in (self.outbox, self.sms_outbox):
            if ob is not None and not ob.flush():
                ok = False
        return ok

    def diag_text(self):
        srv = self.outbox.stats() if self.outbox is not None else "none"
        sms = self.sms_outbox.stats() if self.sms_outbox is not None else "none"
        return "OUTBOX server %s; SMS %s (no owner %d)" % (srv, sms, self.sms_dropped)
