# The v2 uplink's times (firmware/tasks/uplink.py); tests shorten them.
# Licence: MIT (this project).

PORT = 6867


class Timing:
    # all times in ms; tests shorten them
    def __init__(self, **kw):
        self.port = PORT
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
        for k in kw:
            if not hasattr(self, k):
                raise ValueError("unknown timing " + k)
            setattr(self, k, kw[k])
