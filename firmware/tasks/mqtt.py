# The MQTT uplink (OVMS v3 topic layout) to the owner's broker: MQTT 3.1.1 over the same
# byte stream the v2 uplink uses, fed by its own durable outbox.
# Licence: MIT (this project).
#
#   m = MqttUplink(open_stream, config, vehicle, framework, metrics=values, outbox=ob)
#   asyncio.create_task(m.run())   # forever, like the v2 uplink (wiring: mqtt_wiring.py)
# open_stream(host, port): netstream.open_tcp or the SIM800's open_tcp (hal/stream.py).
# Packets: ovms/mqtt/codec.py; topics: topics.py; the outbox on the wire: sender.py.
# D77: not micropython-lib's umqtt.simple: it opens its own socket (socket.socket() +
# connect, so it cannot ride the SIM800's AT-command GPRS stream) and blocks on reads
# (wait_msg(), and publish() at QoS 1 loops until the PUBACK), which would stop the
# ticker, the CAN reader and the modem for as long as the network takes (lib/VENDORED.md).
#
# Session: CONNECT (clean session, will "<prefix>/metric/s/v3/connected" = "no" retained
# QoS 1; user parameter 20, password 9 as on OVMS v3), CONNACK within connect_timeout_ms,
# "yes" retained there, SUBSCRIBE <prefix>/client/+/command/+ (QoS 1), Home Assistant
# discovery (parameter 22), every metric once (retained); then every tick: changed metrics
# (fast cadence; cell lists slow), outbox entries as QoS 1 PUBLISH (a window in flight,
# removed on PUBACK), commands answered, PINGREQ after 3/4 of the keep-alive without
# sending. Ends on: a stream error, a malformed length (codec ProtocolError), no
# PINGRESP within pong_timeout_ms, entries in flight without a PUBACK for ack_timeout_ms,
# the broker settings changed. Then back-off exactly as the v2 uplink (D42: the session
# loop in firmware/tasks/session.py).
# D79 (cadence per data profile): lib/ovms/mqtt/timing.py.
# D78 (commands): "<prefix>/client/<id>/command/<n>" runs its payload through the SMS
# interpreter as the registered phone with the authority of the v2 server's command 7
# (the broker's login and ACLs guard the topic, as on OVMS v3); replies joined by LF go to
# ".../response/<n>" (QoS 0, not retained: a live answer, like the v2 c7 line). A
# retained command (left on the broker) would run at every connect: never run, counted.
# At most _CMD_QUEUE commands wait; more are dropped and counted.

import asyncio

from firmware.tasks.session import LinkSession
from ovms.aio import Flag, ticks_diff
from ovms.compat import const
from ovms.config import PARAM_REGPHONE
from ovms.mqtt import codec, topics
from ovms.mqtt.metrics import MetricCache
from ovms.mqtt.sender import Sender
from ovms.mqtt.timing import PARAM_PROFILE, Timing  # noqa: F401 (Timing: public)
from ovms.outbox import Outbox

_CMD_QUEUE = const(4)


