# The virtual Twizy's scenarios: timelines of parked stretches (no CAN), drives,
# charges and 12 V top-ups, played through the model and the encoder into a lazy
# stream of CAN frames (t_us, can_id, data). Licence: MIT (this project). Host tool.
#
# D63: the scenarios (times of day; every phase is a multiple of 100 ms):
#   day     00:00 parked (night), 03:00 a 4 min 12 V top-up, 07:30 key on, the commute
#           (tools/vtwizy/route.py, ~25 min, the hill in the middle), parked 30 s, key
#           off; 8 min later plugged in: CC then CV; after 75 min unplugged for 3 min
#           (the bus sleeps: "Charging Stopped"), plugged in again, charged to 100 %
#           ("Charging Done"), the charger and the bus switch off; 4 h later a 12 V
#           top-up; parked until 24:00. Start SOC 55 % (+-3 %, seeded).
#   charge  08:05, SOC 30 %: plugged in, charged to 100 %, 30 min parked, a top-up,
#           10 min parked.
#   drive   07:29, SOC 80 %: 1 min parked, the commute, 1 min parked.
#   parked  24 h with no CAN at all (the low-power case); SOC 70 %.
# A drive session: key on (gear N), 20 s later D and off along the route; at its end
# 30 s standing in D, N, key off. The bus then runs its switch-off sequence and falls
# silent (encoder.TAIL_MS).

from tools.vtwizy import encoder as enc
from tools.vtwizy.model import Twizy
from tools.vtwizy.route import Driver, Route

H = 3600
SCENARIOS = {
    "day": (
        0,
        5500,
        (
            ("park", 3 * H),
            ("topup", 240),
            ("park_until", 7.5 * H),
            ("drive",),
            ("park", 480),
            ("charge", 75 * 60, 180),
            ("park", 4 * H),
            ("topup", 240),
            ("park_until", 24 * H),
        ),
    ),
    "charge": (
        8 * H + 300,
        3000,
        (("charge", 0, 0), ("park", 1800), ("topup", 240), ("park", 600)),
    ),
    "drive": (7 * H + 29 * 60, 8000, (("park", 60), ("drive",), ("park", 60))),
    "parked": (0, 7000, (("park", 24 * H),)),
}
NAMES = ("day", "charge", "drive", "parked")
SLOT_US = 100_000
PARK_STEP_MS = 60_000


