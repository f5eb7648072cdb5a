# A real mosquitto broker and a paho-mqtt subscriber for the MQTT tests
# (test_mqtt_broker_cpython.py, test_mqtt_app_cpython.py). CPython only.
# Licence: MIT (this project).
#
# The broker (/usr/sbin/mosquitto, Debian package "mosquitto") runs on 127.0.0.1 with a
# free port and a temporary config (persistence on, for the restart test). Timeouts only
# bound a hang: nothing here depends on the machine's speed.
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import paho.mqtt.client as paho
from support import tmpdir

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
HANG_S = 30  # bounds a hang only


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Broker:
    def __init__(self):
        self.dir = tmpdir("mosq")
        self.port = free_port()
        self.conf = self.dir + "/mosquitto.conf"
        with open(self.conf, "w") as f:
            f.write(
                "listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
                "persistence_location %s/\nlog_dest file %s/mosquitto.log\n"
                % (self.port, self.dir, self.dir)
            )
            # started as root, mosquitto drops to the user "mosquitto", which could
            # neither write the persistence file nor the log in our folder
            if os.geteuid() == 0:
                f.write("user root\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        t0 = time.monotonic()
        while time.monotonic() - t0 < HANG_S:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("mosquitto exited: " + self.log())
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen")

    def stop(self):
        # SIGTERM: mosquitto writes its persistence file on the way out
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(HANG_S)
        self.proc = None

    def log(self):
        try:
            with open(self.dir + "/mosquitto.log") as f:
                return f.read()[-2000:]
        except OSError:
            return ""


class Watcher:
    # a paho-mqtt subscriber in its own thread; messages as (topic, text, retain, qos)
    def __init__(self, port, topics_, client_id=None, clean=True):
        self.msgs = []
        self.lock = threading.Lock()
        self.c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id or "",
                             clean_session=clean)  # fmt: skip
        self.c.reconnect_delay_set(0.05, 0.5)
        self.topics = topics_
        self.subscribed = threading.Event()
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = lambda *a: self.subscribed.set()
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()

    def _on_connect(self, client, userdata, flags, rc, props=None):
        client.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, client, userdata, m):
        with self.lock:
            self.msgs.append((m.topic, m.payload.decode(), bool(m.retain), m.qos))

    def got(self, topic=None):
        with self.lock:
            return [m for m in self.msgs if topic is None or m[0] == topic]

    def publish(self, topic, text, retain=False):
        self.c.publish(topic, text, qos=1, retain=retain).wait_for_publish(HANG_S)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def wait(cond, what, s=HANG_S):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > s:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)
