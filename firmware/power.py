# The power task: decides the power state (lib/ovms/powerstate.py), switches the parts,
# sleeps the MCU between the minute's work and books the time (lib/ovms/powerledger.py).
# Licence: MIT (this project). Issue 13.
#
#   pm = PowerManager(board, vehicle_st, sleeper, clock=..., can=..., modem=..., link=...,
#                     uplink=..., ticker=..., progress=..., pins=...)
#   supervisor.add("power", pm.run)
#   pm.text()      the owner's line: "Power: PARKED-ASLEEP, 24h avg 0.7 mA, 0.21 Wh/day"
#                  D88: it is a line of DIAG (SMS and the DIAG console), not a command of
#                  its own: "POWER?" already answers the Twizy's power statistics (the
#                  vehicle's commands match by prefix, twizy-vehicle.md §7) and the HELP
#                  text is byte-exact (ovms-v2-sms.md)
#   pm.summary()   a dict for the simulation's summary
#
# Every period_ms (250) while awake: book the time since the last look to the state it
# was in, read the facts (car on / charging from the 0x597 status, the last CAN frame,
# the work in hand) and let the rules decide. Entering a state switches the parts:
#   DRIVING        modem awake (DTR low), transceiver normal, GNSS on
#   CHARGING,
#   PARKED-AWAKE   modem awake, transceiver normal, GNSS off
#   PARKED-ASLEEP  modem asleep (AT+CSCLK=1, DTR high), transceiver standby (its receiver
#                  still follows the bus at low power: MCP2562 standby, SN65HVD230 with Rs
#                  high), GNSS off, the ticker may catch up a sleep's ticks
# Parked and asleep, the loop sleeps (firmware/hal/sleep*.py) until the next minute (at
# most the board's SLEEP_MAX_MS), or a CAN edge, or RI. Then it stays awake WAKE_MS: the
# ticker runs the missed ticks back to back (the vehicle's per-second logic sees every
# second, only late), dispatch queues records and alerts, the link pumps the outboxes.
# Records and alerts made in a sleep are queued as always: the work wakes the module
# (rule 4) and they go out; none is lost across a sleep (test_lowpower_app.py).
# Work ("busy"): the modem has work (not READY, SMS to read or send, RI not served), the
# SMS outbox has alerts and the modem is READY, the server outbox has entries and the
# uplink is logged in. D85: work that lasts over BUSY_MAX_MS in a row (a server that never
# acknowledges) stops counting: the module sleeps anyway (stuck_work counts it), and the
# outbox keeps its entries for the next wake.
# On the host the virtual clock holds (clock.busy) while that work runs: the emulated
# modem and server answer on wall time, and the simulated time must not race past them.

from firmware.hal.sleep import WAKE_CAN, WAKE_RI, WAKE_TIMER
from ovms import lazy, log
from ovms.aio import sleep_ms, ticks_diff, ticks_ms
from ovms.compat import const
from ovms.powerledger import COL_WAKES, EV_SMS, EV_TCP_BYTES, Ledger
from ovms.powerstate import DRIVING, NAMES, PARKED_ASLEEP, PARKED_AWAKE, PowerRules

_PERIOD_MS = const(250)  # the look while awake (a key-on reaches DRIVING within 2 frames of 0x597)
MINUTE_MS = 60_000
BUSY_MAX_MS = 120_000  # D85
SLEEP_CATCHUP = 120  # ticks the ticker runs back to back after a sleep (<= 1 min + margin)
# D102: the model that prices the ledger and the texts run for DIAG and the simulation's
# summary only: loaded for the one report and dropped after it (ovms/lazy.py); the
# module (≈ 590 bytes) and the model object (80) stayed on a 32-bit board's heap all day
_MODEL = "ovms.powermodel"


