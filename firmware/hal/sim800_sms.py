# SIM800 SMS room: inbox sweep, exactly-once handling, outbox.
# Licence: MIT (this project).
#
# SmsRoom is a mixin of firmware.hal.sim800.Sim800 (the supervisor calls
# _sms_service once per pass). Exactly once, from the SIM's point of view:
#   * an SMS is answered, then deleted with ONE AT+CMGD=k. Until that delete is
#     confirmed (OK) it stays in the "handled, delete pending" memory (A), sized
#     to the SIM's storage (AT+CPMS total), so however many other SMS come and go,
#     an SMS seen again is only deleted, never answered twice;
#   * a failed delete does not stop the sweep; the pending deletes are done by a
#     later listing (AT+CMGL), which shows where that SMS still is. A blind retry
#     of AT+CMGD=k after a lost OK could delete a new SMS that took slot k (E);
#     the listing is the verification (D33: one AT+CMGL re-reads every slot at
#     once, where an AT+CMGR per pending slot would be one command each; an SMS
#     the full listing no longer shows is gone and leaves the memory);
#   * an SMS is only read and deleted while its reply fits into the outbox (C):
#     at most REPLY_PARTS_MAX parts per reply, and replies are never pushed out by
#     the outbox's overflow rule (only queued alerts are) - D31;
#   * the text of a listed SMS whose listing was cut (more than MAX_LINES lines)
#     is not trusted: that SMS waits for the next sweep.
# Outbox: parts shaped by ovms.smsout (the one SMS splitter), sent in order with
# AT+CMGS. A part whose +CMGS confirmation was lost is resolved by the resync
# after the timeout (a late "+CMGS:" means it went out); only when the modem
# reset after it took the text is it sent again (at least once, counted).

from firmware.hal.sim800_at import CTRL_Z, ModemError, ModemReset, ModemTimeout
from ovms import at
from ovms.aio import ticks_add, ticks_diff, ticks_ms
from ovms.compat import const
from ovms.smsout import shape
from ovms.units import dec_int  # the AT numbers' rule

_OUTBOX_MAX = const(32)  # SMS parts queued
REPLY_PARTS_MAX = 8  # parts of one reply kept (D31); more are cut and counted
PENDING_MAX = 32  # +CMTI indexes / +CMT texts waiting
_SIM_SLOTS = const(30)  # until AT+CPMS tells the real size
_SIM_SLOTS_MAX = const(255)


def parse_cpms_total(lines):
    # '+CPMS: 3,30,3,30,3,30' (reply to the set form) -> 30 (read storage total), or -1
    for ln in lines:
        if ln.startswith("+CPMS:"):
            f = at.fields(ln[6:])
            if len(f) >= 2:
                return dec_int(f[1])
    return -1


