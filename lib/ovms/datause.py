# Mobile data: the data profile (parameter 16), the byte counter per calendar month with
# an estimate of the TCP/IP overhead (survives reboots), the optional monthly budget
# (parameter 17, KB) and the link plan (keep-alive, offline while parked).
# Licence: MIT (this project). Pure: time comes in as epoch seconds of the board clock,
# persistence through a path; no hardware, no vehicle.
#
#   du = DataUse(cfg, path="/flash/datause", clock_s=time.time)
#   du.opened(); du.sent(n); du.received(n); du.closed()   # the counting stream does it
#   du.level()            0 normal, 1 slowed (over pace), 2 minimal (>= 90 % of budget)
#   du.text()             the DATA? reply
#
# D70 profiles: "rt25" (the 2013 cadence; empty parameter 16 = rt25, the core's default,
# so every spec vector holds) and "economy" (the shipping boards write it into an empty
# parameter 16 at boot: firmware/boards/pyboard.py, esp32.py DATA_PROFILE). The economy
# cadence itself: ovms/twizy/cadence.py (records), ovms/v2/periodic.py (status set).
# D71 the counter: its own small file beside the settings, not a settings slot (the
# settings file is rewritten whole, twice, on every save). Two alternating slots
# <path>.0/<path>.1, each "seq month up down oh_up oh_down crc32": a torn write loses
# only the newest slot. Written when >= _SAVE_BYTES are unsaved and _SAVE_MIN_S passed
# since the last write, or anything is unsaved after _SAVE_MAX_S, at a month change and
# before a planned reset (flush): economy (<= 20 KB a day) writes at most 4 times a day,
# rt25 (~330 KB a day) about 12, never more than 48 a day. A crash loses at most the
# unsaved part (counted low, never high).
# D73 overhead model (what a carrier bills is IP bytes): every write is
# ceil(n / MSS) segments, every read one segment at least, each with its IPv4 + TCP
# header (40 bytes, no options). ACKs: the server acknowledges our segments with delayed
# ACKs (one per two segments, RFC 1122/5681) and the last of them rides on its reply
# when one comes before our next write (a record's acknowledgement line, a pong); the
# SIM800 is assumed to acknowledge every segment it receives with a pure ACK (40
# bytes). A connection costs SYN, SYN-ACK (44 each: MSS option), ACK (40) and the
# close 4 x 40.
# D72 the link plan: the server drops a car silent for 960 s and pings one it sent
# nothing to for 900 s; a carrier NAT forgets an idle TCP mapping after NAT_TIMEOUT_S
# (carriers differ widely: one French mobile network was seen dropping idle TCP after
# less than 270 s (wirelessmoves.com, 2020), Twilio's Super SIM core keeps it 6 h;
# RFC 5382 asks for 2 h 4 min). Assumed 900 s; a board whose carrier drops sooner sets
# NAT_TIMEOUT_S. The car's ping: ping_s() = min(NAT, 900) - 60 s = 840 s.
# Parked (car off, not charging) the kept link costs 86400 / ping_s x _PING_CYCLE bytes a
# day (at 840 s: 18.5 KB/day = 0.56 MB/month, more than the whole economy promise), so
# economy keeps it only if that fits half of a set budget; otherwise the link is up
# while the car is on, an app is connected, an alert waits in the outbox, or records
# have waited RECORD_WAIT_S, and PARK_LINGER_S after the last of these (a charge alone
# keeps no link: its alerts bring it; firmware/tasks/dataplan.py). rt25 stays online
# (2013 behaviour).
# D74 budget: level 1 ("slowed") when this month's bytes exceed the pace budget x
# (elapsed days + 1) / days of the month: economy cadence with the intervals x3 and the
# dead bands x2 (rt25 too); level 2 ("minimal") from 90 % of the budget: only alerts,
# alert-state changes and the switch-off / charge-end records. Alerts are never held.

# D129: resident (the data plan asks it every second): what only this module reads is a
# folded constant, binascii is imported by the two functions that read or write the
# counter file: 19 names, 23 slots (was 32 names, 37 slots: 304 -> 192 bytes).
from ovms.config import PARAM_DATABUDGET, PARAM_DATAPROFILE

_RT25 = const("rt25")
ECONOMY = "economy"  # the other profile: rt25

_HEADER = const(40)  # IPv4 20 + TCP 20 bytes per segment (D73)
_ACK = const(40)  # the peer's pure ACK of a data segment
_MSS = const(1460)  # SIM800 AT+CIPSEND maximum / Ethernet MSS
_CONNECT = const(44 + 44 + 40)  # SYN, SYN-ACK (MSS option), ACK
_CLOSE = const(4 * 40)  # FIN, ACK, FIN, ACK

