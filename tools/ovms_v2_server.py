# A small OVMS v2 server for tests and bench work: accepts car logins
# (scheme 0), decrypts and records every car line, answers pings, stores
# history records (H stamped "now", h stamped "now + timediff" and
# acknowledged with "MP-0 h<ackcode>", protocol §4, §7), and lets the caller
# send clear messages (Z, C, A ...) to the connected car. Apps and batch
# clients (MP-A / MP-B, e.g. tools/ovms_client.py) log in too: the server
# answers the history commands 30/31/32 and routes every other command to the
# car and its reply back (tools/ovms_v2_apps.py).
# Licence: MIT (this project).
#
# Runs under CPython and the MicroPython unix port (tests use it over real
# loopback TCP). As a dev tool:
#   python3 -m tools.ovms_v2_server --port 6867 --vehicle TWIZY42 --pass NETPASS42
# prints every clear line a car sends. Not a real server: one vehicle table,
# no database (history kept in .history, in memory).
#
# Test knobs: clock (seconds, e.g. a virtual clock: the time records are
# stamped with), ack_h (False: never acknowledge h), drop_at_login (close
# every connection right after the welcome: the reconnect-storm case),
# log_history (seconds > 0: also keep every car status message as a history
# record of type <code>, recno 0, like today's server's "[log] history").

import asyncio
import os
import sys

from ovms.v2 import codec, login
from tools.ovms_v2_apps import AppSide


def _now_s():
    import time

    return int(time.time())