class PowerManager:
    def __init__(
        self,
        board,
        st,
        sleeper,
        clock=None,
        can=None,
        modem=None,
        link=None,
        uplink=None,
        ticker=None,
        progress=None,
        pins=None,
        rules=None,
    ):
        self.b = board
        self.st = st  # the vehicle state (status: 0x597 bits)
        self.sleeper = sleeper
        self.clock = clock
        self.can = can
        self.modem = modem
        self.link = link
        self.uplink = uplink
        self.ticker = ticker
        self.progress = progress
        self.pins = pins or {}  # "can_standby", "gps_enable": objects with value(v)
        self.rules = rules or PowerRules()
        self.ledger = Ledger()
        self.standby = getattr(board, "CAN_STANDBY_PIN", None) is not None
        try:
            self._model(lazy.load(_MODEL))  # the board's figures checked at boot (ValueError)
        finally:
            lazy.unload(_MODEL)
        self.sleep_max_ms = getattr(board, "SLEEP_MAX_MS", MINUTE_MS)
        self.wake_ms = getattr(board, "WAKE_MS", 200)
        self.period_ms = _PERIOD_MS
        self.applied = None  # the state whose part settings are in place
        self.last_can_ms = None
        self.stuck_work = 0
        self.first_frame_ms = None  # the first CAN frame after a sleep (key-on latency)
        self.transitions = []  # (ms, state name, reason): the last 32
        self._frames = 0
        self._sms = 0
        self._bytes = 0
        self._busy_since = None
        self._stuck = False
        self._tick_goal = 0  # the ticker's count once a sleep's ticks are caught up
        self._t_last = None
        self._log = log.get("power")
        if clock is not None:
            self._now = clock.ticks_ms
            self._wait = clock.sleep_ms
            clock.busy(self.holding)
        else:
            self._now = ticks_ms
            self._wait = sleep_ms

    # ---- the facts ------------------------------------------------------------------
    def _has_work(self):
        # the modem or the link has work in hand (no side effects: the clock hook too)
        m = self.modem
        if m is not None and m.busy():
            return True
        link = self.link
        if link is None:
            return False
        ob = link.sms_outbox
        if ob is not None and ob.queued() and m is not None and m.state == "READY":
            return True
        ob = link.outbox
        up = self.uplink
        return ob is not None and up is not None and up.logged_in and ob.queued() > 0

    def _work(self, now):
        # work, bounded by BUSY_MAX_MS in a row (D85)
        if not self._has_work():
            self._busy_since = None
            self._stuck = False
            return False
        if self._busy_since is None:
            self._busy_since = now
        elif ticks_diff(now, self._busy_since) > BUSY_MAX_MS:
            if not self._stuck:
                self._stuck = True
                self.stuck_work += 1
                self._log.warning(
                    "work for %d s in a row: sleeping anyway (at %d ms)", BUSY_MAX_MS // 1000, now
                )
            return False
        return True

    def holding(self):
        # the virtual clock's busy hook: parked and the emulated modem/server working
        # (only once the module has slept: at boot and while the car is active the
        # simulated time runs as it did before the power task existed)
        s = self.rules.state
        if s != PARKED_AWAKE and s != PARKED_ASLEEP or not self.sleeper.sleeps:
            return False
        if self._catching_up():
            return True  # the ticker runs a sleep's ticks back to back first
        return not self._stuck and self._has_work()

    def _catching_up(self):
        t = self.ticker
        return t is not None and t.ticks < self._tick_goal

    def _events(self, now):
        m = self.modem
        if m is not None:
            n = m.counters["sms_out"]
            if n != self._sms:
                self.ledger.add_event(now, EV_SMS, n - self._sms)
                self._sms = n
        u = self.uplink
        if u is not None:
            n = u.bytes_in + u.bytes_out
            if n != self._bytes:
                self.ledger.add_event(now, EV_TCP_BYTES, n - self._bytes)
                self._bytes = n
        c = self.can
        if c is not None and c.frames != self._frames:
            self._frames = c.frames
            self.last_can_ms = now
        sl = self.sleeper
        if sl is not None and sl.ri and m is not None:
            sl.ri = False  # RI fell while awake: the modem lists the SIM
            m.ring()

    def _account(self, now, mcu_awake=True):
        if self._t_last is not None:
            self.ledger.add_ms(now, self.rules.state, ticks_diff(now, self._t_last), mcu_awake)
        self._t_last = now

    def look(self):
        # one decision (the loop's body; tests call it): -> the state
        now = self._now()
        self._account(now)
        self._events(now)
        st = self.st.status  # 0x597: 0x10 switched on, 0x60 == 0x20 charging
        car_on = st & 0x10 != 0
        charging = st & 0x60 == 0x20
        if car_on or charging:  # the car's state rules: work does not count (nor stick)
            busy = False
            self._busy_since = None
            self._stuck = False
        else:
            busy = self._work(now)
        before = self.rules.state
        s = self.rules.update(now, car_on, charging, self.last_can_ms, busy)
        t = self.ticker
        if t is not None and t.catchup != 3 and s != PARKED_ASLEEP and not self._catching_up():
            t.catchup = 3  # the ticker's own stall rule again
        if s != before:
            self.transitions.append((now, NAMES[s], self.rules.reason))
            if len(self.transitions) > 32:
                self.transitions.pop(0)
            self._log.info("power %s (%s)", NAMES[s], self.rules.reason)
        return s

    # ---- the task -------------------------------------------------------------------
    async def run(self):
        now = self._now()
        if self.last_can_ms is None:
            self.last_can_ms = now  # D85: the quiet window starts at boot
        self._t_last = now
        while True:
            s = self.look()
            if s != self.applied or (s == PARKED_ASLEEP and self._modem_awake()):
                await self._apply(s)  # (the modem woke for its own traffic: doze again)
            if s == PARKED_ASLEEP and self.applied == PARKED_ASLEEP:
                await self._sleep_once()
            else:
                await self._wait(self.period_ms)

    def _modem_awake(self):
        # a modem with sleep mode (a DTR line) that is not asleep now
        m = self.modem
        return m is not None and getattr(m, "dtr", 1) is not None and not m.asleep

    async def _apply(self, s):
        m = self.modem
        asleep = s == PARKED_ASLEEP
        pin = self.pins.get("can_standby")
        if pin is not None:
            pin.value(1 if asleep else 0)
        pin = self.pins.get("gps_enable")
        if pin is not None:
            pin.value(1 if s == DRIVING else 0)
        t = self.ticker
        if t is not None and asleep:
            t.catchup = SLEEP_CATCHUP  # back to 3 once a sleep's ticks are caught up (look)
        if m is not None:
            if asleep:
                if not await m.doze() and getattr(m, "dtr", 1) is not None:
                    return  # not now (work came in): looked at again next time
            else:
                m.rouse()
            await self._gnss(s)
        self.applied = s

    async def _gnss(self, s):
        # the SIM808's GNSS: on while driving only (D87)
        m = self.modem
        if not getattr(self.b, "GNSS", False):
            return
        want = s == DRIVING
        if m.gnss != want and m.state == "READY":
            try:
                await m.cmd("AT+CGNSPWR=%d" % (1 if want else 0))
                m.gnss = want
            except OSError as e:  # the modem's own ladder deals with a dead modem
                self._log.warning("GNSS switch failed: %r", e)

    async def _sleep_once(self):
        now = self._now()
        ms = MINUTE_MS - now % MINUTE_MS
        if ms > self.sleep_max_ms:
            ms = self.sleep_max_ms
        tk = self.ticker
        n0 = tk.ticks if tk is not None else 0
        cause = await self.sleeper.sleep(ms)
        t = self._now()
        if tk is not None:
            self._tick_goal = n0 + ticks_diff(t, now) // tk.period_ms
        self._account(t, False)  # the MCU slept
        if cause == WAKE_CAN:
            self.last_can_ms = t
            if self.first_frame_ms is None:
                self.first_frame_ms = t
        elif cause == WAKE_RI:
            if self.modem is not None:
                self.modem.ring()
        elif cause == WAKE_TIMER:
            self.ledger.add_event(t, COL_WAKES, 1)
        if self.progress is not None:
            self.progress.rested()
        if cause == WAKE_TIMER:
            await self._wait(self.wake_ms)  # the minute's work
        # after a CAN or RI wake the next look (at once) leaves PARKED-ASLEEP

    # ---- the owner's view -----------------------------------------------------------
    def _model(self, pm):
        # the board's power model (pm: ovms.powermodel, loaded by the caller)
        b = self.b
        return pm.PowerModel(b.POWER_MV, b.POWER_UA, b.POWER_EFF_PCT, standby=self.standby)

    def text(self):
        now = self._now()
        self._account(now, self.rules.state != PARKED_ASLEEP)
        name = NAMES[self.rules.state]
        try:
            pm = lazy.load(_MODEL)
            return pm.text(self._model(pm), self.ledger.window(24, now), name)
        except MemoryError:  # no room for the model now: DIAG still gets the state
            return "Power: " + name
        finally:
            lazy.unload(_MODEL)

    def summary(self):
        now = self._now()
        self._account(now, self.rules.state != PARKED_ASLEEP)
        row = self.ledger.totals()
        try:
            pm = lazy.load(_MODEL)
            ua, mwh = self._model(pm).report(row)
            share = pm.share_text(row)
        finally:
            lazy.unload(_MODEL)
        sl = self.sleeper
        return {
            "state": NAMES[self.rules.state],
            "avg_ua": ua,
            "mwh_day": mwh,
            "share": share,
            "sleeps": sl.sleeps if sl is not None else 0,
            "wakes": list(sl.wakes) if sl is not None else [0, 0, 0],
            "stuck_work": self.stuck_work,
        }


