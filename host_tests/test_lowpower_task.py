# The power task (firmware/power.py) and the sleep HAL (firmware/hal/sleep.py) with small
# fakes: the parts switched per state, the work bound (D85), the watchdog around a board
# sleep (D89), the host sleep's wake sources, and no allocation per look on MicroPython.
# Virtual time only. Both runtimes and the emulated Cortex-M (no sockets).
# Licence: MIT (this project).
import sys

from support import run_async

from firmware.hal.sleep import WAKE_CAN, WAKE_RI, WAKE_TIMER
from firmware.hal.sleep_host import HostSleep
from firmware.hal.sleep_machine import BoardSleep
from firmware.power import BUSY_MAX_MS, MINUTE_MS, SLEEP_CATCHUP, PowerManager
from firmware.simclock import VirtualClock
from ovms.powerstate import CHARGING, DRIVING, PARKED_ASLEEP, PARKED_AWAKE, QUIET_MS


class _Board:
    import firmware.boards.pyboard as _p

    POWER_MV = _p.POWER_MV
    POWER_UA = _p.POWER_UA
    POWER_EFF_PCT = _p.POWER_EFF_PCT
    CAN_STANDBY_PIN = "X6"
    SLEEP_MAX_MS = 15_000
    WAKE_MS = 200
    GNSS = True


class _St:
    status = 0


class _Pin:
    def __init__(self):
        self.v = None
        self.handler = None
        self.trigger = None
        self.wake = None

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v

    IRQ_FALLING = 2
    WAKE_LOW = 4

    def irq(self, handler=None, trigger=None, wake=None):
        self.handler = handler
        self.trigger = trigger
        self.wake = wake


class _Modem:
    def __init__(self):
        self.state = "READY"
        self.work = False
        self.asleep = False
        self.rang = 0
        self.gnss = True
        self.cmds = []
        self.counters = {"sms_out": 0}

    def busy(self):
        return self.work

    async def doze(self):
        if self.work:
            return False
        self.asleep = True
        return True

    def rouse(self):
        self.asleep = False

    def ring(self):
        self.rang += 1

    async def cmd(self, text):
        self.cmds.append(text)
        return []


class _Outbox:
    def __init__(self):
        self.n = 0

    def queued(self):
        return self.n


class _Link:
    def __init__(self):
        self.outbox = _Outbox()
        self.sms_outbox = _Outbox()


class _Uplink:
    logged_in = True
    bytes_in = 0
    bytes_out = 0


class _Ticker:
    ticks = 0
    catchup = 3
    period_ms = 1000


class _Can:
    frames = 0


class _Sleeper:
    def __init__(self):
        self.sleeps = 0
        self.ri = False
        self.wakes = [0, 0, 0]

    async def sleep(self, ms):
        self.sleeps += 1
        return WAKE_TIMER


def _pm(clock=None, **kw):
    c = clock or VirtualClock(speed=0)
    parts = {
        "can": _Can(),
        "modem": _Modem(),
        "link": _Link(),
        "uplink": _Uplink(),
        "ticker": _Ticker(),
        "pins": {"can_standby": _Pin(), "gps_enable": _Pin()},
    }
    parts.update(kw)
    pm = PowerManager(_Board, _St(), parts.pop("sleeper", _Sleeper()), clock=c, **parts)
    pm.last_can_ms = 0
    pm._t_last = 0
    return pm, c


def test_each_state_switches_the_parts():
    pm, c = _pm()
    pins = pm.pins
    m = pm.modem

    async def body():
        pm.st.status = 0x10  # switched on
        assert pm.look() == DRIVING
        await pm._apply(DRIVING)
        assert pins["can_standby"].v == 0 and pins["gps_enable"].v == 1 and not m.asleep
        assert m.cmds == []  # the GNSS was on already
        pm.st.status = 0x20  # charging
        assert pm.look() == CHARGING
        await pm._apply(CHARGING)
        assert pins["gps_enable"].v == 0 and m.cmds == ["AT+CGNSPWR=0"] and not m.gnss
        pm.st.status = 0
        c.advance(QUIET_MS + 1)
        assert pm.look() == PARKED_ASLEEP
        await pm._apply(PARKED_ASLEEP)
        assert pins["can_standby"].v == 1 and m.asleep and pm.applied == PARKED_ASLEEP
        assert pm.ticker.catchup == SLEEP_CATCHUP
        # an SMS: the modem has work -> awake, and the modem is roused
        m.work = True
        assert pm.look() == PARKED_AWAKE
        await pm._apply(PARKED_AWAKE)
        assert not m.asleep and pins["can_standby"].v == 0
        assert pm.ticker.catchup == 3  # no sleep's ticks to catch up: the stall rule again
        pm.st.status = 0x10
        assert pm.look() == DRIVING
        await pm._apply(DRIVING)
        assert m.cmds == ["AT+CGNSPWR=0", "AT+CGNSPWR=1"] and m.gnss

    run_async(body())