_SERVER_TIMEOUT_S = const(960)  # ovms-v2-protocol.md §5
SERVER_PING_S = 900
NAT_TIMEOUT_S = 900  # assumed carrier NAT idle timeout (D72)
_PING_MARGIN_S = const(60)
_PING_CYCLE = const(2 * (_HEADER + 10) + _ACK + _ACK)  # "MP-0 A" up, "MP-0 a" down, ACKed
PARK_LINGER_S = 660  # economy: link down this long after the last reason to be up
RECORD_WAIT_S = 6 * 3600  # economy: records alone wait at most this long for a link

_SAVE_BYTES = const(16384)
_SAVE_MIN_S = const(1800)
_SAVE_MAX_S = const(6 * 3600)

_DAYS = const((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31))
_LEVEL_TEXT = const(("normal", "slowed (over pace)", "minimal (90% of budget)"))


def profile(cfg):
    # the data profile of parameter 16; anything but "economy" (checked on input) = rt25
    p = cfg.params[PARAM_DATAPROFILE]
    if p == ECONOMY or not p or p == _RT25:  # no allocation: called every second
        return ECONOMY if p == ECONOMY else _RT25
    return ECONOMY if p.lower() == ECONOMY else _RT25


def budget_bytes(cfg):
    # parameter 17: monthly budget in KB (1 KB = 1000 bytes); empty / 0 = none
    t = cfg.params[PARAM_DATABUDGET].strip()
    return int(t) * 1000 if t and len(t) < 10 and min(t) >= "0" and max(t) <= "9" else 0


def ping_s(nat_timeout_s=NAT_TIMEOUT_S):
    # the car's keep-alive interval while the link is kept (D72)
    t = min(nat_timeout_s, SERVER_PING_S) - _PING_MARGIN_S
    return t if t >= 60 else 60


def keep_parked(cfg, nat_timeout_s=NAT_TIMEOUT_S):
    # economy: keep the link while parked only if a month of pings fits half the budget
    b = budget_bytes(cfg)
    return b > 0 and 30 * 86400 // ping_s(nat_timeout_s) * _PING_CYCLE <= b // 2


def epoch_year():
    # the board clock's epoch: 1970 (CPython, unix port) or 2000 (MicroPython boards);
    # a port without time.gmtime (the emulated Cortex-M) counts from 2000
    import time

    try:
        return time.gmtime(0)[0]
    except AttributeError:
        return 2000


def ymd(now_s):
    # (year, month, day) of the board clock's seconds, UTC (no time.gmtime needed)
    days = int(now_s) // 86400 if now_s > 0 else 0
    y = epoch_year()
    while True:
        n = 366 if days_in(y, 2) == 29 else 365
        if days < n:
            break
        days -= n
        y += 1
    m = 1
    while days >= days_in(y, m):
        days -= days_in(y, m)
        m += 1
    return y, m, days + 1


def month_of(now_s):
    # (year, month) of the board clock's seconds
    t = ymd(now_s)
    return t[0], t[1]


def days_in(year, month):
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS[month - 1]


