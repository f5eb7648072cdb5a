# MQTT 3.1.1 codec, OVMS v3 topics, the MQTT outbox sender, the Twizy's v3 metrics and
# Home Assistant discovery: pure parts, both runtimes (and the emulated Cortex-M).
# Licence: MIT (this project).
import json

from twizy_helpers import fresh

from ovms.config import Config
from ovms.mqtt import codec, topics
from ovms.mqtt.discovery import configs
from ovms.mqtt.sender import Sender, pid_of
from ovms.outbox import Outbox
from ovms.twizy import v3metrics


def _feed_all(p, data, step=1):
    out = []
    for i in range(0, len(data), step):
        out.extend(p.feed(data[i : i + step]))
    return out


def test_connect_bytes_exact():
    # MQTT 3.1.1 §3.1: protocol name, level 4, flags, keep-alive, then the payload
    data = codec.connect("c1", 60, "u", "pw", ("w/t", b"no", 1, True))
    body = (
        b"\x00\x04MQTT\x04"
        + bytes((0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02, 0, 60))
        + b"\x00\x02c1\x00\x03w/t\x00\x02no\x00\x01u\x00\x02pw"
    )
    assert data == b"\x10" + bytes((len(body),)) + body
    # no user: neither user nor password flag, the password is not sent
    d2 = codec.connect("c1", 0, None, "pw")
    assert d2[9] == 0x02 and b"pw" not in d2


def test_publish_roundtrip_and_lengths():
    # sizes up to the decoder's limit (MAX_PACKET, 4 KB: what the board buffers)
    p = codec.Parser()
    for n in (0, 1, 100, 120, 121, 122, 4000):
        payload = (bytes(range(256)) * 16)[:n]  # no list of ints: the board's heap is small
        data = codec.publish("a/b", payload, qos=1, retain=True, pid=7)
        got = _feed_all(p, data, 1 if n < 200 else 997)
        assert got == [(codec.PUBLISH, "a/b", payload, 1, 7, 1)], n
    assert p.bad == 0 and p.too_big == 0
    # remaining length: 1 byte to 127, 2 bytes from 128, 3 bytes from 16384
    assert codec.publish("t", b"x" * 124)[:2] == b"\x30\x7f"
    assert codec.publish("t", b"x" * 125)[:3] == b"\x30\x80\x01"
    assert codec.publish("t", b"x" * 200)[1:3] == bytes((0xCB, 0x01))  # 203 bytes
    assert codec._rl(16383) == b"\xff\x7f" and codec._rl(16384) == b"\x80\x80\x01"
    # a 3-byte length is decoded too: a 16 KB packet is skipped as it streams in (never
    # held whole: the board could not place 16 KB)
    assert p.feed(b"\x30\x80\x80\x01") == []
    chunk = bytes(1024)
    for _ in range(16):
        assert p.feed(chunk) == []
    assert p.feed(codec.puback(2)) == [(codec.PUBACK, 2)]
    assert p.too_big == 1 and len(p._buf) == 0


def test_broker_packets_decoded():
    p = codec.Parser()
    data = (
        b"\x20\x02\x01\x00"  # CONNACK, session present
        + codec.puback(513)
        + b"\x90\x04\x00\x01\x01\x80"  # SUBACK pid 1: granted 1, refused
        + b"\xd0\x00"  # PINGRESP
        + b"\xb0\x02\x00\x09"  # UNSUBACK
    )
    got = p.feed(data)
    assert got[0] == (codec.CONNACK, 1, 0)
    assert got[1] == (codec.PUBACK, 513)
    assert got[2] == (codec.SUBACK, 1, b"\x01\x80")
    assert got[3] == (codec.PINGRESP,)
    assert got[4] == (codec.UNSUBACK, 9)
    assert p.packets == 5 and p.bad == 0


