# The MQTT uplink task (firmware/tasks/mqtt.py) against a scripted broker on loopback:
# what a real broker never does (malformed packets, refusals, silence). Both runtimes.
# Licence: MIT (this project). Timeouts only bound a hang.
import asyncio

from support import run_async, wait_until
from twizy_helpers import fresh

from firmware.hal.netstream import open_tcp
from firmware.tasks.mqtt import MqttUplink, Timing
from ovms.mqtt import codec
from ovms.sms import SmsInterpreter
from ovms.twizy import v3metrics
from tools.sim800emu import listen

PRE = "ovms/TQ"
HANG_MS = 20000


def _packets(buf):
    # client bytes -> ([(type, flags, body)], the bytes of an incomplete packet)
    out = []
    at = 0
    while len(buf) - at >= 2:
        n = 0
        shift = 0
        i = at + 1
        while i < len(buf) and buf[i] & 0x80:
            n |= (buf[i] & 0x7F) << shift
            shift += 7
            i += 1
        if i >= len(buf):
            break
        n |= buf[i] << shift
        i += 1
        if len(buf) < i + n:
            break
        out.append((buf[at] >> 4, buf[at] & 15, bytes(buf[i : i + n])))
        at = i + n
    return out, buf[at:]


class Broker:
    # one scripted session per connection: script(conn_no, packets_so_far) is called
    # after every client packet and returns bytes to send (b"" nothing, None: hang up)
    def __init__(self, script):
        self.script = script
        self.conns = 0
        self.got = []  # (conn, type, flags, body)

    async def start(self):
        self.srv, self.port = await listen(self._serve, 0)
        return self

    async def _serve(self, r, w):
        self.conns += 1
        conn = self.conns
        buf = b""
        try:
            while True:
                d = await r.read(512)
                if not d:
                    break
                pkts, buf = _packets(buf + d)
                for t, f, body in pkts:
                    self.got.append((conn, t, f, body))
                    out = self.script(conn, t, body)
                    if out is None:
                        raise OSError("hang up")
                    if out:
                        w.write(out)
                        await w.drain()
        except (Exception, asyncio.CancelledError):
            pass
        try:
            w.close()
            await w.wait_closed()
        except Exception:
            pass

    def of(self, t, conn=None):
        return [g for g in self.got if g[1] == t and (conn is None or g[0] == conn)]

    async def close(self):
        self.srv.close()
        await self.srv.wait_closed()


def _module(port, **params):
    p = {0: "+4917000000002", 8: "TQ", 18: "127.0.0.1:%d" % port, 21: "mqtt"}
    for k in params:
        p[int(k[1:])] = params[k]
    v = fresh(params=p)
    v.st.frames = 1
    fw = SmsInterpreter(v.cfg, v)
    prof = {"rt25": (60, 0.2, 0.5), "economy": (720, 1, 1)}
    t = Timing(tick_ms=20, connect_timeout_ms=1500, backoff_min_ms=40, backoff_max_ms=80,
               pong_timeout_ms=300, profiles=prof)  # fmt: skip
    up = MqttUplink(open_tcp, v.cfg, v, fw, metrics=v3metrics.values, table=v3metrics.TABLE,
                    booleans=v3metrics.BOOLEANS, timing=t)  # fmt: skip
    return up, v, fw


async def _run(broker, up, body):
    await broker.start()
    up.cfg.params[18] = "127.0.0.1:%d" % broker.port
    task = asyncio.create_task(up.run())
    try:
        await body()
    finally:
        up.stop()
        await wait_until(lambda: task.done(), 2000)
        task.cancel()
        await broker.close()


def _ok(conn, t, body):
    return b"\x20\x02\x00\x00" if t == codec.CONNECT else b""


def test_malformed_broker_packets_are_dropped_and_counted_session_stays():
    garbage = (
        b"\x21\x02\x00\x00"  # CONNACK with flags
        + b"\x30\x03\x00\x01+"  # wildcard topic
        + b"\x36\x05\x00\x01a\x00\x01"  # QoS 3
        + b"\x20\x02\x00\x00"  # a second CONNACK
        + b"\x90\x03\x00\x01\x05"  # SUBACK code 5
        + codec.publish("x" * 10, b"y" * 6000)  # larger than the decoder takes
        + codec.publish(PRE + "/client/a/command/1", "STAT", qos=1, pid=9)
    )

    def script(conn, t, body):
        if t == codec.CONNECT:
            return b"\x20\x02\x00\x00"
        if t == codec.SUBSCRIBE:
            return b"\x90\x03\x00\x01\x01" + garbage
        return b""

    b = Broker(script)
    up, v, fw = _module(0)

    async def body():
        resp = bytes(codec.publish(PRE + "/client/a/response/1", b"")[2:])  # topic, length
        ok = await wait_until(lambda: [g for g in b.of(codec.PUBLISH) if g[3].startswith(resp)],
                              HANG_MS)  # fmt: skip
        assert ok

    run_async(_run(b, up, body))
    assert up.parser.bad == 5 and up.parser.too_big == 1
    assert up.connects == 1 and up.errors == 0 and up.logins == 1
    assert b.of(codec.PUBACK) and b.of(codec.PUBACK)[0][3] == b"\x00\x09"  # QoS 1 command
    assert up.commands == 1