def build(app):
    # the app's power task from its board (None: the board has no POWER model). Host:
    # the virtual clock is the sleep, the emulator's RI the wake line. Board: machine
    # pins and machine.lightsleep (UNTESTED ON HARDWARE).
    b = app.board
    if not getattr(b, "POWER", False):
        return None
    pins = {}
    if app.clock is not None:
        from firmware.hal.sleep_host import HostSleep  # D101: a board never imports it

        hook = getattr(b, "power_events", None)  # a scenario's outside events (tools/)
        sleeper = HostSleep(app.clock, app.can, hook(app) if hook is not None else ())
        ri = getattr(app.emu, "ri", None) if app.emu is not None else None
        if ri is not None:
            ri.irq(handler=sleeper.ring)
    else:
        from machine import Pin

        from firmware.hal.sleep_machine import BoardSleep  # D101: the host never does

        for key, name in (("can_standby", "CAN_STANDBY_PIN"), ("gps_enable", "GPS_ENABLE_PIN")):
            p = getattr(b, name, None)
            if p is not None:
                pins[key] = Pin(p, Pin.OUT, value=0)
        ri = getattr(b, "MODEM_RI_PIN", None)
        wake = getattr(b, "CAN_WAKE_PIN", None)
        sleeper = BoardSleep(
            Pin(ri, Pin.IN, Pin.PULL_UP) if ri is not None else None,
            Pin(wake, Pin.IN) if wake is not None else None,
            wdt=app.wdt,
            esp32=b.NAME == "esp32",
        )
    return PowerManager(
        b,
        app.vehicle.st,
        sleeper,
        clock=app.clock,
        can=app.can,
        modem=app.modem,
        link=getattr(app, "link", None),
        uplink=app.uplink,
        ticker=app.ticker,
        progress=getattr(app, "progress", None),
        pins=pins,
    )
