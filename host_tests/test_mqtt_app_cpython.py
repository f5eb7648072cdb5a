# The whole firmware (tools/sim's host board) with the MQTT uplink to a REAL mosquitto:
# parameter 21 "mqtt" over the emulated SIM800's GPRS, "both" on native IP. CPython only.
# Licence: MIT (this project). Broker and subscriber: host_tests/mqtt_broker.py.
import asyncio
import os

import pytest

pytest.importorskip("paho.mqtt.client")
from mqtt_broker import MOSQUITTO, Broker, Watcher, wait  # noqa: E402
from support import tmpdir  # noqa: E402

pytestmark = pytest.mark.skipif(
    not os.path.exists(MOSQUITTO), reason="mosquitto not installed (apt-get install mosquitto)"
)


@pytest.fixture
def broker():
    b = Broker()
    b.start()
    yield b
    b.stop()


def _app(broker, d, **over):
    from firmware import app as app_mod
    from tools import sim

    lines = []
    sim.OUT = lines.append
    w = Watcher(broker.port, ["ovms/#"])
    try:
        board = sim.host_board(8, CFG_PATH=d + "/ovms.cfg", BOOT_LOG_PATH=d + "/boot.json",
                               MQTT="127.0.0.1:%d" % broker.port, **over)  # fmt: skip

        def until(a):
            got = {m[0] for m in w.got()}
            cells = "ovms/car/metric/v/b/c/voltage" in got  # after the first sensor set
            return cells and any("/notify/" in t for t in got)

        asyncio.new_event_loop()
        a = app_mod.main(board, 4, until)
        wait(lambda: any(m[1] == "no" for m in w.got("ovms/car/metric/s/v3/connected")), "no")
        return a, w.got(), lines
    finally:
        sim.OUT = print
        w.close()


def test_app_mqtt_only_over_the_emulated_sim800(broker):
    # the whole firmware (tools/sim's host board, --mqtt): MQTT through the SIM800's GPRS
    d = tmpdir("mqapp")
    a, got, lines = _app(broker, d, MQTT_PREFIX="ovms/car")
    topics_ = {m[0] for m in got}
    assert a.crashes == 0 and a.sup.failure is None
    assert a.uplink is None and a.server is None  # parameter 21 "mqtt": no v2 server
    assert a.mqtt.logins >= 1 and a.mqtt.parser.bad == 0
    assert "ovms/car/metric/v/b/c/voltage" in topics_
    assert "ovms/car/notify/info/charge.status" in topics_  # the traces' charge alert
    assert any("MQTT connected, prefix ovms/car" in x for x in lines)
    du = a.fw.net.datause  # the month counter counts the MQTT bytes, once (dataplan)
    assert du.up == a.mqtt.bytes_out and du.down == a.mqtt.bytes_in > 0
    assert a.mqtt.outbox.queued() == 0 or a.mqtt.sender.inflight
    # the watchdog feed watches the MQTT link as it watches the v2 uplink
    assert [p[0] for p in a.progress.parts if p[0] in ("uplink", "mqtt")] == ["mqtt"]


def test_app_both_uplinks_on_native_ip(broker):
    # parameter 21 "both" on a board with its own IP stack: v2 server and broker each get
    # every alert and record from their own outbox
    d = tmpdir("mqboth")
    a, got, lines = _app(broker, d, MQTT_PREFIX="ovms/car", MQTT_UPLINK="both", NET="native")
    assert a.crashes == 0 and a.uplink is not None and a.mqtt is not None
    assert a.uplink.outbox is not a.mqtt.outbox
    assert a.uplink.logins >= 1 and a.mqtt.logins >= 1
    assert [p[0] for p in a.progress.parts if p[0] in ("uplink", "mqtt")] == ["uplink", "mqtt"]
    srv = [x for x in a.server.received if x.startswith("MP-0 PA")]
    mq = [m[1] for m in got if "/notify/info/" in m[0] or "/notify/alert/" in m[0]]
    assert srv and mq
    assert mq[0] == srv[0][7:].replace("\r", "\n")  # the same first alert on both