def test_malformed_packets_dropped_and_counted():
    p = codec.Parser(max_packet=64)
    good = codec.publish("ok", b"1")
    bad = [
        b"\x21\x02\x00\x00",  # CONNACK with flags
        b"\x20\x03\x00\x00\x00",  # CONNACK too long
        b"\x20\x02\x02\x00",  # CONNACK reserved ack bits
        b"\x40\x01\x00",  # PUBACK too short
        b"\x36\x05\x00\x01a\x00\x01",  # PUBLISH QoS 3
        b"\x30\x04\x00\x09ab",  # topic runs past the end
        b"\x30\x03\x00\x01+",  # wildcard in a PUBLISH topic
        b"\x30\x04\x00\x02\xff\xfe",  # topic not UTF-8
        b"\x32\x05\x00\x01a\x00\x00",  # QoS 1 with packet id 0
        b"\x30\x02\x00\x00",  # empty topic
        b"\x10\x00",  # CONNECT: never from a broker
        b"\xc0\x00",  # PINGREQ: never from a broker
        b"\x90\x03\x00\x01\x05",  # SUBACK return code 5
        b"\xd0\x01\x00",  # PINGRESP with a body
    ]
    got = []
    for b in bad:
        got.extend(p.feed(b + good))
    assert got == [(codec.PUBLISH, "ok", b"1", 0, 0, 0)] * len(bad)
    assert p.bad == len(bad)
    # an oversized packet is skipped as it arrives (never buffered), the next one decoded
    big = codec.publish("big", b"z" * 500)
    got = _feed_all(p, big + good, 7)
    assert got == [(codec.PUBLISH, "ok", b"1", 0, 0, 0)]
    assert p.too_big == 1 and len(p._buf) == 0


def _raises(p, data):
    try:
        p.feed(data)
        return False
    except codec.ProtocolError:
        return True


def test_malformed_length_ends_the_stream():
    p = codec.Parser()
    assert _raises(p, b"\x30\xff\xff\xff\xff\x01") and p.bad == 1
    p.reset()
    assert p.feed(codec.puback(3)) == [(codec.PUBACK, 3)]
    # the packets before it in the same chunk still count; the error comes next time
    assert p.feed(codec.puback(4) + b"\x30\x80\x80\x80\x80\x01") == [(codec.PUBACK, 4)]
    assert _raises(p, codec.puback(5)) and p.bad == 2
    p.reset()
    assert p.feed(codec.puback(6)) == [(codec.PUBACK, 6)]


def test_random_bytes_never_raise_anything_else():
    # a linear congruential generator: the same bytes on every runtime
    x = 12345
    p = codec.Parser(max_packet=300)
    decoded = 0
    errors = 0
    for _round in range(300):
        chunk = bytearray()
        for _ in range(1 + x % 40):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            chunk.append((x >> 16) & 0xFF)
        try:
            decoded += len(p.feed(bytes(chunk)))
        except codec.ProtocolError:
            errors += 1
            p.reset()
    assert p.bad + p.too_big + decoded > 0
    assert len(p._buf) <= 300 + 5
    assert errors <= p.bad  # every ProtocolError was also counted as bad


def _cfg(**kw):
    params = {8: "TWIZY1"}
    for k in kw:
        params[int(k[1:])] = kw[k]
    return Config(params)


def test_prefix_client_id_and_settings():
    assert topics.prefix(_cfg().params) == "ovms/TWIZY1"
    assert topics.prefix(_cfg(p20="anna").params) == "ovms/anna/TWIZY1"
    assert topics.prefix(_cfg(p19="my/car//").params) == "my/car"
    assert topics.client_id(_cfg().params) == "ovms-TWIZY1"
    assert topics.host_port("broker.lan:1884") == ("broker.lan", 1884)
    assert topics.host_port("10.0.0.2") == ("10.0.0.2", 1883)
    for bad in ("", "  ", "h:", "h:0", "h:70000", ":1883", "h:12a", "h:\u00b2", "h:\uff11"):
        assert topics.host_port(bad) is None, bad
    assert topics.mode(_cfg().params) == "v2"
    assert topics.mode(_cfg(p21="MQTT").params) == "mqtt"
    assert topics.mode(_cfg(p21="both").params) == "both"
    assert topics.mode(_cfg(p21="nonsense").params) == "v2"
    assert topics.discovery_on(_cfg(p22="on").params)
    assert not topics.discovery_on(_cfg().params)