class MqttUplink(LinkSession):
    LOG = "mqtt"
    LINK_ERRORS = (OSError, codec.ProtocolError)
    RESET_APPS = False

    def __init__(self, open_stream, config, vehicle, framework=None, metrics=None,
                 table=(), booleans=(), outbox=None, sms_outbox=None, timing=None,
                 clock=None, randbytes=None, version="", status=True):  # fmt: skip
        self.status = status  # the only uplink: it keeps the "server connected" flags
        self._init_session(open_stream, config, vehicle, framework, timing or Timing(),
                           clock, randbytes)  # fmt: skip
        self.table = table  # (name, unit, device class, slow, label): slow + discovery
        self.booleans = booleans
        self.metrics = None  # values: f(vehicle) -> [(name, text)] (ovms/twizy/v3metrics)
        if metrics is not None:
            self.metrics = MetricCache(metrics, [e[0] for e in table if e[3]])
        self.version = version
        self.outbox = outbox if outbox is not None else Outbox(None, self.now_s)
        self.sender = Sender(self.outbox, sms_outbox, self.t.window)
        self.parser = codec.Parser()
        self._conn = None  # the topics.SESSION_PARAMS values of this session
        self._prof = (None, None)  # (parameter 16 text, its cadence)
        self._pre = ""
        self._tx_at = 0  # ticks of the last packet written
        self._cmds = []  # [(response topic, text)]
        self._connack = None
        self._connack_ev = Flag()  # D127: its timed wait makes no task
        self.commands = self.commands_dropped = self.retained_cmds = self.metrics_out = 0

    # ---- public -------------------------------------------------------------------
    def diag_text(self):
        p = self.parser
        return "MQTT: %s conn=%d login=%d auth=%d err=%d out=%d/%dB in=%dB bad=%d big=%d " \
            "ack=%d cmd=%d" % (
            "up" if self.logged_in else "down", self.connects, self.logins,
            self.auth_failures, self.errors, self.lines_out, self.bytes_out, self.bytes_in,
            p.bad, p.too_big, self.sender.acked, self.commands,
        )  # fmt: skip

    def send(self, lines):  # live v2 lines (S, D ...): MQTT publishes metrics instead
        return True

    def cadence(self):
        # (keep-alive s, metrics s, cell lists s); recomputed only when parameter 16 changed
        raw = self.cfg.params[PARAM_PROFILE]
        if raw is not self._prof[0]:
            p = self.t.profiles
            self._prof = (raw, p.get(raw.strip().lower()) or p["rt25"])
        return self._prof[1]

    # ---- one connection -------------------------------------------------------------
    def _settings(self):
        # the parameters a session depends on (host, prefix, user, vehicle id, password)
        p = self.cfg.params
        return [p[n] for n in topics.SESSION_PARAMS]

    async def connect_once(self):
        conn = self._settings()
        p = self.cfg.params
        hp = topics.host_port(conn[0], self.t.port)
        if hp is None:
            return False
        self._err = None
        self._good = False
        self._wake.clear()
        self._connack = None
        self._connack_ev.clear()
        logged = False
        stream = None
        reader = None
        pre = topics.prefix(p)
        try:
            stream = await self.open_stream(hp[0], hp[1])
            self.connects += 1
            self._stream = stream
            self.parser.reset()
            keepalive = self.cadence()[0]
            will = (pre + "/" + topics.CONNECTED, b"no", 1, True)
            cid = topics.client_id(self.cfg.params)
            await self._write(codec.connect(cid, keepalive, conn[2], conn[4], will))
            reader = asyncio.create_task(self._reader(stream))
            if not await self._connack_ev.wait_ms(self.t.connect_timeout_ms):
                raise OSError("no CONNACK")
            if self._err is not None:
                raise self._err
            rc = self._connack
            if rc != 0:
                self.auth_failures += 1
                self.log.warning("broker refused: %s", codec.CONNACK_TEXT.get(rc, rc))
                return False
            logged = True
            self.logins += 1
            self._login_at = self._ack_at = self.clock()
            self._conn = conn
            self._pre = pre
            self._ping_at = None
            if self.metrics is not None:
                self.metrics.reset(ticks_diff(self._login_at, self._t0))
            self._set_online(True)
            self.log.info("MQTT connected to %s:%d as %s, prefix %s", hp[0], hp[1], cid, pre)
            await self._publish(pre + "/" + topics.CONNECTED, b"yes", 0, True)
            await self._write(codec.subscribe(1, [(pre + "/" + topics.COMMAND_FILTER, 1)]))
            if topics.discovery_on(self.cfg.params):
                await self._discovery(pre, cid)
            self.sender.window = self.t.window
            self.sender.login(report_sms=self.status)
            await self._publish_metrics()
            await self._wake.wait()
            if self._err is not None:
                raise self._err
        except (OSError, codec.ProtocolError) as e:
            self._link_error(e, "MQTT link")
        finally:
            if stream is not None and logged and self._stop:
                try:  # a planned stop: "no" ourselves, no will
                    stream.write(codec.publish(pre + "/" + topics.CONNECTED, b"no", 0, True))
                    stream.write(codec.DISCONNECT)
                    await stream.drain()
                except OSError:
                    pass
            await self._close(logged, reader, stream)
        return logged

    async def _discovery(self, pre, cid):
        from ovms.mqtt.discovery import configs

        name = "Twizy " + (self.cfg.params[8] or "")
        for topic, payload in configs(pre, cid, self.table, self.booleans, name, self.version):
            await self._publish(topic, payload, 0, True)

    def _end(self, err):
        LinkSession._end(self, err)
        self._connack_ev.set()

    async def _reader(self, stream):
        try:
            while True:
                data = await stream.read(self.t.read_size)
                if not data:
                    raise OSError("broker closed the connection")
                self.bytes_in += len(data)
                self.progress += 1
                for pkt in self.parser.feed(data):
                    await self._packet(pkt)
                if self.parser.broken:  # the packets before a malformed length went first
                    raise codec.ProtocolError("malformed remaining length")
        except (OSError, codec.ProtocolError) as e:
            self._end(e)
        except Exception as e:  # a bug: run() raises it
            self._die(e)

    async def _packet(self, pkt):
        t = pkt[0]
        if t == codec.CONNACK:
            if self._connack is None:
                self._connack = pkt[2]
                self._connack_ev.set()
            else:
                self.parser.bad += 1  # a second CONNACK: dropped, counted
        elif t == codec.PUBACK:
            if self.sender.ack(pkt[1]):
                self._good = True
                self._ack_at = self.clock()
        elif t == codec.PINGRESP:
            self._ping_at = None
        elif t == codec.PUBLISH:
            await self._incoming(pkt)
        elif t == codec.SUBACK and 0x80 in pkt[2]:
            self.log.warning("broker refused the command subscription")

    async def _incoming(self, pkt):
        _t, topic, payload, qos, pid, retain = pkt
        if qos:
            await self._write(codec.puback(pid))
        resp = topics.command(self._pre, topic)
        if resp is None:
            self.parser.bad += 1
            return
        if retain:
            self.retained_cmds += 1
            return
        if len(self._cmds) >= _CMD_QUEUE:
            self.commands_dropped += 1
            return
        try:
            text = payload.decode()
        except UnicodeError:
            self.parser.bad += 1
            return
        self._cmds.append((resp, text))

    # ---- writing --------------------------------------------------------------------
    async def _write(self, data):
        async with self._lock:
            s = self._stream
            if s is None:
                raise OSError("not connected")
            s.write(data)
            await s.drain()
        self.bytes_out += len(data)
        self.lines_out += 1
        self.progress += 1
        self._tx_at = self.clock()

    async def _publish(self, topic, payload, qos=0, retain=False, pid=0, dup=False):
        await self._write(codec.publish(topic, payload, qos, retain, pid, dup))

    async def _publish_metrics(self):
        if self.metrics is None:
            return
        ka, fast_s, slow_s = self.cadence()
        now = ticks_diff(self.clock(), self._t0)
        for name, text in self.metrics.due(self.vehicle, now, fast_s, slow_s):
            await self._publish(topics.metric(self._pre, name), text, 0, True)
            self.metrics_out += 1

    # ---- the ticker -----------------------------------------------------------------
    async def tick(self):
        self.outbox.maybe_flush()
        if not self.logged_in:
            return
        p = self.cfg.params
        c = self._conn
        for i in range(len(topics.SESSION_PARAMS)):  # compared in place: no allocation
            if p[topics.SESSION_PARAMS[i]] != c[i]:
                raise OSError("broker settings changed")
        while self._cmds:
            resp, text = self._cmds.pop(0)
            await self._command(resp, text)
        await self._publish_metrics()
        if not self.sender.inflight:
            self._ack_at = self.clock()
        for pid, topic, payload, dup in self.sender.next(self._pre):
            await self._publish(topic, payload, 1, False, pid, dup)
        now = self.clock()
        if self.sender.inflight and ticks_diff(now, self._ack_at) >= self.t.ack_timeout_ms:
            raise OSError("no PUBACK for %d entries" % len(self.sender.inflight))
        if self._ping_at is None:
            if ticks_diff(now, self._tx_at) >= self.cadence()[0] * 750:
                self._ping_at = now
                await self._write(codec.PINGREQ)
        elif ticks_diff(now, self._ping_at) >= self.t.pong_timeout_ms:
            raise OSError("no PINGRESP")

    async def _command(self, resp, text):
        self.commands += 1
        owner = self.cfg.params[PARAM_REGPHONE]
        body = topics.run_command(self.fw, self.vehicle, owner, text, self.now_s())
        await self._publish(resp, body, 0, False)