def test_doze_refused_keeps_the_state_unapplied():
    pm, c = _pm()
    m = pm.modem

    async def body():
        c.advance(QUIET_MS + 1)
        assert pm.look() == PARKED_ASLEEP
        m.work = True  # work came in while the doze was about to start
        await pm._apply(PARKED_ASLEEP)
        assert pm.applied != PARKED_ASLEEP and not m.asleep

    run_async(body())


def test_work_that_never_ends_stops_counting_after_busy_max():
    pm, c = _pm()
    pm.link.outbox.n = 5  # a server that never acknowledges
    c.advance(QUIET_MS + 1)
    assert pm.look() == PARKED_AWAKE and pm.rules.reason == "work"
    c.advance(BUSY_MAX_MS + 1)
    assert pm.look() == PARKED_AWAKE and pm.stuck_work == 1  # the linger after work
    c.advance(10_000)
    assert pm.look() == PARKED_ASLEEP
    c.advance(60_000)
    assert pm.look() == PARKED_ASLEEP and pm.stuck_work == 1  # counted once
    pm.link.outbox.n = 0
    pm.look()
    pm.link.outbox.n = 1  # new work later counts again
    assert pm.look() == PARKED_AWAKE


def test_link_work_needs_a_way_out():
    pm, c = _pm()
    c.advance(QUIET_MS + 1)
    pm.link.sms_outbox.n = 1
    pm.modem.state = "INIT"
    pm.modem.work = False
    assert pm.look() == PARKED_ASLEEP  # an alert waits, but no modem to send it yet
    pm.modem.state = "READY"
    assert pm.look() == PARKED_AWAKE
    pm.link.sms_outbox.n = 0
    pm.link.outbox.n = 3
    pm.uplink.logged_in = False
    assert pm.look() == PARKED_AWAKE and pm.rules.reason == "linger"
    c.advance(10_000)
    assert pm.look() == PARKED_ASLEEP  # records wait for the next session


def test_ri_while_awake_reaches_the_modem_and_frames_keep_awake():
    pm, c = _pm()
    pm.sleeper.ri = True
    pm.look()
    assert pm.modem.rang == 1 and not pm.sleeper.ri
    c.advance(QUIET_MS - 10)
    pm.can.frames = 7  # a frame now: the quiet window starts again
    assert pm.look() == PARKED_AWAKE and pm.last_can_ms == c.now
    c.advance(QUIET_MS - 1)
    assert pm.look() == PARKED_AWAKE
    c.advance(1)
    assert pm.look() == PARKED_ASLEEP


def test_sleep_once_books_time_and_stops_at_the_minute_or_the_board_maximum():
    clock = VirtualClock(speed=0)
    sl = HostSleep(clock)
    pm, c = _pm(clock, sleeper=sl)

    async def body():
        c.advance(QUIET_MS + 30_000)  # 5.5 min: the next minute is 30 s away
        pm.look()
        await pm._apply(PARKED_ASLEEP)
        t0 = c.now
        n = pm.ledger.totals()[PARKED_ASLEEP]
        # the wake window is simulated time too: run the clock beside the task
        import asyncio

        tk = asyncio.create_task(c.run())
        try:
            await pm._sleep_once()
        finally:
            tk.cancel()
        # pyboard class: at most 15 s (D89), then the minute's work (200 ms)
        assert sl.slept_ms == 15_000 and sl.wakes[WAKE_TIMER] == 1
        assert c.now >= t0 + 15_000 + 200
        assert pm.ledger.totals()[PARKED_ASLEEP] - n >= 15_000
        assert pm._tick_goal == 15  # 15 ticks to catch up before the next sleep
        assert pm.holding()  # the clock waits for them (host)
        pm.ticker.ticks = 15
        assert not pm.holding()
        assert MINUTE_MS - (t0 % MINUTE_MS) == 30_000

    run_async(body())


