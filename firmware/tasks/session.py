# The life of one server link, shared by the OVMS v2 uplink (uplink.py) and the MQTT
# uplink (mqtt.py): connect, run the session until it ends, back off, retry forever; a
# ticker beside it; the network status; stop, reconnect and flush for the app.
# Licence: MIT (this project).
#
# A subclass gives connect_once() (one session: -> True when the login succeeded; it
# returns when the session ended), tick() (every t.tick_ms), diag_text() and send(); it
# sets LINK_ERRORS (the errors that end a session: OSError and its codec's
# ProtocolError) and LOG (the logger's name), calls _init_session(...) in its __init__
# and keeps the counters it reports.
# Errors: a LINK_ERRORS exception in the ticker (or the subclass' reader, through
# _end) ends the session; any other exception is a bug: _die() keeps it and run() raises
# it (the supervisor restarts the task).
# D42 back-off: the n-th consecutive failed attempt waits backoff_min_ms * 2^(n-1), at
# most backoff_max_ms, jittered to 50..100 % by the random source; n restarts only after
# a good session (_good: up for stable_ms, or something acknowledged), so a server that
# accepts the login and drops the link at once never causes a reconnect storm.

import asyncio

from ovms import log
from ovms.aio import Flag, sleep_ms, ticks_diff, ticks_ms


def backoff_ms(t, n, randbytes):
    # the n-th consecutive failed attempt -> ms to wait (D42)
    d = t.backoff_min_ms
    while n > 1 and d < t.backoff_max_ms:
        d *= 2
        n -= 1
    if d > t.backoff_max_ms:
        d = t.backoff_max_ms
    r = randbytes(2)
    return d // 2 + ((r[0] << 8) | r[1]) % (d // 2 + 1)


class LinkSession:
    LOG = "uplink"
    LINK_ERRORS = (OSError,)
    RESET_APPS = True  # logged out: no app can be connected through the server (v2)

    status = True  # this link keeps the module's "server connected" flags (net)

    def _init_session(self, open_stream, config, vehicle, framework, timing, clock, randbytes):
        # what every link is given and the state it keeps (clock: ticks_ms by default;
        # randbytes: os.urandom by default)
        if randbytes is None:
            import os

            randbytes = os.urandom
        self.open_stream = open_stream
        self.cfg = config
        self.vehicle = vehicle
        self.fw = framework
        self.t = timing
        self.clock = clock or ticks_ms
        self.randbytes = randbytes
        self.log = log.get(self.LOG)
        self.logged_in = False
        self._t0 = self.clock()
        self._stream = None
        self._lock = asyncio.Lock()  # one writer at a time (wire order)
        self._wake = Flag()  # the session must end (error, kick, stop); D127: no task per wait
        self._err = None
        self._fatal = None  # a bug in the reader or ticker: run() raises it
        self._stop = False
        self._failures = 0  # consecutive failed attempts (back-off exponent)
        self._good = False  # this session counts as good (D42)
        self._login_at = 0  # ticks of the login
        self._ack_at = 0  # ticks of the last acknowledgement (or of the first send)
        self._ping_at = None  # ticks of our unanswered ping
        self.progress = 0  # every line/packet written or read, every back-off step
        self.last_backoff_ms = 0
        self.connects = 0  # TCP connections opened
        self.logins = 0  # logins accepted
        self.auth_failures = 0
        self.errors = 0  # sessions ended by link/protocol errors
        self.lines_out = self.bytes_out = self.bytes_in = 0

    # ---- the app and the ticker's Link talk to these -----------------------------
    def now_s(self):
        return ticks_diff(self.clock(), self._t0) // 1000

    def ready(self):
        # logged in: records can be queued now
        return self.logged_in

    def reconnect(self):
        # settings changed: end the session now and skip the back-off
        self._failures = 0
        self._end(OSError("reconnect requested"))

    def flush(self):
        # the outboxes to flash now (before a planned reset)
        for ob in (self.outbox, self.sender.sms_outbox):
            if ob is not None:
                ob.flush()

    def stop(self):
        self._stop = True
        self._end(OSError("stopped"))

    async def run(self):
        # forever; raises when the reader or the ticker died of a bug
        self._fatal = None
        ticker = asyncio.create_task(self._ticker())
        try:
            while not self._stop:
                await self.connect_once()
                if self._fatal is not None:
                    raise self._fatal
                if self._stop:
                    break
                self._failures = 1 if self._good else self._failures + 1
                delay = self.backoff_ms(self._failures)
                self.last_backoff_ms = delay
                self.progress += 1
                self._wake.clear()
                await self._wake.wait_ms(delay)
                if self._fatal is not None:
                    raise self._fatal
        finally:
            ticker.cancel()

    def backoff_ms(self, n):
        return backoff_ms(self.t, n, self.randbytes)

    # ---- for the subclass ----------------------------------------------------------
    def _set_online(self, on):
        self.logged_in = on
        if not self.status:
            return
        # the one network status (ovms/net.py, D93): the interpreter's, which its
        # vehicle shares; without an interpreter the vehicle's own
        net = self.fw.net if self.fw is not None else None
        if net is None and self.vehicle is not None:
            net = self.vehicle.net
        if net is not None:
            net.server_ok = on
            if not on and self.RESET_APPS:
                net.apps = 0

    def _link_error(self, e, what):
        # a session ended by the link or the protocol: counted, unless we stopped it
        if not self._stop:
            self.errors += 1
            self.log.warning("%s: %s", what, e)

    async def _close(self, logged, reader, stream):
        # the end of every session, whatever ended it
        if logged and ticks_diff(self.clock(), self._login_at) >= self.t.stable_ms:
            self._good = True
        self._set_online(False)
        self._stream = None
        if reader is not None:
            reader.cancel()
        if stream is not None:
            try:
                await stream.close()
            except OSError:  # the link under it is gone already (modem reset/stopped)
                pass

    def _end(self, err):
        # the session must end (the first reason is kept)
        if self._err is None:
            self._err = err
        self._wake.set()

    def _die(self, e):
        self.log.error("%s task failed: %r", self.LOG, e)
        self._fatal = e
        self._end(e)

    async def _ticker(self):
        while True:
            await sleep_ms(self.t.tick_ms)
            try:
                await self.tick()
            except self.LINK_ERRORS as e:
                self._end(e)
            except Exception as e:  # a bug: run() raises it
                self._die(e)
                return
