# The MQTT uplink (firmware/tasks/mqtt.py) against a REAL mosquitto broker, watched by a
# paho-mqtt subscriber. CPython only (paho). Licence: MIT (this project).
#
# The broker: host_tests/mqtt_broker.py (mosquitto on 127.0.0.1, a free port, a temporary
# config with persistence). Timeouts only bound a hang, never measure speed. The whole
# firmware with MQTT: test_mqtt_app_cpython.py.
import asyncio
import json
import os
import time

import pytest

pytest.importorskip("paho.mqtt.client")
from mqtt_broker import HANG_S, MOSQUITTO, Broker, Watcher, wait  # noqa: E402
from support import modem_on_emu, run_async, stop_modem, tmpdir  # noqa: E402
from twizy_helpers import fresh  # noqa: E402

from firmware.hal.netstream import open_tcp  # noqa: E402
from firmware.tasks.mqtt import MqttUplink, Timing  # noqa: E402
from ovms.outbox import Outbox  # noqa: E402
from ovms.sms import SmsInterpreter  # noqa: E402
from ovms.twizy import v3metrics  # noqa: E402

pytestmark = pytest.mark.skipif(
    not os.path.exists(MOSQUITTO), reason="mosquitto not installed (apt-get install mosquitto)"
)
VID = "TWIZYMQ"
OWNER = "+4917000000001"
PRE = "ovms/anna/" + VID


def _module(port, path=None, **params):
    p = {0: OWNER, 8: VID, 18: "127.0.0.1:%d" % port, 20: "anna", 21: "mqtt"}
    for k in params:
        p[int(k[1:])] = params[k]
    v = fresh(params=p)
    st = v.st
    st.frames = st.sensor_sets = 1  # the car has sent data (v3metrics: no placeholders)
    st.stale_gps = 120
    st.v12_dv = 127
    st.net_sq = 20
    st.soc = 8550
    st.car_doors1 = 0x80
    fw = SmsInterpreter(v.cfg, v)
    ob = Outbox(path, lambda: int(time.time()))
    t = Timing(tick_ms=20, connect_timeout_ms=5000, backoff_min_ms=50, backoff_max_ms=200,
               profiles={"rt25": (5, 0.2, 0.5)})  # fmt: skip
    up = MqttUplink(open_tcp, v.cfg, v, fw, metrics=v3metrics.values, table=v3metrics.TABLE,
                    booleans=v3metrics.BOOLEANS, outbox=ob, timing=t, version="3.0.0")  # fmt: skip
    return up, v, fw, ob


async def _until(cond, what, s=HANG_S):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > s:
            raise AssertionError("timed out waiting for " + what)
        await asyncio.sleep(0.02)


async def _stop(up, task):
    up.stop()
    await _until(lambda: task.done(), "the uplink to stop")


@pytest.fixture
def broker():
    b = Broker()
    b.start()
    yield b
    b.stop()


def test_metrics_retained_connected_and_discovery(broker):
    up, v, fw, ob = _module(broker.port, p22="on")

    async def main():
        task = asyncio.create_task(up.run())
        await _until(lambda: up.logged_in and up.metrics_out >= len(v3metrics.TABLE), "metrics")
        v.st.soc = 8000  # a change goes out at the fast cadence, the unchanged do not
        n = up.metrics_out
        await _until(lambda: up.metrics_out > n, "the changed SOC")
        await asyncio.sleep(0.6)
        assert up.metrics_out == n + 1
        await _stop(up, task)

    run_async(main())
    # a subscriber arriving later gets the retained values (the broker keeps them)
    w = Watcher(broker.port, [PRE + "/metric/#", "homeassistant/#"])
    try:
        wait(lambda: len(w.got()) >= 2 * len(v3metrics.TABLE) + 1, "retained messages")
        retained = {m[0]: m[1] for m in w.got() if m[2]}
        assert retained[PRE + "/metric/v/b/soc"] == "80.00"
        assert retained[PRE + "/metric/v/e/on"] == "yes"
        assert retained[PRE + "/metric/v/type"] == "RT"
        assert retained[PRE + "/metric/v/b/c/voltage"].count(",") == 13
        assert retained[PRE + "/metric/s/v3/connected"] == "no"  # stopped: said "no" itself
        for name, _u, _d, _s, _l in v3metrics.TABLE:
            assert PRE + "/metric/" + name.replace(".", "/") in retained, name
        cfg = json.loads(retained["homeassistant/sensor/ovms-%s/v_b_soc/config" % VID])
        assert cfg["state_topic"] == PRE + "/metric/v/b/soc"
        assert cfg["unit_of_measurement"] == "%"
        assert all(m[2] for m in w.got())  # everything on these topics is retained
    finally:
        w.close()
    assert up.parser.bad == 0 and up.errors == 0 and up.auth_failures == 0