class Scenario:
    def __init__(self, name, seed=1):
        if name not in SCENARIOS:
            raise ValueError("unknown scenario %r (one of: %s)" % (name, ", ".join(NAMES)))
        self.name = name
        self.seed = seed
        start_ms, soc, self.phases = SCENARIOS[name]
        jitter = (seed * 2654435761 >> 7) % 601 - 300  # +-3 % SOC, the same in both runtimes
        self.model = Twizy(
            seed, soc_cpct=soc + (jitter if name == "day" else 0), start_ms=start_ms * 1000
        )
        self.route = Route()
        self.driver = Driver(self.route, seed)
        self.pay = enc.Payloads(self.model)
        self.t_us = 0
        self.stop_us = None  # truth_at(): stop the stream here
        self.stopped = False
        self.pos_m = 0.0  # where the car stands on the route (0 home, length at work)
        self.gps_rows = []  # (t_ms, lat_e6, lon_e6, alt_m, speed_c, course)
        self.events = []  # (t_ms, what): the timeline as it happened
        self.frames = 0
        self.bus_us = 0  # time with the bus alive
        self.end_us = None  # set when the stream is over

    def __iter__(self):
        return self._run()

    # ---- the stream ----------------------------------------------------------------
    def _run(self):
        self._gps(force=True)
        for ph in self.phases:
            kind = ph[0]
            if kind == "park":
                self._park(int(ph[1] * 1_000_000))
            elif kind == "park_until":
                self._park(int(ph[1] * 1_000_000) - self.t_us)
            elif kind == "topup":
                yield from self._topup(int(ph[1] * 1000))
            elif kind == "drive":
                yield from self._drive()
            elif kind == "charge":
                yield from self._charge(ph[1] * 1000, ph[2] * 1000)
            if self.stopped:
                return
        self.end_us = self.t_us

    def _halt(self):
        if self.stop_us is not None and self.t_us >= self.stop_us:
            self.stopped = True
        return self.stopped

    def _park(self, us):
        end = self.t_us + (us if us > 0 else 0)
        self.model.speed_c = 0
        while self.t_us < end and not self._halt():
            step = end - self.t_us
            if step > PARK_STEP_MS * 1000:
                step = PARK_STEP_MS * 1000
            if self.stop_us is not None and self.stop_us - self.t_us < step:
                step = self.stop_us - self.t_us
            self.model.step(step // 1000, False)
            self.t_us += step
            self._gps()

    def _session(self, state, control, ended=None):
        # one bus session: control(on_ms) sets the model's controls each slot and
        # returns True to end it (or ended() after the model's step: the charger
        # finished in this step); then the switch-off sequence and the tail
        m = self.model
        pay = self.pay
        slots = enc.SLOTS[state]
        on_ms = 0
        off_ms = -1
        tail = enc.TAIL_MS[state]
        while off_ms < tail:
            if self._halt():
                return
            if off_ms < 0 and control(on_ms):
                off_ms = 0
            m.step(100, True)
            if off_ms < 0 and ended is not None and ended():
                off_ms = 0
            pay.new_slot(state, on_ms, off_ms)
            t = self.t_us
            k = (t // SLOT_US) % 10
            third = (t // 1_000_000) % 3 == 0
            alive = pay.alive
            node = enc.NODE
            for off, i, kind in slots[k]:
                if not alive[node[i]] or (kind == 3 and not third):
                    continue
                self.frames += 1
                yield (t + off, i, pay.frame(i))
            self.t_us = t + SLOT_US
            self.bus_us += SLOT_US
            on_ms += 100
            if off_ms >= 0:
                off_ms += 100
            if on_ms % 1000 == 0:
                self._gps()

    def _event(self, what):
        self.events.append((self.t_us // 1000, what))

    def _topup(self, ms):
        m = self.model
        self._event("12 V top-up")

        def control(on_ms):
            m.topup = on_ms < ms
            return on_ms >= ms

        yield from self._session(enc.TOPUP, control)
        if not self.stopped:  # truth_at(): the state as of the stop, untouched
            m.topup = False

    def _drive(self):
        m = self.model
        drv = self.driver
        st = {"phase": 0, "t": 0}
        self._event("key on")
        m.key_on = True
        m.gear = "N"

        def control(on_ms):
            ph = st["phase"]
            if ph == 0 and on_ms >= 20_000:
                m.gear = "D"
                drv.start(m)
                st["phase"] = 1
                self._event("drive")
            elif ph == 1:
                self.pos_m = drv.distance_m(m)
                if drv.control(m, 100):
                    st["phase"] = 2
                    st["t"] = on_ms
                    self._event("parked")
            elif ph == 2 and on_ms - st["t"] >= 30_000:
                m.gear = "N"
                m.key_on = False
                m.grade_pm = 0
                self._event("key off")
                return True
            return False

        yield from self._session(enc.DRIVE, control)
        if not self.stopped:
            m.key_on = False
            self.pos_m = float(self.route.length_m)

    def _charge(self, unplug_after_ms, unplug_ms):
        m = self.model
        m.charge_done = False
        st = {"unplug": unplug_after_ms}
        while True:
            self._event("plug in")

            def control(on_ms):
                m.plugged = on_ms >= enc.RUNNING_AFTER_MS[enc.CHARGE]
                if st["unplug"] and on_ms >= st["unplug"]:
                    m.plugged = False
                    self._event("unplug")
                    return True
                return False

            def done():
                if m.charge_done:
                    self._event("charge done")
                return m.charge_done

            yield from self._session(enc.CHARGE, control, done)
            if self.stopped or not st["unplug"]:
                break
            st["unplug"] = 0
            self._park(unplug_ms * 1000)
            if self.stopped:
                return
        if not self.stopped:
            m.plugged = m.charge_done  # done: it stays plugged in (top-ups)

    # ---- GPS and truth ---------------------------------------------------------------
    def _gps(self, force=False):
        m = self.model
        row = self.route.fix(self.pos_m, m.speed_c)
        t = self.t_us // 1000
        rows = self.gps_rows
        if not force and rows and rows[-1][1:] == row[1:] and t - rows[-1][0] < 60_000:
            return
        rows.append((t,) + row[1:])

    def gps_at(self, t_ms):
        # the GPS fix at scenario time t_ms (the last one recorded at or before it)
        rows = self.gps_rows
        lo, hi = 0, len(rows)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if rows[mid][0] <= t_ms:
                lo = mid
            else:
                hi = mid
        return rows[lo] if rows else None

    def truth(self):
        # the model's values now (as of the last frame taken from the stream)
        t = self.model.truth()
        t["t_us"] = self.t_us
        return t

    def truth_at(self, t_us):
        # the model's values at scenario time t_us (a second run with the same seed)
        s = Scenario(self.name, self.seed)
        s.stop_us = t_us
        for _ in s:
            pass
        return s.truth()