def test_malformed_length_ends_the_session_and_it_reconnects():
    def script(conn, t, body):
        if t == codec.CONNECT:
            return b"\x20\x02\x00\x00" + (b"\x30\xff\xff\xff\xff\x01" if conn == 1 else b"")
        return b""

    b = Broker(script)
    up, v, fw = _module(0)

    async def body():
        assert await wait_until(lambda: b.conns == 2 and up.logged_in, HANG_MS)

    run_async(_run(b, up, body))
    # the first session broke right after its CONNACK, before the module used it
    assert up.errors == 1 and up.parser.bad == 1 and up.logins == 1
    assert [g[1] for g in b.got if g[0] == 1] == [codec.CONNECT]


def test_refused_login_counts_and_backs_off():
    b = Broker(lambda conn, t, body: b"\x20\x02\x00\x05" if t == codec.CONNECT else b"")
    up, v, fw = _module(0, p20="anna", p9="secret")

    async def body():
        assert await wait_until(lambda: up.auth_failures >= 2, HANG_MS)

    run_async(_run(b, up, body))
    assert up.logins == 0 and not up.logged_in and up.last_backoff_ms >= 20
    c = b.of(codec.CONNECT)[0][3]
    assert c[7] & 0xC0 == 0xC0 and b"anna" in c and b"secret" in c  # user 20, password 9


def test_silent_broker_no_connack_and_no_pingresp():
    # first connection: no CONNACK at all; then CONNACK but never a PINGRESP
    def script(conn, t, body):
        if t == codec.CONNECT and conn > 1:
            return b"\x20\x02\x00\x00"
        return b""

    b = Broker(script)
    up, v, fw = _module(0)
    up.t.profiles = {"rt25": (1, 0.2, 0.5)}  # keep-alive 1 s: PINGREQ after 0.75 s

    async def body():
        assert await wait_until(lambda: up.errors >= 2 and b.conns >= 3, HANG_MS)

    run_async(_run(b, up, body))
    assert b.of(codec.PINGREQ_T, 2)  # it pinged, got nothing, reconnected
    assert up.logins >= 1


def test_keepalive_follows_the_data_profile():
    b = Broker(_ok)
    up, v, fw = _module(0, p16="economy")

    async def body():
        assert await wait_until(lambda: up.logged_in, HANG_MS)

    run_async(_run(b, up, body))
    c = b.of(codec.CONNECT)[0][3]
    assert (c[8] << 8 | c[9]) == 720
    will = b"\x00\x1d" + PRE.encode() + b"/metric/s/v3/connected\x00\x02no"
    assert will in c and c[7] & 0x2C == 0x2C  # will flag, QoS 1, retained


def test_uplink_selection_and_diag_line():
    # parameter 21 and the board's IP path (D75): "both" needs two connections at once
    from firmware.tasks import mqtt_wiring
    from ovms.sms import NetStatus

    class App:
        pass

    def app(net, mode):
        a = App()
        a.board = type("B", (), {"NET": net})
        a.vehicle = fresh(params={8: "TQ", 21: mode})
        a.cfg = a.vehicle.cfg
        a.fw = SmsInterpreter(a.cfg, a.vehicle, net=NetStatus())
        return a

    sel = mqtt_wiring.selection
    assert sel(app("modem", "")) == (True, False)
    assert sel(app("modem", "mqtt")) == (False, True)
    assert sel(app("native", "both")) == (True, True)
    a = app("modem", "both")
    assert sel(a) == (True, False)  # v2 only on the SIM800's one connection
    diag = a.fw.handle("", "DIAG", 0, trusted=True)[0]
    assert diag.endswith("\n " + mqtt_wiring.ONE_LINK)
    # a running MQTT uplink's line
    b = app("modem", "mqtt")
    run_v2, m = mqtt_wiring.build(b, open_tcp, lambda board, name: None, lambda: v3metrics)
    assert not run_v2 and m is not None
    assert b.fw.handle("", "DIAG", 0, trusted=True)[0].endswith("\n MQTT:down s0 e0 a0 q0")