def test_notifications_and_commands():
    n = topics.notification
    assert n("p", "MP-0 PAALERT!!! CRITICAL SOC LEVEL APPROACHED (5% SOC)") == (
        "p/notify/alert/batt.soc.critical",
        "ALERT!!! CRITICAL SOC LEVEL APPROACHED (5% SOC)",
    )
    assert n("p", "MP-0 PAVolts: !C3:+40mV Temps: OK ")[0] == "p/notify/alert/batt.alert"
    assert n("p", "MP-0 PACharging Done\r CHG: 3 Wh") == (
        "p/notify/info/charge.status",
        "Charging Done\n CHG: 3 Wh",
    )
    assert n("p", "MP-0 PAPower -5 +1 Wh\r Const")[0] == "p/notify/info/drive.report"
    assert n("p", "MP-0 PASMS FROM: +49 - MSG: hi")[0] == "p/notify/info/sms.received"
    assert n("p", "MP-0 PAsomething")[0] == "p/notify/info/text"
    assert n("p", "MP-0 HRT-GPS-Log,123,86400,1,2") == (
        "p/notify/data/rt.gps.log",
        "RT-GPS-Log,123,86400,1,2",
    )
    assert n("p", "MP-0 H*-OVM-OutboxLost,0,2592000,3,3")[0] == "p/notify/data/ovm.outboxlost"
    for junk in ("MP-0 S1,2", "MP-0 H", "MP-0 H,1", "MP-0 Ha/b,1", "hello"):
        assert n("p", junk) is None, junk
    c = topics.command
    assert c("ovms/u/V", "ovms/u/V/client/app1/command/42") == "ovms/u/V/client/app1/response/42"
    for t in ("ovms/u/V/client/app1/command", "ovms/u/V/client//command/1",
              "ovms/u/W/client/a/command/1", "ovms/u/V/client/a/response/1",
              "ovms/u/V/client/a/command/1/x"):  # fmt: skip
        assert c("ovms/u/V", t) is None, t


def test_sender_window_acks_dup_and_lost_report():
    clock = [1000]
    ob = Outbox(None, lambda: clock[0])
    s = Sender(ob, window=2)
    ob.put("P", "MP-0 PAALERT!!! CRITICAL SOC LEVEL APPROACHED (5% SOC)")
    ob.put("R", "MP-0 S1,2,3")  # no MQTT form: acknowledged, counted
    ob.put("R", "MP-0 HRT-GPS-Log,1,86400,x")
    ob.put("R", "MP-0 HRT-GPS-Log,2,86400,y")
    s.login()
    first = s.next("p")
    assert [(e[0], e[1], e[3]) for e in first] == [
        (1, "p/notify/alert/batt.soc.critical", False),
        (3, "p/notify/data/rt.gps.log", False),
    ]
    assert s.not_mqtt == 1 and s.next("p") == []  # window full
    assert s.ack(3) and not s.ack(3) and s.bad_acks == 1
    assert [e[0] for e in s.next("p")] == [4]
    # the link drops: the unacknowledged go again, with DUP
    s.login()
    again = s.next("p")
    assert [(e[0], e[3]) for e in again] == [(1, True), (4, True)]
    assert s.ack(1) and s.ack(4)
    assert ob.queued() == 0 and s.acked == 3
    # packet ids wrap within 1..65535
    assert pid_of(1) == 1 and pid_of(65535) == 65535 and pid_of(65536) == 1
    # drops by the overflow rule are reported once after the next login (D44)
    ob.dropped = ob.unreported = 2
    s.login()
    out = s.next("p")
    assert out[0][1] == "p/notify/data/ovm.outboxlost"
    assert out[0][2] == "*-OVM-OutboxLost,0,2592000,2,2"


def test_v3_metrics_names_units_and_format():
    v = fresh(params={8: "T1"})
    st = v.st
    # nothing from the car yet: no placeholders (D79)
    assert [n for n, _t in v3metrics.values(v)] == ["v.c.limit.soc", "v.p.gpslock", "v.type"]
    st.frames = 1
    names = [n for n, _t in v3metrics.values(v)]
    assert "v.b.soc" in names and "v.b.voltage" not in names and "v.p.latitude" not in names
    st.sensor_sets = 1
    st.stale_gps = 120
    st.v12_dv = 128
    st.soc = 8550
    st.range_km = 61
    st.pack_act = 576  # 57.6 V
    st.power = -125  # -2000 W: charging
    st.cell_act[0] = 823  # 4.115 V
    st.temp_act[6] = 40 - 5
    st.lat_e6 = -1234567
    st.odo = 1234567
    st.net_sq = 20
    st.car_doors1 = 0x80
    vals = v3metrics.values(v)
    assert [n for n, _t in vals] == [e[0] for e in v3metrics.TABLE]
    d = dict(vals)
    assert d["v.b.soc"] == "85.50"
    assert d["v.b.range.est"] == "61"
    assert d["v.b.voltage"] == "57.6"
    assert d["v.b.current"] == "-34.7"  # -2000 W / 57.6 V, toward zero
    assert d["v.b.power"] == "-2.000"
    assert d["v.b.c.voltage"].split(",")[0] == "4.115" and len(d["v.b.c.voltage"].split(",")) == 14
    assert d["v.b.c.temp"].split(",")[6] == "-5"
    assert d["v.p.latitude"] == "-1.234567"
    assert d["v.p.odometer"] == "12345.67"
    assert d["m.net.sq"] == "-73" and d["v.b.12v.voltage"] == "12.8"
    assert d["v.e.on"] == "yes" and d["v.c.charging"] == "no"
    assert d["v.c.state"] == "done" and d["v.type"] == "RT"
    assert v3metrics.fixed(-5, 2) == "-0.05" and v3metrics.fixed(7, 0) == "7"


