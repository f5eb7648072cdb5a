# Progress watch: the watchdog is fed only while every part of the module makes progress.
# Licence: MIT (this project).
#
#   p = Progress(clock=ticks_ms)
#   p.watch("ticker", counter=lambda: ticker.ticks, window_ms=5000)
#   p.watch("can", counter=lambda: can.frames, ok=car_quiet, window_ms=10_000)
#   p.check() -> bool      once per feed period (housekeeping): True = feed the watchdog
#   p = watch_app(app)     the app's watches (ticker, CAN, modem, uplinks, supervisor)
#
# A part is stalled when, for window_ms on end, its counter did not move AND its ok()
# (an excuse: "the car is off, a quiet bus is right") was False. counter None: only ok()
# counts (stalled after window_ms of not ok()). ok None: only the counter counts.
# .stalled names the first stalled part ("" when all progress), .stalls counts checks
# that found one. A watch that raises counts as stalled (a broken part is no progress).
# .parts: one list per watch, its name first.
# Allocation: none per check (small ints, a list walked in place).

from ovms import log
from ovms.aio import ticks_add, ticks_diff, ticks_ms
from ovms.compat import const

_TICKER_STALL_TICKS = const(5)  # ticker periods without a tick: stalled
_CAN_STALL_MS = const(10_000)  # no frame for this long while the car is on or charging: stalled
_MODEM_STALL_MS = const(30_000)  # modem stuck OFF (driver: top rung failed twice) this long
_UPLINK_STALL_MS = const(900_000)  # neither logged in nor progressing (back-off <= 300 s)


# D114: one watched part is a list [name, counter, ok, window_ms, value, t_good] (48 bytes
# of heap), not an instance of a class of its own (64 bytes each, plus the class)
_NAME = const(0)
_COUNTER = const(1)
_OK = const(2)
_WINDOW = const(3)
_VALUE = const(4)
_GOOD = const(5)  # ticks of the last moment it was seen progressing


class Progress:
    def __init__(self, clock=ticks_ms):
        self.clock = clock
        self.parts = []
        self.stalled = ""
        self.stalls = 0
        self._log = log.get("progress")

    def watch(self, name, counter=None, ok=None, window_ms=10_000):
        self.parts.append([name, counter, ok, window_ms, None, self.clock()])

    def rested(self):
        # the MCU slept (firmware/power.py): time asleep is no stall; every window
        # starts again now
        now = self.clock()
        for p in self.parts:
            p[_GOOD] = now

    def check(self):
        now = self.clock()
        first = ""
        for p in self.parts:
            try:
                good = p[_OK] is not None and p[_OK]()
                if p[_COUNTER] is not None:
                    v = p[_COUNTER]()
                    if v != p[_VALUE]:
                        p[_VALUE] = v
                        good = True
            except Exception as e:  # a broken part makes no progress
                self._log.error("progress check %s: %r", p[_NAME], e)
                good = False
                p[_GOOD] = ticks_add(now, -p[_WINDOW] - 1)
            if good:
                p[_GOOD] = now
            elif ticks_diff(now, p[_GOOD]) > p[_WINDOW] and not first:
                first = p[_NAME]
        if first:
            if first != self.stalled:
                self._log.error("no progress: %s (watchdog no longer fed)", first)
            self.stalls += 1
        self.stalled = first
        return not first


def car_quiet(st):
    # -> f(): True while the car is neither switched on nor charging (0x597 status:
    # 0x10 switched on, 0x60 == 0x20 charging): then a silent bus is expected
    def quiet():
        s = st.status
        return not (s & 0x10) and (s & 0x60) != 0x20

    return quiet


def watch_app(app):
    # what "progress" means for the app's watchdog feed (issue 9 §1). Its watches live
    # here, not in the boot-only firmware/parts.py: a function made there would keep
    # that module's globals on the heap after boot (D111)
    c = app.clock
    p = Progress(clock=c.ticks_ms if c is not None else ticks_ms)
    t = app.ticker
    p.watch("ticker", counter=lambda: t.ticks, window_ms=_TICKER_STALL_TICKS * app.tick_ms)
    if app.can is not None:
        a = app.can
        p.watch(
            "can", counter=lambda: a.frames, ok=car_quiet(app.vehicle.st), window_ms=_CAN_STALL_MS
        )
    if app.modem is not None:
        m = app.modem
        p.watch("modem", ok=peer(m, "modem_ok"), window_ms=_MODEM_STALL_MS)
    for name in ("uplink", "mqtt"):  # each server link: logged in, or trying (back-off)
        u = getattr(app, name, None)
        moved = peer(u, "progress") if u is not None else None
        if moved is not None:
            p.watch(name, counter=moved, ok=_logged_in(u), window_ms=_UPLINK_STALL_MS)
    sup = app.sup
    p.watch("tasks", ok=lambda: not sup.done.is_set(), window_ms=0)
    return p


def _logged_in(u):
    return lambda: u.logged_in


def peer(obj, what):
    # D54: the ONE place that adapts to the SIM800 driver's and the uplink's progress API
    # (other engineers land Sim800.stuck_off / .progress and Uplink.progress; until then a
    # fallback): -> a function, or None when the peer offers nothing to watch
    if what == "modem_ok":
        if hasattr(obj, "stuck_off"):
            return lambda: not obj.stuck_off
        return lambda: obj.state != "OFF"  # before the driver's stuck_off: OFF = dead
    if what == "progress":
        if hasattr(obj, "progress"):
            return lambda: obj.progress
        return None
    raise ValueError(what)
