# The OVMS v2 server connection ("MP-0"): login, encrypted line traffic,
# command replies, records, keep-alive and reconnects with back-off.
# Licence: MIT (this project).
#
# Spec: ovms-v2-protocol.md. asyncio only, no hardware: `open_stream(host, port)`
# (netstream.open_tcp or the SIM800's open_tcp) returns an object with await read(n)
# (b"" at EOF), write(bytes), await drain(), await close(). The protocol logic is in
# lib/ovms/v2 (codec, handler, sender); this module only moves lines.
#   up = Uplink(open_tcp, config, vehicle, framework, outbox=Outbox(...))
#   asyncio.create_task(up.run())          # forever
# Tasks: run() (connect, login, wait for the session end, back off), a reader per
# connection (lines in -> Handler -> replies out), a ticker (every tick_ms: live
# lines from send(), the framework's push lines, periodic records, the outbox, the
# car's ping). _send() encrypts and writes under one lock (RC4 order = wire order).
# The outbox (lib/ovms/outbox.py), filled by the Link (firmware/tasks/link.py)
# online or not, goes out through ovms.v2.sender (D41: acknowledged h records
# with their original time; D44: the report of dropped entries). No
# acknowledgement for ack_timeout_ms while entries are in flight ends the session
# (a server without h support never drains the outbox: that shows in DIAG).
#
# Errors: OSError from the stream, a line that does not decode (ProtocolError)
# or a ping without answer end the session; a refused login (server closes
# before its welcome, or a welcome that fails §2.4) counts as an auth
# failure. Then close, back off and retry forever (D42, firmware/tasks/session.py:
# the session loop, back-off, ticker and network status shared with the MQTT uplink).
# Any other exception in the reader or the ticker is a bug: run() raises it (the
# supervisor restarts the task). progress advances on every line written or
# read and every back-off step (the watchdog's "uplink alive").

# D125: the parameter numbers and the v2 handler's names are read as config.PARAM_X and
# v2.Handler, the RAM outbox is imported where it is made: 12 names in this resident
# module's globals table, not 17 (the next step down). D129: so is the Sender, and const
# is not imported: 10 names, 10 slots (96 -> 80 bytes).

import asyncio

from firmware.tasks.session import LinkSession
from ovms import config
from ovms.aio import ticks_diff
from ovms.v2 import codec
from ovms.v2 import handler as v2  # Handler, Deferred, login_code

_QUEUE_MAX = const(64)  # live lines (S, D ...) waiting for the next tick


class Timing:
    # all times in ms; tests shorten them
    def __init__(self, **kw):
        self.port = 6867
        self.login_timeout_ms = 30000  # connect -> server welcome
        self.tick_ms = 1000  # dispatch / periodic / ping check
        self.ping_ms = 600000  # car pings after 10 min without a received line
        self.pong_timeout_ms = 120000  # ... and reconnects without any answer
        self.backoff_min_ms = 2000
        self.backoff_max_ms = 300000
        self.stable_ms = 60000  # a session up this long resets the back-off (D42)
        self.window = 8  # outbox entries in flight (sent, not acknowledged)
        self.ack_timeout_ms = 120000  # in flight without any acknowledgement: reconnect
        self.read_size = 512
        # bytes of wire lines written before a drain (one CIPSEND each): a TCP segment's
        # worth. D133: what is written waits in the modem's stream until it is sent, the
        # largest transient of the uplink's sends; a 64 KB board drains every 512 bytes
        # (its board file's UPLINK_DRAIN_BYTES), paying a segment header per 512 bytes of
        # a burst (tools.data_report --drain 512: economy 0.425 -> 0.437 MB/month, rt25
        # 11.89 -> 12.52)
        self.drain_bytes = 1460
        for k in kw:
            if not hasattr(self, k):
                raise ValueError("unknown timing " + k)
            setattr(self, k, kw[k])


