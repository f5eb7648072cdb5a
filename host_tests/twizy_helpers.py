# Helpers for Twizy core tests: a fresh module and frame injection.
# Licence: MIT (this project).
from ovms.config import Config
from ovms.twizy.vehicle import Twizy


def fresh(units="K", features=None, params=None):
    p = {2: units}
    if params:
        for k in params:
            p[k] = params[k]
    cfg = Config(p)
    if features:
        for k in features:
            cfg.set_feature(k, "%d" % features[k], save=False)
    return Twizy(cfg)


def feed(v, spec, times=1):
    # spec "155: 07 97 C7 54 97 98 00 73"
    ident, data = spec.split(":", 1)
    raw = bytes.fromhex(data.replace(" ", ""))
    slot = bytearray(8)
    slot[: len(raw)] = raw
    for _ in range(times):
        v.frame(int(ident, 16), slot, len(raw))


class Link:
    # records what the module sends; server and SMS always available
    def __init__(self, server=True, sms=True):
        self.server = server
        self.sms_ok = sms
        self.lines = []
        self.sms = []

    def server_ready(self):
        return self.server

    def sms_ready(self):
        return self.sms_ok

    def send_server(self, lines):
        self.lines.extend(lines)

    def send_sms(self, text):
        self.sms.append(text)


def chunk_tick(v, chunk):
    v.inject(chunk)
    v.tick()