class FakeServer:
    def __init__(self, vehicles, randbytes=None, apps=0, echo=False, clock=None):
        self.vehicles = {}  # vehicle id (upper case) -> netpass
        for k in vehicles:
            self.vehicles[k.upper()] = vehicles[k]
        self.randbytes = randbytes or os.urandom
        self.apps = apps  # n of the Z<n> sent after login
        self.echo = echo  # print clear lines
        self.auto_pong = True  # answer "MP-0 A..." with "MP-0 a"
        self.received = []  # clear lines from cars, all connections
        self.clock = clock or _now_s  # seconds; stamps the history records
        # (timestamp s, type, recno, lifetime, data, arrival s) in arrival order
        self.history = []
        self.acks = 0  # h acknowledgements sent
        self.bad_records = 0  # H/h lines with too few fields
        self.ack_h = True
        self.drop_at_login = False
        self.log_history = 0
        self.app_side = AppSide(self)  # App / batch client logins (MP-A, MP-B)
        self.connections = 0
        self.logins = 0
        self.auth_failures = 0
        self.port = None
        self._server = None
        self._writer = None  # the logged-in car
        self._session = None

    # ---- control ---------------------------------------------------------------
    async def start(self, host="127.0.0.1", port=0):
        # port 0: a free port from 20000..59999 (MicroPython's Server cannot
        # report the port the OS picked)
        tries = 0
        while True:
            p = port
            if not port:
                r = self.randbytes(2)
                p = 20000 + ((r[0] << 8) | r[1]) % 40000
            try:
                self._server = await asyncio.start_server(self._client, host, p)
                self.port = p
                return p
            except OSError:
                tries += 1
                if port or tries > 20:
                    raise

    async def close(self):
        await self.drop()
        for c in list(self.app_side.clients):
            c.closed = True
            try:
                c.writer.close()
            except Exception:
                pass
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def logged_in(self):
        return self._session is not None

    async def send(self, clear):
        # one clear message to the logged-in car
        data = self._session.encode_lines([clear])
        self._writer.write(data)
        await self._writer.drain()

    async def drop(self):
        # close the car's connection (server restart, network loss)
        w = self._writer
        self._writer = None
        self._session = None
        if w is not None:
            try:
                w.close()
                await w.wait_closed()
            except Exception:
                pass
            await self.app_side.car_gone()

    async def wait_for(self, pred, timeout_ms=3000):
        # poll pred() every 10 ms; True once it holds, False on timeout
        waited = 0
        while not pred():
            if waited >= timeout_ms:
                return False
            await asyncio.sleep(0.01)
            waited += 10
        return True

    def lines(self, code):
        # received clear lines with message code `code`
        p = "MP-0 " + code
        return [m for m in self.received if m.startswith(p)]

    def records(self, rtype=None):
        # stored history records (of one type): [(timestamp, type, recno, data)]
        return [(r[0], r[1], r[2], r[4]) for r in self.history if rtype is None or r[1] == rtype]

    async def _history(self, clear):
        # §7.1 H<type>,<recno>,<lifetime>,<data>; §4 h<ackcode>,<timediff>,<type>,...
        ack = None
        arrival = now = int(self.clock())
        if clear[5] == "h":
            f = clear[6:].split(",", 5)
            if len(f) < 6:
                self.bad_records += 1
                return
            ack = f[0]
            try:
                now += int(f[1])
            except ValueError:
                self.bad_records += 1
                return
            f = f[2:]
        else:
            f = clear[6:].split(",", 3)
            if len(f) < 4:
                self.bad_records += 1
                return
        try:
            self.history.append((now, f[0], int(f[1]), int(f[2]), f[3], arrival))
        except ValueError:
            self.bad_records += 1
            return
        if ack is not None and self.ack_h:
            self.acks += 1
            await self.send("MP-0 h" + ack)

    def _log_history(self, clear):
        # "[log] history": a car status message kept as record <code>,0
        if self.log_history > 0 and clear[5:6] not in ("c", "E", "P", "g", ""):
            now = int(self.clock())
            self.history.append((now, clear[5], 0, self.log_history, clear[6:], now))

    # ---- one car connection ----------------------------------------------------------
    async def _client(self, reader, writer):
        self.connections += 1
        lb = codec.LineBuffer()
        pending = []
        sess = None
        try:
            while True:
                while pending:
                    line = pending.pop(0)
                    if sess is None and (line.startswith(b"MP-A ") or line.startswith(b"MP-B ")):
                        await self.app_side.serve(reader, writer, line, lb, pending)
                        return
                    if sess is None:
                        sess = await self._login(codec.text(line), writer)
                        if sess is None:
                            return
                        continue
                    if self._writer is not writer:
                        return  # dropped
                    clear = sess.decode(line)
                    self.received.append(clear)
                    if self.echo:
                        print(clear)
                    if clear.startswith("MP-0 A") and self.auto_pong:
                        await self.send("MP-0 a")
                    elif clear.startswith("MP-0 H") or clear.startswith("MP-0 h"):
                        await self._history(clear)
                    elif not clear.startswith("MP-0 a") and not clear.startswith("MP-0 A"):
                        self._log_history(clear)
                        await self.app_side.car_message(clear)
                data = await reader.read(512)
                if not data:
                    return
                pending.extend(lb.feed(data))
        except (OSError, codec.ProtocolError) as e:
            if self.echo:
                print("connection ended:", e)
        finally:
            if self._writer is writer:
                self._writer = None
                self._session = None
                await self.app_side.car_gone()
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:
                pass

    async def _login(self, line, writer):
        try:
            ctoken, vid = login.parse_car_welcome(line, self.vehicles.get)
        except codec.AuthError as e:
            self.auth_failures += 1
            if self.echo:
                print("login refused:", e)
            return None  # silent close, as the real server does
        netpass = self.vehicles[vid]
        while True:
            stoken = login.make_token(self.randbytes)
            if stoken != ctoken:
                break
        await self.drop()  # a new login replaces the older connection
        sess = codec.Session(login.session_key(netpass, stoken, ctoken))
        self._writer = writer
        self._session = sess
        self.logins += 1
        writer.write((login.server_welcome(stoken, netpass) + "\r\n").encode())
        await writer.drain()
        await self.send("MP-0 Z%d" % (self.apps + self.app_side.watching()))
        await self.app_side.car_login()
        if self.echo:
            print("car %s logged in" % vid)
        if self.drop_at_login:
            await self.drop()
            return None
        return sess


def main(argv):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=6867)
    ap.add_argument("--host", default="0.0.0.0")
    ap.add_argument("--vehicle", default="TWIZY42")
    ap.add_argument("--pass", dest="netpass", default="NETPASS42")
    ap.add_argument("--apps", type=int, default=0)
    ap.add_argument("--log-history", type=int, default=0, help="keep car messages N s")
    a = ap.parse_args(argv)

    async def serve():
        srv = FakeServer({a.vehicle: a.netpass}, apps=a.apps, echo=True)
        srv.log_history = a.log_history
        await srv.start(a.host, a.port)
        print("OVMS v2 test server on %s:%d, vehicle %s" % (a.host, a.port, a.vehicle))
        while True:
            await asyncio.sleep(3600)

    asyncio.run(serve())


if __name__ == "__main__":
    main(sys.argv[1:])