def test_look_allocates_nothing_on_micropython():
    if sys.implementation.name != "micropython":
        return
    import micropython

    pm, c = _pm()
    pm.look()  # the first look books the first hour's row
    c.advance(250)
    pm.look()
    c.advance(250)
    micropython.heap_lock()
    try:
        s = pm.look()
    finally:
        micropython.heap_unlock()
    assert s == PARKED_AWAKE


class _Can2:
    # the fake bus as HostSleep sees it (firmware/hal/can_fake.FakeCan's surface)
    def __init__(self, due):
        self.due = due
        self.started = True
        self._t0 = 1_000

    def next_due_ms(self):
        return self.due


def test_host_sleep_ends_at_the_first_frame_an_event_or_ri():
    c = VirtualClock(speed=0)
    can = _Can2(5_000)  # a frame at 6 s on the clock
    ev = [None]
    sl = HostSleep(c, can, [lambda: ev[0]])

    async def body():
        assert await sl.sleep(60_000) == WAKE_CAN and c.now == 6_000
        can.due = -1  # the bus is silent
        assert await sl.sleep(60_000) == WAKE_TIMER and c.now == 66_000
        ev[0] = 70_000  # an outside event (a scenario's SMS) that raises RI
        c.on_step(lambda now: sl.ring() if now >= 70_000 and ev[0] else None)
        assert await sl.sleep(60_000) == WAKE_RI and c.now == 70_000
        ev[0] = None
        sl.ring()  # RI already low: no sleep at all
        assert await sl.sleep(60_000) == WAKE_RI and c.now == 70_000
        assert sl.wakes == [1, 1, 2] and sl.slept_ms == 70_000 - 0 and sl.sleeps == 3

    run_async(body())


class _Machine:
    SLEEP = 2

    def __init__(self):
        self.slept = []

    def lightsleep(self, ms):
        self.slept.append(ms)


class _Wdt:
    fed = 0

    def feed(self):
        self.fed += 1


def test_board_sleep_arms_the_pins_and_feeds_the_watchdog():
    for esp32 in (False, True):
        m = _Machine()
        ri, can, wdt = _Pin(), _Pin(), _Wdt()
        sl = BoardSleep(ri, can, wdt=wdt, machine_mod=m, esp32=esp32)
        if esp32:
            assert ri.trigger == ri.WAKE_LOW and ri.wake == m.SLEEP and can.wake == m.SLEEP
        else:
            assert ri.trigger == ri.IRQ_FALLING and can.trigger == can.IRQ_FALLING

        async def body(sl=sl, ri=ri, can=can, m=m):
            assert await sl.sleep(15_000) == WAKE_TIMER and m.slept == [15_000]
            ri.handler(ri)  # RI fell (IRQ)
            assert await sl.sleep(15_000) == WAKE_RI and len(m.slept) == 1  # no sleep
            can.handler(can)  # the CAN line moved
            assert await sl.sleep(15_000) == WAKE_CAN
            assert sl.wakes == [1, 1, 1] and sl.sleeps == 3

        run_async(body())
        assert wdt.fed == 6  # before and after each sleep (D89)


def test_a_modem_without_dtr_does_not_keep_the_mcu_awake():
    pm, c = _pm()
    m = pm.modem
    m.dtr = None  # no sleep mode wired: the modem stays idle, the MCU still sleeps

    async def no_doze():
        return False

    m.doze = no_doze

    async def body():
        c.advance(QUIET_MS + 1)
        assert pm.look() == PARKED_ASLEEP
        await pm._apply(PARKED_ASLEEP)
        assert pm.applied == PARKED_ASLEEP and not pm._modem_awake()

    run_async(body())


def test_a_modem_woken_for_its_own_traffic_dozes_again():
    pm, c = _pm()
    m = pm.modem
    m.dtr = _Pin()

    async def body():
        c.advance(QUIET_MS + 1)
        pm.look()
        await pm._apply(PARKED_ASLEEP)
        assert m.asleep and not pm._modem_awake()
        m.asleep = False  # DTR pulled low by the driver to send (a TCP ping)
        assert pm._modem_awake()  # the loop applies the state again
        await pm._apply(PARKED_ASLEEP)
        assert m.asleep

    run_async(body())