class DataUse:
    def __init__(self, cfg, path=None, clock_s=None, save_bytes=_SAVE_BYTES):
        if clock_s is None:
            import time

            clock_s = time.time
        self.cfg = cfg
        self.path = path
        self.clock_s = clock_s
        self.save_bytes = save_bytes
        self.up = self.down = 0  # payload bytes this month
        self.oh_up = self.oh_down = 0  # estimated TCP/IP overhead bytes this month
        self.connects = 0  # this boot
        self.writes = 0  # counter file writes this boot (flash wear)
        self.bad_files = 0  # counter slots that did not verify at boot
        self._seq = 0
        self._acks = 0  # ACKs the server owes for our segments (delayed ACK, D73)
        self._unsaved = 0
        now = int(clock_s())
        self._saved_at = now
        self.month = month_of(now)
        if path is not None:
            self._load()

    # ---- counting (the counting stream, firmware/datastream.py) -------------------------
    def opened(self):
        self.connects += 1
        self._handshake(_CONNECT)

    def closed(self):
        self._settle()
        self._handshake(_CLOSE)

    def sent(self, n):
        seg = (n + _MSS - 1) // _MSS
        self.up += n
        self.oh_up += seg * _HEADER
        self._acks += (seg + 1) // 2  # the server's delayed ACKs, counted once known
        self._unsaved += n + seg * _HEADER

    def received(self, n):
        seg = (n + _MSS - 1) // _MSS if n > _MSS else 1
        self.down += n
        self.oh_down += seg * _HEADER
        self.oh_up += seg * _ACK  # ours: one per segment (the SIM800's stack: assumed)
        if self._acks:
            self._acks -= 1  # the server's reply carries its last ACK
            self._settle()
        self._unsaved += n + seg * (_HEADER + _ACK)

    def _settle(self):
        self.oh_down += self._acks * _ACK
        self._unsaved += self._acks * _ACK
        self._acks = 0

    def _handshake(self, n):
        # connection set-up / tear-down: overhead only, about half each way
        self.oh_up += n // 2
        self.oh_down += n - n // 2
        self._unsaved += n

    def total(self):
        return self.up + self.down + self.oh_up + self.oh_down + self._acks * _ACK

    # ---- budget (D74) ---------------------------------------------------------------------
    def level(self, now_s=None):
        b = budget_bytes(self.cfg)
        if not b:
            return 0
        used = self.total()
        if used * 10 >= b * 9:
            return 2
        if now_s is None:
            now_s = self.clock_s()
        t = ymd(now_s)
        pace = b * t[2] // days_in(t[0], t[1])  # day of month t[2]: elapsed days + 1
        return 1 if used > pace else 0

    def text(self):
        now = int(self.clock_s())
        self.roll(now)
        b = budget_bytes(self.cfg)
        used = self.total()
        return "DATA %04d-%02d: %d KB (TCP/IP est. %d KB), budget %s, %s, cadence %s" % (
            self.month[0],
            self.month[1],
            (used + 500) // 1000,
            (used - self.up - self.down + 500) // 1000,
            ("%d KB (%d%%)" % (b // 1000, used * 100 // b)) if b else "none",
            profile(self.cfg),
            _LEVEL_TEXT[self.level(now)],
        )

    # ---- persistence (D71) ----------------------------------------------------------------
    def roll(self, now_s):
        # a new calendar month starts from 0 (the old one is written first)
        m = month_of(now_s)
        if m != self.month:
            self.save()
            self.month = m
            self.up = self.down = self.oh_up = self.oh_down = 0
            self._unsaved = 1  # the fresh month on flash soon
            return True
        return False

    def maybe_save(self, now_s):
        # once a minute is plenty; -> True when written
        if self.roll(now_s):
            return self.save()
        age = now_s - self._saved_at
        if self._unsaved and (
            (self._unsaved >= self.save_bytes and age >= _SAVE_MIN_S) or age >= _SAVE_MAX_S
        ):
            self._saved_at = now_s
            return self.save()
        return False

    def _line(self, seq):
        body = "%d %d %d %d %d %d %d" % (
            seq,
            self.month[0] * 100 + self.month[1],
            self.up,
            self.down,
            self.oh_up,
            self.oh_down,
            self.connects,
        )
        import binascii  # up to 48 writes a day: not resident (D129)

        return "%s %08x\n" % (body, binascii.crc32(body.encode()) & 0xFFFFFFFF)

    def save(self):
        # -> True when written; an OSError is counted, the next try comes later
        self._settle()
        self._unsaved = 0
        if self.path is None:
            return False
        self._seq += 1
        try:
            with open("%s.%d" % (self.path, self._seq & 1), "w") as f:
                f.write(self._line(self._seq))
            self.writes += 1
            return True
        except OSError:
            self.bad_files += 1
            return False

    def flush(self):
        # before a planned reset
        if self._unsaved:
            self.save()

    def _load(self):
        best = None
        for k in (0, 1):
            v = _read_slot("%s.%d" % (self.path, k))
            if v is None:
                continue
            if v == "bad":
                self.bad_files += 1
            elif best is None or v[0] > best[0]:
                best = v
        if best is None:
            return
        self._seq = best[0]
        if (best[1] // 100, best[1] % 100) == self.month:
            self.up, self.down, self.oh_up, self.oh_down = best[2], best[3], best[4], best[5]


def _read_slot(name):
    # -> None (no file), "bad" (torn or foreign), or [seq, month, up, down, oh_up, oh_down]
    import binascii  # at boot only (D129)

    try:
        with open(name) as f:
            line = f.read(200)
    except OSError:
        return None
    p = line.strip().split(" ")
    if len(p) != 8:
        return "bad"
    body = " ".join(p[:7])
    try:
        if int(p[7], 16) != binascii.crc32(body.encode()) & 0xFFFFFFFF:
            return "bad"
        return [int(x) for x in p[:6]]
    except ValueError:
        return "bad"