class SmsRoom:
    def _sms_init(self):
        self._pending = []  # SMS storage indexes announced by +CMTI
        self._direct = []  # (sender, ts, text) from +CMT (not stored: no delete)
        self._outbox = []  # [number, text, tries, is_reply]
        self._handled = []  # [sender, ts, text]: answered, delete not confirmed yet (A)
        self.sim_slots = _SIM_SLOTS
        self._sweep_due = True
        self._t_sweep = ticks_ms()

    # ---- public ----------------------------------------------------------------
    def send_sms(self, number, texts):
        # queue one text or a list of texts (shaped into SMS parts) to `number`
        if isinstance(texts, str):
            texts = [texts]
        for part in shape(texts):
            self._queue(number, part, False)
        self._wake.set()

    def pending_sms(self):
        return len(self._outbox)

    def _queue(self, number, text, reply):
        box = self._outbox
        if not reply and len(box) >= _OUTBOX_MAX:
            # full: the oldest queued alert goes; a reply to an SMS already
            # deleted from the SIM is never dropped (C, D31)
            for i in range(len(box)):
                if not box[i][3]:
                    box.pop(i)
                    break
            else:
                self.counters["sms_dropped"] += 1
                return
            self.counters["sms_dropped"] += 1
        box.append([number, text, 0, reply])

    def _room(self):
        # True when one more reply (REPLY_PARTS_MAX parts) fits (C)
        return len(self._outbox) <= _OUTBOX_MAX - REPLY_PARTS_MAX

    # ---- the pass ------------------------------------------------------------------
    async def _sms_service(self):
        now = ticks_ms()
        if ticks_diff(now, self._t_sweep) >= 0:
            self._sweep_due = True
        if self._sweep_due and self._room():
            await self._sweep()
        while self._pending and self._room():
            await self._read_sms(self._pending[0])
        while self._direct and self._room():
            sender, ts, text = self._direct.pop(0)
            self._handle_sms(sender, ts, text, False)
        while self._outbox:
            await self._send_first()

    def _direct_line(self, line):
        # reader: the text line after a +CMT header
        sender, ts = self._cmt
        self._cmt = None
        if len(self._direct) < PENDING_MAX:
            self._direct.append((sender, ts, line))
        else:
            self.counters["sms_lost"] += 1
        self._wake.set()

    def _cmti(self, arg):
        # reader: +CMTI: "SM",k
        idx = at.parse_cmti(arg)[1]
        if idx >= 0 and idx not in self._pending:
            if len(self._pending) < PENDING_MAX:
                self._pending.append(idx)
            else:
                self._sweep_due = True  # the listing finds it
        self._wake.set()

    def _set_sim_slots(self, lines):
        n = parse_cpms_total(lines)
        if n > 0:
            self.sim_slots = n if n < _SIM_SLOTS_MAX else _SIM_SLOTS_MAX

    # ---- inbox -------------------------------------------------------------------------
    async def _sweep(self):
        # list every stored SMS: answer the new ones, delete them
        lines = await self.cmd('AT+CMGL="ALL"', expect="+CMGL:", tries=2)
        cut = self.truncated
        self._sweep_due = False
        self._t_sweep = ticks_add(ticks_ms(), self.t_ms["sweep"])
        msgs = []
        cur = None
        for ln in lines:
            h = at.parse_cmgl(ln) if ln.startswith("+CMGL:") else None
            if h is not None:
                cur = [h, []]
                msgs.append(cur)
            elif cur is not None:
                cur[1].append(ln)
        if cut and msgs:
            msgs.pop()  # its text may be cut: the next sweep reads it
            self._sweep_due = True
        listed = []
        for h, text in msgs:
            h = (h[0], h[1], h[2], h[3], "\n".join(text))
            listed.append(h)
        if not cut:
            # a delete-pending SMS that the full listing no longer shows is gone
            keep = []
            for e in self._handled:
                for h in listed:
                    if h[2] == e[0] and h[3] == e[1] and h[4] == e[2]:
                        keep.append(e)
                        break
            self._handled = keep
        fails = 0
        for idx, status, sender, ts, text in listed:
            if not status.startswith("REC"):
                continue  # a stored draft/sent message: not ours to answer
            if self._find(sender, ts, text) is None:
                if not self._room():
                    self._sweep_due = True  # C: the rest waits in the SIM
                    break
                self._handle_sms(sender, ts, text, True)
            else:
                self.counters["sms_dup"] += 1
            if idx in self._pending:
                self._pending.remove(idx)
            if await self._delete(idx, sender, ts, text):
                fails = 0
            else:
                fails += 1  # one failed delete goes on; two in a row: the ladder
                if fails >= 2:
                    raise ModemError("AT+CMGD", "deletes failing")

    async def _read_sms(self, idx):
        lines = await self.cmd("AT+CMGR=%d" % idx, expect="+CMGR:", tries=2)
        if self._pending and self._pending[0] == idx:
            self._pending.pop(0)
        hdr = None
        text = []
        for ln in lines:
            if hdr is None:
                if ln.startswith("+CMGR:"):
                    hdr = at.parse_cmgr(ln)
            else:
                text.append(ln)
        if hdr is None:
            return  # empty slot (already handled by a sweep)
        if self.truncated:
            self._sweep_due = True
            return
        status, sender, ts = hdr
        if not status.startswith("REC"):
            return
        text = "\n".join(text)
        if self._find(sender, ts, text) is None:
            self._handle_sms(sender, ts, text, True)
        else:
            self.counters["sms_dup"] += 1
        await self._delete(idx, sender, ts, text)

    def _find(self, sender, ts, text):
        for e in self._handled:
            if e[0] == sender and e[1] == ts and e[2] == text:
                return e
        return None

    async def _delete(self, idx, sender, ts, text):
        # ONE AT+CMGD=idx (E: never a blind retry); its failure leaves the entry
        # pending and lists again after del_retry ms (A: the sweep goes on).
        # A failed resync before it (the modem is gone) is raised: the ladder.
        cmd = "AT+CMGD=%d" % idx
        try:
            await self.cmd(cmd)
        except ModemReset:
            raise
        except ModemError as e:
            if e.cmd != cmd:
                raise
            self.counters["sms_del_fail"] += 1
            t = ticks_add(ticks_ms(), self.t_ms["del_retry"])
            if ticks_diff(self._t_sweep, t) > 0:
                self._t_sweep = t
            return False
        e = self._find(sender, ts, text)
        if e is not None:
            self._handled.remove(e)
        return True

    def _handle_sms(self, sender, ts, text, stored):
        if stored:
            if len(self._handled) >= self.sim_slots + PENDING_MAX:
                self._handled.pop(0)  # cannot happen while the SIM holds sim_slots
                self.counters["handled_overflow"] += 1
            self._handled.append([sender, ts, text])
        self.counters["sms_in"] += 1
        replies = self._callback(self.on_sms, sender, text)
        if not replies:
            return
        parts = shape(replies)
        if len(parts) > REPLY_PARTS_MAX:
            self.counters["sms_cut"] += len(parts) - REPLY_PARTS_MAX
            parts = parts[:REPLY_PARTS_MAX]
        for p in parts:
            self._queue(sender, p, True)
        self._wake.set()

    # ---- outbox --------------------------------------------------------------------------
    async def _send_first(self):
        item = self._outbox[0]
        number, text, tries, _ = item
        item[2] = tries + 1
        self.late_cmgs = False
        try:
            await self.cmd(
                'AT+CMGS="%s"' % number,
                expect="+CMGS:",
                payload=at.encode(text) + CTRL_Z,
            )
        except ModemError as e:
            sent = False
            known = not self.payload_sent  # the modem surely has not sent it
            if isinstance(e, ModemTimeout) and self.payload_sent:
                # the text went in, the confirmation did not come in time: the
                # resync shows whether a late "+CMGS:" was still on its way (a
                # serial modem answers the resync only after it)
                try:
                    async with self._lock:
                        await self._sync()
                    known = True
                except ModemReset:
                    pass
                except ModemError:
                    pass
                sent = self.late_cmgs
            if sent:
                self.counters["sms_late_ok"] += 1
            else:
                if not known:
                    # the modem reset (or went mute) after it took the text: sent
                    # again, counted (a duplicate reply beats a lost alert)
                    self.counters["sms_unconfirmed"] += 1
                if item[2] >= self.limits["sms_tries"]:
                    self._unqueue(item)
                    self.counters["sms_dropped"] += 1
                raise
        self._unqueue(item)
        self.counters["sms_out"] += 1

    def _unqueue(self, item):
        if self._outbox and self._outbox[0] is item:
            self._outbox.pop(0)
