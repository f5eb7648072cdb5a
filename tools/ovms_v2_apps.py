# The App side of the test OVMS v2 server (tools/ovms_v2_server.py): App
# (MP-A) and batch client (MP-B) logins, the history commands 30/31/32 the
# server answers itself, and every other command forwarded to the car with its
# reply routed back the way today's server does it (protocol §8.3, §8.6, §11).
# Licence: MIT (this project).
#
# Runs under CPython and the MicroPython unix port, like the server.
#
# Routing (§8.6): each forwarded C puts its client at the tail of one FIFO per
# car; a c from the car goes to the head only and removes it (commands 1 and
# 3: when the index reaches max-1). A c with nobody queued goes to every client
# and is counted in stray_replies (the current server would break on it); a c
# for another command than the head's is counted in mismatched: the car left a
# command unanswered and the real server now routes every reply wrongly.
#
# Decisions:
# - D81: the queue is emptied when a car logs in: the car discards replies that
#   belong to an older connection, so the old entries would never be answered
#   and would take the next command's reply. A C for a car that is not
#   connected is dropped (as the real server does) and counted.
# - D82: history queries skip expired records (expiry = arrival + lifetime,
#   "keep at least lifetime seconds", §7.1; an h record stamped in the past
#   still gets its full lifetime) and keep the last of several records with
#   the same (type, recno, timestamp) (today's server, §13).

from ovms.v2 import codec, login


def _days_to_ymd(days):
    # days since 1970-01-01 -> (y, m, d), proleptic Gregorian
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return y, m, d


