# Times and cadences of the MQTT uplink (firmware/tasks/mqtt.py); tests shorten them.
# Licence: MIT (this project).
#
# D79 (cadence): keep-alive and publish intervals follow the data profile (parameter 16,
# ovms/datause.py). "economy": keep-alive 720 s, so the PINGREQ after 3/4 of it (540 s
# of silence) matches the v2 link's economy ping under the 600 s carrier NAT timeout
# assumed there (D72); changed metrics every 60 s, cell lists every 600 s. "rt25" (and
# empty): keep-alive 120 s, metrics 10 s, cell lists 60 s. Alerts and records go at once
# in both (they are what the owner waits for). A session keeps the keep-alive it was
# opened with (a new profile applies from the next connection; the cadences at once).

from ovms.config import PARAM_DATAPROFILE as PARAM_PROFILE  # noqa: F401

PROFILES = {  # keep-alive s, metrics s, cell lists s (D79)
    "economy": (720, 60, 600),
    "rt25": (120, 10, 60),
}


class Timing:
    # all times in ms unless named otherwise
    def __init__(self, **kw):
        self.port = 1883
        self.connect_timeout_ms = 30000  # TCP connect -> CONNACK
        self.tick_ms = 1000  # metrics, outbox, commands, keep-alive check
        self.pong_timeout_ms = 30000  # PINGREQ without PINGRESP: reconnect
        self.backoff_min_ms = 2000
        self.backoff_max_ms = 300000
        self.stable_ms = 60000  # a session up this long resets the back-off (D42)
        self.window = 8  # outbox entries in flight (published, no PUBACK yet)
        self.ack_timeout_ms = 60000  # in flight without any PUBACK: reconnect
        self.read_size = 512
        self.profiles = PROFILES
        for k in kw:
            if not hasattr(self, k):
                raise ValueError("unknown timing " + k)
            setattr(self, k, kw[k])