class Uplink(LinkSession):
    LOG = "uplink"
    LINK_ERRORS = (OSError, codec.ProtocolError)

    def __init__(self, open_stream, config, vehicle, framework=None, randbytes=None,
                 handler=None, timing=None, clock=None, outbox=None, sms_outbox=None):  # fmt: skip
        self._init_session(open_stream, config, vehicle, framework, timing or Timing(),
                           clock, randbytes)  # fmt: skip
        self.handler = handler or v2.Handler(config, vehicle, framework, randbytes=self.randbytes)
        # the server channel's outbox (RAM only unless the app gives a durable one)
        if outbox is None:
            from ovms.outbox import Outbox

            outbox = Outbox(None, self.now_s)
        self.outbox = outbox
        from ovms.v2.sender import Sender  # made once (D129: not a globals entry)

        self.sender = Sender(self.outbox, sms_outbox)
        self.handler.on_ack = self._on_ack
        self._session = None  # the RC4 pair of this connection
        self._last_rx = 0  # ticks of the last received line
        self._queue = []  # live lines from send(), written by the next tick
        self.queue_dropped = 0  # lines dropped because the queue was full
        self.gate = None  # f() -> False: no connection now (firmware/tasks/dataplan.py)
        self.lines_in = 0

    # ---- public -----------------------------------------------------------------
    def diag_text(self):
        return "V2: %s conn=%d login=%d auth=%d err=%d in=%d/%dB out=%d/%dB ack=%d; OUTBOX %s" % (
            "up" if self.logged_in else "down",
            self.connects,
            self.logins,
            self.auth_failures,
            self.errors,
            self.lines_in,
            self.bytes_in,
            self.lines_out,
            self.bytes_out,
            self.sender.acked,
            self.outbox.stats(),
        )

    # ---- the ticker's Link talks to these (firmware/tasks/ticker.py) -------------
    def send(self, lines):
        # queue live lines (status messages, not history: S, D ...) for the next
        # tick -> True; False when offline or _QUEUE_MAX is reached (counted): the
        # caller's send-on-change memory then stays put and it sends again later
        if not self.logged_in:
            return False
        if len(self._queue) + len(lines) > _QUEUE_MAX:
            self.queue_dropped += len(lines)
            return False
        self._queue.extend(lines)
        return True

    # ---- one connection ----------------------------------------------------------
    async def connect_once(self):
        # -> True if the login succeeded (whatever happened afterwards)
        p = self.cfg.params
        host = p[config.PARAM_SERVERIP].strip()
        vid = p[config.PARAM_VEHICLEID]
        netpass = p[config.PARAM_SERVERPASS]
        if not host or not vid or (self.gate is not None and not self.gate()):
            return False  # no server; or the data plan keeps the link down (dataplan.py)
        self._err = None
        self._good = False
        self._wake.clear()
        logged = False
        stream = None
        reader = None
        try:
            stream = await self.open_stream(host, self.t.port)
            self.connects += 1
            self._stream = stream
            lb = codec.LineBuffer()
            pending = []
            # D105: the handshake's code (ovms/v2/login.py) is loaded for the login only;
            # no room or no module for it: ProtocolError (counted, retried after back-off)
            self._session = await v2.login_code(
                "car_login", self, stream, lb, pending, netpass, vid
            )
            logged = True
            self.logins += 1
            self._login_at = self.clock()
            self._set_online(True)
            self._last_rx = self._login_at
            self._ping_at = None
            self.log.info("logged in to %s as %s", host, vid)
            self._outbox_login()
            await self._send(self.handler.connected(self.now_s()))
            reader = asyncio.create_task(self._reader(stream, lb, pending))
            await self._wake.wait()
            if self._err is not None:
                raise self._err
        except codec.AuthError as e:
            self.auth_failures += 1
            self.log.warning("server login failed: %s", e)
        except (OSError, codec.ProtocolError) as e:
            self._link_error(e, "server link")
        finally:
            self._session = None
            await self._close(logged, reader, stream)
        return logged

    async def _reader(self, stream, lb, pending):
        try:
            while True:
                while pending:
                    await self._line_in(pending.pop(0))
                data = await stream.read(self.t.read_size)
                if not data:
                    raise OSError("server closed the connection")
                self.bytes_in += len(data)
                pending.extend(lb.feed(data))
        except (OSError, codec.ProtocolError) as e:
            self._end(e)
        except Exception as e:  # a bug: never die quietly, run() raises it
            self._die(e)

    async def _line_in(self, line):
        clear = self._session.decode(line)
        self.lines_in += 1
        self.progress += 1
        self._last_rx = self.clock()
        self._ping_at = None
        out = self.handler.handle(clear, self.now_s())
        if isinstance(out, v2.Deferred):
            try:
                out = out.done(await out.aw)
            except Exception as e:  # the command still gets its one c (D43)
                out = out.fail(e)
        await self._send(out)
        self.handler.after_send()

    async def _send(self, lines, outbox=False):
        # encrypt and write clear lines, then (outbox) the outbox's lines one by one
        # (D103: each entry read, formatted, encrypted and written before the next is
        # read); one write per line, a drain whenever drain_bytes (a TCP segment) are written
        # and one at the end: no joined copy of the lines, and at most drain_bytes
        # of wire lines held (a fragmented board heap cannot place a few KB). The
        # outbox's P and h lines need no handler.outgoing(): never a c line, never
        # paranoid-wrapped (codec.NO_WRAP). OSError ends the session.
        if lines:
            lines = self.handler.outgoing(lines)
        async with self._lock:
            sess = self._session
            stream = self._stream
            if sess is None or stream is None:
                return
            snd = self.sender
            drain = self.t.drain_bytes
            n = k = 0  # bytes and lines written, not drained yet
            i = 0
            while True:
                if lines and i < len(lines):
                    m = lines[i]
                    i += 1
                else:
                    m = snd.next_line() if outbox else None
                data = None if m is None else sess.wire(m)
                m = None
                if n and (data is None or n + len(data) + 2 > drain):
                    await stream.drain()
                    # counted once sent, like the month's data counter (CountingStream,
                    # dataplan.py): a session ended (or the app stopped) during the
                    # drain counts on neither
                    self.bytes_out += n
                    self.lines_out += k
                    self.progress += 1
                    n = k = 0
                if data is None:
                    return
                stream.write(data)
                stream.write(codec.CRLF)
                n += len(data) + 2
                k += 1

    # ---- the outbox (ovms.v2.sender) -----------------------------------------------------
    def _outbox_login(self):
        self.sender.window = self.t.window
        self.sender.login()
        self._ack_at = self.clock()

    def _on_ack(self, data):
        if self.sender.ack(data):
            self._good = True
            self._ack_at = self.clock()
        else:
            self.log.warning("acknowledgement of nothing in flight: %s", data[:16])

    # ---- the ticker ------------------------------------------------------------------
    async def tick(self):
        self.outbox.maybe_flush()
        fw = self.fw
        if fw is not None:  # DIAG: entries both outboxes dropped (D44)
            sms = self.sender.sms_outbox
            fw.net.outbox_dropped = self.outbox.dropped + (sms.dropped if sms else 0)
        if not self.logged_in:
            self._queue = []
            return
        out = self._queue
        self._queue = []
        if fw is not None and fw.outbox:
            out.extend(fw.outbox)
            fw.outbox[:] = []
        out.extend(self.handler.periodic(self.now_s()))
        if not self.sender.inflight:
            self._ack_at = self.clock()
        await self._send(out, True)
        now = self.clock()
        inflight = len(self.sender.inflight)
        if inflight and ticks_diff(now, self._ack_at) >= self.t.ack_timeout_ms:
            raise OSError("no acknowledgement of %d records" % inflight)
        if self._ping_at is None:
            if ticks_diff(now, self._last_rx) >= self.t.ping_ms:
                self._ping_at = now
                await self._send(["MP-0 A"])
        elif ticks_diff(now, self._ping_at) >= self.t.pong_timeout_ms:
            raise OSError("no answer to ping")