def test_commands_and_responses(broker):
    up, v, fw, ob = _module(broker.port)
    # a command left retained on the broker must never run (it would run at every connect)
    w = Watcher(broker.port, [PRE + "/client/+/response/+"])
    try:
        assert w.subscribed.wait(HANG_S)
        w.publish(PRE + "/client/old/command/1", "FEATURE 10 90", retain=True)

        async def main():
            task = asyncio.create_task(up.run())
            await _until(lambda: up.logged_in, "connect")
            await _until(lambda: up.retained_cmds == 1, "the retained command dropped")
            w.publish(PRE + "/client/app1/command/7", "STAT")
            w.publish(PRE + "/client/app1/command/8", "FEATURE 10 85")
            w.publish(PRE + "/client/app2/command/x9", "NOSUCHCOMMAND")
            await _until(lambda: len(w.got()) >= 3, "three responses")
            await _stop(up, task)

        run_async(main())
        r = {m[0]: m[1] for m in w.got()}
        assert r[PRE + "/client/app1/response/7"] == "\n".join(fw.handle(OWNER, "STAT"))
        assert r[PRE + "/client/app1/response/8"] == "Feature has been set."
        assert r[PRE + "/client/app2/response/x9"] == "Unknown command"
        assert PRE + "/client/old/response/1" not in r
        assert v.cfg.features[10] == 85  # the command ran, the retained one did not
        assert up.commands == 3 and fw.outbox == []  # nothing forwarded as "SMS FROM"
    finally:
        w.close()


