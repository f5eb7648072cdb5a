# The data plan on the device: the server link's bytes counted per month (ovms.datause),
# the economy link down while parked, the car's ping and the budget level.
# Licence: MIT (this project). Wired by firmware/app.py: plan = install(app, clock_s)
#   plan = DataPlan(datause, vehicle, uplink, nat_timeout_s)   # wraps uplink.open_stream
#   ticker.on_tick = plan.tick                                  # once a second
#
# Counting: every stream the uplink opens is wrapped (CountingStream): each write and
# each read is counted with its TCP/IP overhead estimate (D73), each connection's
# handshake and close: the OVMS server link and the MQTT uplink when there is one (the
# SIM800's SMS are no mobile data).
# Link plan (D72): rt25 keeps the link up (2013 behaviour) with the car's ping after
# Timing.ping_ms (10 min) of silence. Economy pings after datause.ping_s(NAT timeout)
# and, unless the budget affords a parked link (datause.keep_parked), keeps the link up
# only while the car is on (an app may watch the drive), an app is connected, an alert
# waits in the outbox (made by the Link or a push: outbox.put "P" is watched), or
# records have waited RECORD_WAIT_S; and PARK_LINGER_S after the last of these. A
# charge alone brings no link: its alerts ("Charging Stopped", "Charging Done") do, and
# the records of its end go in the same session. Refused attempts (uplink.gate) cost
# nothing; when a reason comes back the uplink reconnects at once (no back-off).
# Once a minute: the month counter to flash when due (datause.maybe_save, D71) and the
# budget level into the vehicle's cadence (D74). tick() allocates nothing.

from ovms import datause
from ovms.config import PARAM_DATAPROFILE
from ovms.twizy.state import DOORS1_CARON

_ECONOMY_WINDOW = const(24)  # outbox entries in flight: a flush (17 records) in one TCP send


def install(app, clock_s):
    # the month's data counter (DATA?: app.fw.net.datause, a file beside the settings)
    # and the link plan on the app's ticker. An empty parameter 16 takes the board's
    # DATA_PROFILE (the shipping boards: economy), in RAM, saved with the next change.
    b = app.board
    cfg = app.cfg
    if not cfg.params[PARAM_DATAPROFILE]:
        cfg.params[PARAM_DATAPROFILE] = getattr(b, "DATA_PROFILE", "")
    path = b.CFG_PATH
    folder = path[: path.rfind("/")] if "/" in path else "."
    du = app.fw.net.datause = datause.DataUse(cfg, folder + "/datause", clock_s)
    nat = getattr(b, "NAT_TIMEOUT_S", datause.NAT_TIMEOUT_S)
    plan = DataPlan(du, app.vehicle, app.uplink, nat)
    m = getattr(app, "mqtt", None)  # the MQTT uplink's bytes count too (firmware/tasks/mqtt.py)
    if m is not None:
        m.open_stream = plan.counted(m.open_stream)
    app.ticker.on_tick = plan.tick
    return plan


class CountingStream:
    # the uplink's stream with every byte counted (read, write, drain, close); written
    # bytes count when drain() has sent them, as the uplinks count theirs (a session
    # ended or stopped during a drain counts on neither side)
    def __init__(self, stream, du):
        self.s = stream
        self.du = du
        self._unsent = 0
        du.opened()

    async def read(self, n):
        data = await self.s.read(n)
        if data:
            self.du.received(len(data))
        return data

    def write(self, data):
        self.s.write(data)
        self._unsent += len(data)

    async def drain(self):
        await self.s.drain()
        n = self._unsent
        self._unsent = 0
        if n:
            self.du.sent(n)

    async def close(self):
        self.du.closed()
        await self.s.close()


class DataPlan:
    def __init__(self, du, vehicle, uplink=None, nat_timeout_s=datause.NAT_TIMEOUT_S):
        self.du = du
        self.vehicle = vehicle
        self.uplink = uplink
        self.nat_timeout_s = nat_timeout_s
        self.quiet_s = 0  # seconds the car has been quiet (economy link plan)
        self.urgent = False  # an alert waits in the server outbox
        self.waiting_s = 0  # seconds the server outbox has not been empty
        self.gated = 0  # connection attempts refused by the plan
        self.closed = 0  # sessions ended by the plan
        self._refused = False  # the last attempt was refused: reconnect when active
        self._n = 0
        self._rt25 = (0, 8)  # the uplink's own ping_ms and window (rt25)
        if uplink is not None:
            self._rt25 = (uplink.t.ping_ms, uplink.t.window)
            uplink.open_stream = self.counted(uplink.open_stream)
            uplink.gate = self.may_connect
            ob = uplink.outbox
            put = ob.put

            def watched(kind, text):
                if kind == "P":
                    self.urgent = True
                return put(kind, text)

            ob.put = watched
        self.minute()

    def counted(self, opener):
        # an open_stream(host, port) whose streams count every byte in the month counter
        du = self.du

        async def counted(host, port):
            return CountingStream(await opener(host, port), du)

        return counted

    def economy(self):
        return self.vehicle.cadence.economy()

    def _active(self):
        v = self.vehicle
        if v.st.car_doors1 & DOORS1_CARON or v.net.apps > 0 or self.urgent:
            return True
        return self.waiting_s >= datause.RECORD_WAIT_S

    def _allowed(self):
        if not self.economy() or datause.keep_parked(self.vehicle.cfg, self.nat_timeout_s):
            return True
        return self._active() or self.quiet_s < datause.PARK_LINGER_S

    def may_connect(self):
        # the uplink asks before every connection attempt (uplink.gate)
        if self._allowed():
            return True
        self._refused = True
        self.gated += 1
        return False

    def tick(self, ticks=0):
        # once a second (the ticker's on_tick)
        u = self.uplink
        if u is not None:
            if u.outbox.queued() > 0:
                self.waiting_s += 1
            else:
                self.waiting_s = 0
                self.urgent = False
        self.quiet_s = 0 if self._active() else self.quiet_s + 1
        if u is not None:
            if u.logged_in:
                if self.quiet_s == datause.PARK_LINGER_S and not self._allowed():
                    self.closed += 1
                    self._refused = True
                    u.reconnect()  # ends the session; the gate keeps it down
            elif self._refused and self.quiet_s == 0:
                self._refused = False
                u.reconnect()  # active again: at once, not after the back-off
        self._n += 1
        if self._n >= 60:
            self._n = 0
            self.minute()

    def minute(self):
        du = self.du
        now = int(du.clock_s())
        du.maybe_save(now)
        eco = self.economy()
        self.vehicle.cadence.level = du.level(now)
        u = self.uplink
        if u is not None:
            ping_ms, window = self._rt25
            if eco:
                ping_ms, window = datause.ping_s(self.nat_timeout_s) * 1000, _ECONOMY_WINDOW
            u.t.ping_ms = ping_ms
            u.t.window = u.sender.window = window

    def flush(self):
        self.du.flush()