def utc_text(t):
    # seconds since the epoch -> "YYYY-MM-DD HH:MM:SS" (UTC, the server's format)
    t = int(t)
    days = t // 86400
    s = t - days * 86400
    y, m, d = _days_to_ymd(days)
    return "%04d-%02d-%02d %02d:%02d:%02d" % (y, m, d, s // 3600, s // 60 % 60, s % 60)


def parse_utc(text):
    # "YYYY-MM-DD[ HH:MM[:SS]]" -> seconds since the epoch; None if malformed
    text = text.strip()
    try:
        y = int(text[0:4])
        m = int(text[5:7])
        d = int(text[8:10])
        hh = int(text[11:13]) if len(text) > 11 else 0
        mi = int(text[14:16]) if len(text) > 14 else 0
        ss = int(text[17:19]) if len(text) > 17 else 0
    except ValueError:
        return None
    if text[4:5] != "-" or text[7:8] != "-":
        return None
    # the real server compares text, "0000-00-00" means "everything"
    m = max(1, min(m, 12))
    d = max(1, d)
    y2 = y - (1 if m <= 2 else 0)
    era = y2 // 400
    yoe = y2 - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hh * 3600 + mi * 60 + ss


def live_records(history, now, since=None):
    # server.history tuples (ts, type, recno, lifetime, data, arrival) -> the
    # records a query sees, as (ts, type, recno, data), D82
    latest = {}
    for r in history:
        arrival = r[5] if len(r) > 5 else r[0]
        if arrival + r[3] < now:
            continue
        if since is not None and r[0] <= since:
            continue
        latest[(r[1], r[2], r[0])] = (r[0], r[1], r[2], r[4])
    return list(latest.values())


def summary_lines(history, now, vehicle, since=None):
    # command 31: one "c31,0,k,n,type,distinct recnos,records,bytes,oldest,newest"
    # per type, sorted by type
    by_type = {}
    for ts, rtype, recno, data in live_records(history, now, since):
        e = by_type.get(rtype)
        if e is None:
            e = by_type[rtype] = [{}, 0, 0, ts, ts]
        e[0][recno] = 1
        e[1] += 1
        e[2] += len(rtype) + len(data) + len(vehicle) + 20
        e[3] = min(e[3], ts)
        e[4] = max(e[4], ts)
    if not by_type:
        return ["MP-0 c31,1,No historical data available"]
    types = sorted(by_type.keys())
    n = len(types)
    out = []
    for k in range(n):
        e = by_type[types[k]]
        out.append(
            "MP-0 c31,0,%d,%d,%s,%d,%d,%d,%s,%s"
            % (k + 1, n, types[k], len(e[0]), e[1], e[2], utc_text(e[3]), utc_text(e[4]))
        )
    return out


def record_lines(history, now, rtype, since=None):
    # command 32: "c32,0,k,n,type,timestamp,recno,data" by timestamp, then recno
    recs = [r for r in live_records(history, now, since) if r[1] == rtype]
    if not recs:
        return ["MP-0 c32,1,No historical data available"]
    recs.sort(key=lambda r: (r[0], r[2]))
    n = len(recs)
    return [
        "MP-0 c32,0,%d,%d,%s,%s,%d,%s"
        % (k + 1, n, rtype, utc_text(recs[k][0]), recs[k][2], recs[k][3])
        for k in range(n)
    ]


def split_command(data):
    # "31,2026-11-25" -> (31, "2026-11-25"); (None, None) if not "<digits>[,...]"
    head, sep, rest = data.partition(",")
    if not head or not head.isdigit():
        return None, None
    return int(head), (rest if sep else None)


class AppConn:
    # one logged-in App or batch client
    def __init__(self, kind, vid, writer, session):
        self.kind = kind  # "A" app, "B" batch client
        self.vid = vid
        self.writer = writer
        self.session = session
        self.received = []  # clear lines from this client
        self.closed = False

    async def send(self, clear):
        if self.closed:
            return
        try:
            self.writer.write(self.session.encode_lines([clear]))
            await self.writer.drain()
        except OSError:
            self.closed = True


class AppSide:
    def __init__(self, server):
        self.srv = server
        self.clients = []  # AppConn, in login order
        self.queue = []  # FIFO of (AppConn, command) waiting for the car's c (§8.6)
        self.stored = {}  # message code -> data of the car's latest message (§11)
        self.ptoken = None  # the car's paranoid token (ET), relayed to new clients
        self.last_update = None  # server time of the last stored car message
        self.logins = 0
        self.auth_failures = 0
        self.forwarded = 0  # commands sent on to the car
        self.answered = 0  # commands 30-32 answered by the server
        self.dropped_commands = 0  # C for a car that is not connected (D81)
        self.stray_replies = 0  # c from the car with nobody queued
        self.mismatched = 0  # c for another command than the head's (a lost reply)
        self.orphan_replies = 0  # c for a client that has left

    def watching(self):
        # apps (not batch clients) connected: the car's Z<n> (§10)
        return len([c for c in self.clients if c.kind == "A" and not c.closed])

    async def broadcast(self, clear):
        for c in list(self.clients):
            await c.send(clear)

    # ---- car events (called by the server) -------------------------------------
    async def car_login(self):
        self.queue = []  # D81
        await self.broadcast("MP-0 Z1")

    async def car_gone(self):
        await self.broadcast("MP-0 Z0")

    async def car_message(self, clear):
        # a decrypted car line other than H/h/A/a
        code = clear[5:6]
        if code == "c" or clear.startswith("MP-0 EMc"):
            await self._route_reply(clear)
            return
        if clear.startswith("MP-0 ET"):
            self.ptoken = clear[7:]
            await self.broadcast(clear)
            return
        if code in ("P", "g", "E") and not clear.startswith("MP-0 EM"):
            await self.broadcast(clear)
            return
        key = clear[5:8] if clear.startswith("MP-0 EM") else code
        self.stored[key] = clear[5:]
        self.last_update = int(self.srv.clock())
        await self.broadcast(clear)
        if code == "F":
            await self.broadcast("MP-0 fTEST")
        await self.broadcast("MP-0 T0")

    async def _route_reply(self, clear):
        keep = False
        cmd = None
        if clear[5] == "c":
            f = clear[6:].split(",", 4)
            cmd = int(f[0]) if f[0].isdigit() else -1
            if len(f) >= 4 and f[0] in ("1", "3") and f[1] == "0":
                keep = f[2] != str(int(f[3]) - 1) if f[3].isdigit() else False
        if not self.queue:
            self.stray_replies += 1
            await self.broadcast(clear)
            return
        head, asked = self.queue[0]
        if cmd is not None and asked is not None and cmd != asked:
            self.mismatched += 1  # a command went unanswered: this reply is misrouted
        if not keep:
            self.queue.pop(0)
        if head.closed:
            self.orphan_replies += 1  # its client left: nobody else gets it
            return
        await head.send(clear)

    # ---- one client connection -----------------------------------------------------
    async def serve(self, reader, writer, first, lb, pending):
        srv = self.srv
        line = codec.text(first)
        kind = line[3:4]
        try:
            # every client type's welcome has the car's shape (§2.2)
            ctoken, vid = login.parse_car_welcome("MP-C" + line[4:], srv.vehicles.get)
        except codec.AuthError:
            self.auth_failures += 1
            return  # silent close, as the real server does (§2.3)
        netpass = srv.vehicles[vid]
        while True:
            stoken = login.make_token(srv.randbytes)
            if stoken != ctoken:
                break
        sess = codec.Session(login.session_key(netpass, stoken, ctoken))
        conn = AppConn(kind, vid, writer, sess)
        self.clients.append(conn)
        self.logins += 1
        try:
            writer.write((login.server_welcome(stoken, netpass) + "\r\n").encode())
            await self._welcome(conn)
            if kind == "A" and srv.logged_in():
                await srv.send("MP-0 Z%d" % (srv.apps + self.watching()))
            while True:
                while pending:
                    clear = sess.decode(pending.pop(0))
                    conn.received.append(clear)
                    await self._message(conn, clear)
                data = await reader.read(512)
                if not data:
                    return
                pending.extend(lb.feed(data))
        except (OSError, codec.ProtocolError):
            return
        finally:
            conn.closed = True
            if conn in self.clients:
                self.clients.remove(conn)
            if kind == "A" and srv.logged_in():
                try:
                    await srv.send("MP-0 Z%d" % (srv.apps + self.watching()))
                except OSError:
                    pass

    async def _welcome(self, conn):
        # §11: Z<car connected>, stored messages (S and F first), T<seconds>
        await conn.send("MP-0 Z%d" % (1 if self.srv.logged_in() else 0))
        if self.ptoken is not None:
            await conn.send("MP-0 ET" + self.ptoken)
        keys = sorted(self.stored.keys(), key=lambda k: (k not in ("S", "F"), k))
        for k in keys:
            await conn.send("MP-0 " + self.stored[k])
        age = -1 if self.last_update is None else int(self.srv.clock()) - self.last_update
        await conn.send("MP-0 T%d" % age)

    async def _message(self, conn, clear):
        code = clear[5:6]
        if code == "A":
            await conn.send("MP-0 a")
            return
        if code == "C":
            cmd, params = split_command(clear[6:])
            if cmd in (30, 31, 32):
                self.answered += 1
                for reply in self._server_command(cmd, params, conn.vid):
                    await conn.send(reply)
                return
        elif not clear.startswith("MP-0 EMC"):
            return  # apps send nothing else the car needs
        if not self.srv.logged_in():
            self.dropped_commands += 1  # D81: the real server drops it too
            return
        cmd = split_command(clear[6:])[0] if code == "C" else None
        self.queue.append((conn, cmd))
        self.forwarded += 1
        await self.srv.send(clear)

    def _server_command(self, cmd, params, vid):
        srv = self.srv
        now = int(srv.clock())
        if cmd == 30:
            return ["MP-0 c30,1,No GPRS utilisation data available"]
        if cmd == 31:
            since = parse_utc(params) if params else None
            return summary_lines(srv.history, now, vid, since)
        if not params:
            return ["MP-0 c32,1,No historical data available"]
        rtype, _, since_text = params.partition(",")
        since = parse_utc(since_text) if since_text else None
        return record_lines(srv.history, now, rtype, since)