def test_alerts_qos1_across_a_broker_restart(broker):
    # alerts made while the broker is down wait in the durable outbox, survive a module
    # reboot, and reach a phone that is offline itself when they are published (its
    # persistent session on the broker, kept across the broker's restart)
    path = tmpdir("mqob") + "/ob"
    up, v, fw, ob = _module(broker.port, path=path)
    phone = [PRE + "/notify/#"]
    w = Watcher(broker.port, phone, client_id="owner-phone", clean=False)
    alerts = ["MP-0 PAALERT!!! CRITICAL SOC LEVEL APPROACHED (%d%% SOC)" % n for n in (9, 8)]
    alerts += ["MP-0 PAVolts: !C%d:+60mV Temps: OK " % c for c in (1, 2, 3)]

    async def before():
        task = asyncio.create_task(up.run())
        await _until(lambda: up.logged_in, "connect")
        await _until(w.subscribed.is_set, "the subscriber")
        ob.put("P", alerts[0])
        await _until(lambda: ob.queued() == 0, "the first alert acknowledged")
        ob.put("P", alerts[1])  # queued just before the broker goes: in flight or not
        broker.stop()
        await _until(lambda: not up.logged_in, "the module to notice")
        for a in alerts[2:]:  # made while the broker is down: the durable outbox keeps them
            ob.put("P", a)
        ob.put("R", "MP-0 HRT-GPS-Log,1234,86400,48.1,11.5,520,90,0,1,120,20")
        assert ob.queued() >= 4
        await _stop(up, task)
        up.flush()  # a planned reboot (the app flushes before it resets)

    run_async(before())
    w.close()  # the phone goes offline too
    broker.start()
    up2, v2, fw2, ob2 = _module(broker.port, path=path)  # the module after its reboot
    assert ob2.queued() >= 4

    async def after():
        task = asyncio.create_task(up2.run())
        await _until(lambda: up2.logged_in and ob2.queued() == 0, "the outbox delivered")
        await _stop(up2, task)

    run_async(after())
    w3 = Watcher(broker.port, phone, client_id="owner-phone", clean=False)  # phone back
    try:
        wait(lambda: len(w.got()) + len(w3.got()) >= len(alerts) + 1, "the phone's messages")
        got = w.got() + w3.got()
    finally:
        w3.close()
    texts = [m[1] for m in got]
    for a in alerts:
        assert a[7:] in texts, a  # no loss
    assert {m[0] for m in got} == {
        PRE + "/notify/alert/batt.soc.critical",
        PRE + "/notify/alert/batt.alert",
        PRE + "/notify/data/rt.gps.log",
    }
    assert all(m[3] == 1 and not m[2] for m in got)  # QoS 1, not retained
    assert len(w3.got()) >= 4  # what went out while the phone was away came from its session
    assert up.logins == 1 and up2.logins == 1 and up.sender.acked + up2.sender.acked >= 6
    assert ob2.queued() == 0 and ob2.dropped == 0
    assert os.path.exists(broker.dir + "/mosquitto.db")  # the restart kept the sessions
    # the retained metrics survived the restart in the broker's persistence file
    w2 = Watcher(broker.port, [PRE + "/metric/v/b/soc"])
    try:
        wait(lambda: w2.got(), "the retained SOC after the restart")
        assert w2.got()[0][1:3] == ("85.50", True)
    finally:
        w2.close()


def test_last_will_on_a_killed_link(broker):
    up, v, fw, ob = _module(broker.port)
    topic = PRE + "/metric/s/v3/connected"
    w = Watcher(broker.port, [topic])

    async def main():
        task = asyncio.create_task(up.run())
        await _until(lambda: [m[1] for m in w.got(topic)][-1:] == ["yes"], "yes")
        # the link dies without a DISCONNECT (a modem losing its carrier)
        up._stream._w.transport.abort()
        await _until(lambda: "no" in [m[1] for m in w.got(topic)], "the broker's will")
        await _until(lambda: [m[1] for m in w.got(topic)][-1:] == ["yes"], "yes again")
        await _stop(up, task)
        await _until(lambda: [m[1] for m in w.got(topic)][-1:] == ["no"], "no at the stop")

    try:
        run_async(main())
        seq = [m[1] for m in w.got(topic)]
    finally:
        w.close()
    # the will fired on the killed link; the reconnect said yes; the stop said no itself
    assert seq[-4:] == ["yes", "no", "yes", "no"] or seq[-3:] == ["no", "yes", "no"], seq
    assert up.logins == 2 and up.errors == 1


def test_over_the_sim800_gprs_stream(broker):
    # the same uplink riding the SIM800 driver's GPRS stream (emulator -> loopback broker)
    w = Watcher(broker.port, [PRE + "/metric/v/b/soc"])

    async def main():
        emu, m = await modem_on_emu()
        try:
            up, v, fw, ob = _module(broker.port)
            up.open_stream = m.open_tcp
            up.t.connect_timeout_ms = 20000
            task = asyncio.create_task(up.run())
            await _until(lambda: up.logged_in, "connect over GPRS")
            await _until(lambda: w.got(), "the SOC over GPRS")
            await _stop(up, task)
            return up
        finally:
            await stop_modem(emu, m)

    try:
        up = run_async(main())
        got = w.got()
    finally:
        w.close()
    assert got[0][1] == "85.50"
    assert up.connects == 1 and up.errors == 0