def test_home_assistant_discovery_configs():
    out = configs("ovms/u/T1", "ovms-T1", v3metrics.TABLE, v3metrics.BOOLEANS, "Twizy T1", "3.0")
    assert len(out) == len(v3metrics.TABLE)
    by = {}
    for topic, payload in out:
        cfg = json.loads(payload)
        assert topic.startswith("homeassistant/") and topic.endswith("/config")
        assert cfg["availability_topic"] == "ovms/u/T1/metric/s/v3/connected"
        by[cfg["state_topic"]] = (topic, cfg)
    topic, soc = by["ovms/u/T1/metric/v/b/soc"]
    assert topic == "homeassistant/sensor/ovms-T1/v_b_soc/config"
    assert soc["unit_of_measurement"] == "%" and soc["device_class"] == "battery"
    topic, on = by["ovms/u/T1/metric/v/e/on"]
    assert topic.startswith("homeassistant/binary_sensor/")
    assert on["payload_on"] == "yes" and on["payload_off"] == "no"
    _t, cells = by["ovms/u/T1/metric/v/b/c/voltage"]
    assert "unit_of_measurement" not in cells and "state_class" not in cells


def test_mqtt_settings_are_checked():
    from ovms.config import check_param

    good = ((18, "broker.lan"), (18, "10.0.0.2:8883"), (18, ""), (19, "home/twizy"),
            (20, "anna"), (21, "MQTT"), (21, "both"), (21, ""), (22, "on"), (22, ""))  # fmt: skip
    for n, text in good:
        assert check_param(n, text) is None, (n, text)
    for n, text in ((18, "h:0"), (18, "h:99999"), (18, ":1883"), (18, 'h"x'), (18, "h/x"),
                    (18, "h:1a"), (19, "a/+/b"), (19, "a/#"), (19, "/abs"), (19, "a b"),
                    (20, "a/b"), (20, "x+"), (21, "v3"), (22, "yes please")):  # fmt: skip
        assert check_param(n, text) is not None, (n, text)
    # the broker host goes into AT+CIPSTART: quotes and control characters never stored
    cfg = Config({18: 'h"\x01ost:1883'})
    assert cfg.params[18] == "host:1883"


def test_metric_cache_cadences_on_a_virtual_clock():
    from ovms.mqtt.metrics import MetricCache
    from ovms.mqtt.timing import PROFILES

    vals = {"v.b.soc": "80", "v.b.c.voltage": None}

    def values(_v):
        return [(k, vals[k]) for k in ("v.b.soc", "v.b.c.voltage") if vals[k] is not None]

    keep, fast, slow = PROFILES["economy"]
    assert (keep, fast, slow) == (720, 60, 600) and PROFILES["rt25"] == (120, 10, 60)
    mc = MetricCache(values, ("v.b.c.voltage",))
    mc.reset(0)
    assert mc.due(None, 0, fast, slow) == [("v.b.soc", "80")]  # everything once
    vals["v.b.soc"] = "79"
    vals["v.b.c.voltage"] = "4.1"
    assert mc.due(None, 59999, fast, slow) == []  # not due yet
    # the first cell list goes at the fast cadence, with the changed SOC
    assert mc.due(None, 60000, fast, slow) == [("v.b.soc", "79"), ("v.b.c.voltage", "4.1")]
    vals["v.b.c.voltage"] = "4.2"
    assert mc.due(None, 120000, fast, slow) == []  # a known list waits for the slow one
    assert mc.due(None, 600000, fast, slow) == [("v.b.c.voltage", "4.2")]
    assert mc.due(None, 1200000, fast, slow) == []  # unchanged: nothing
    mc.reset(1200001)  # a new connection: everything again
    assert mc.due(None, 1200001, fast, slow) == [("v.b.soc", "79"), ("v.b.c.voltage", "4.2")]
