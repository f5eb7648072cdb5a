# The virtual Twizy's physics: battery, cells, temperatures, motion, charger, 12 V.
# Licence: MIT (this project). Host tool: device code never imports it.
#
# One Twizy 80 (battery 14 cells in series, 7 modules, ~105 Ah usable), stepped every
# 100 ms by the scenario (tools/vtwizy/scenarios.py) which sets the controls:
#   key_on, gear ("N" | "D" | "R"), target_kmh + grade_pm (drive), plugged (charger),
#   topup (the 12 V DC/DC top-up while parked).
# Everything the CAN frames carry is held as an integer in the unit the frame uses, so
# the encoder (tools/vtwizy/encoder.py) only packs bits and the cross-check test can
# compare decoded values with truth() exactly. Floats only for the slow physics
# (temperatures, drag); + - * / on IEEE doubles: the same in CPython and MicroPython.
#
# D60: the model's constants, chosen from the traces and the spec where they speak:
#   capacity 105 Ah (6.1 kWh at 58 V); charger CC 33 A until 94.00 % SOC, then CV: the
#   current falls with the remaining charge (33 A x remaining/6 %) down to 2 A, done at
#   100.00 % (the spec's 180 min CC / 40 min CV model, §4.1); cell OCV 3.40 V (0 %) ..
#   4.10 V (100 %) piecewise linear, 2 mOhm per cell (the traces: 4.09-4.11 V at 96 %,
#   4.13-4.14 V at the end of a charge); one cell drifts -4 mV per hour of bus time
#   plus its seeded start offset; mass 530 kg, CdA 0.9 m2, Crr 0.012, drive efficiency
#   85 %, regeneration 60 %, auxiliaries 200 W while the key is on; range at 100 %
#   80 km at 20 C, 1 % less per degree below (the car does not update it while
#   charging: held).

from tools.sim800emu.base import XorShift

N_CELLS = 14
N_MODULES = 7
CAP_MAS = 105 * 3600 * 1000  # usable capacity, mA*s
CC_MA = 33000
CV_FROM_CPCT = 9400
CV_MIN_MA = 2000
R_CELL_UOHM = 2000
AUX_W = 200
RANGE100_KM = 80
DRIFT_UV_PER_H = -4000  # the drifting cell, per hour of bus time
MASS_KG = 530.0
CDA = 0.9
CRR = 0.012
G = 9.81
ACCEL = 1.1  # m/s2 the driver uses
BRAKE = 1.6
# open-circuit cell voltage: (SOC 1/100 %, mV)
_OCV = (
    (0, 3400),
    (1000, 3620),
    (2000, 3700),
    (5000, 3800),
    (8000, 3950),
    (9400, 4060),
    (10000, 4100),
)


def ocv_mv(soc_cpct):
    p = _OCV[0]
    for q in _OCV[1:]:
        if soc_cpct <= q[0]:
            return p[1] + (q[1] - p[1]) * (soc_cpct - p[0]) // (q[0] - p[0])
        p = q
    return _OCV[-1][1]


def t40(c):
    # degC -> the frames' "degC + 40" byte (1..239, rounded half up)
    r = int(c + 40.5) if c > -40 else 1
    return 1 if r < 1 else (239 if r > 239 else r)


def ambient_c(day_ms):
    # a spring day: 6 C before dawn, 17 C mid-afternoon (piecewise linear on the hour)
    h = (day_ms // 1000) % 86400 / 3600.0
    pts = ((0.0, 8.0), (5.0, 6.0), (15.0, 17.0), (24.0, 8.0))
    for i in range(1, len(pts)):
        if h <= pts[i][0]:
            a, b = pts[i - 1], pts[i]
            return a[1] + (b[1] - a[1]) * (h - a[0]) / (b[0] - a[0])
    return 8.0


class Twizy:
    def __init__(self, seed=1, soc_cpct=5500, odo_km=None, start_ms=0):
        r = XorShift(seed)
        self.rng = r
        self.seed = seed
        self.t_ms = start_ms  # time of day of the scenario's start (ambient), ms
        self.bus_ms = 0  # bus-alive time (the drifting cell ages with it)
        # battery
        self.charge_mas = CAP_MAS * soc_cpct // 10000
        self.current_ma = 0  # + = drawn from the battery
        self.cell_off_uv = [r.between(-4000, 4000) for _ in range(N_CELLS)]
        self.drift_cell = r.below(N_CELLS)
        self.drift_uv0 = -r.between(5000, 10000)
        self.mod_off_c = [(r.between(-10, 10)) / 10.0 for _ in range(N_MODULES)]
        amb = ambient_c(start_ms)
        self.mod_c = [amb + o for o in self.mod_off_c]
        self.motor_c = amb
        self.inverter_c = amb
        self.charger_c = amb
        # motion
        km = odo_km if odo_km is not None else 8000 + r.below(30000)
        self.odo_mm = km * 1_000_000 + r.below(1_000_000)
        self.speed_c = 0  # 1/100 km/h
        self.v = 0.0  # m/s
        self.accel = 0.0  # m/s2 of the last step
        self.trip_mm = 0
        self.alt_mm = 0  # relative to the start of the route
        self._mm_rest = 0
        # controls (the scenario sets them)
        self.key_on = False
        self.gear = "N"
        self.target_kmh = 0.0
        self.grade_pm = 0  # road grade, per mille (+ = uphill)
        self.plugged = False
        self.topup = False
        # charger / 12 V
        self.charging = False
        self.cv = False
        self.charge_done = False
        self.dcdc_da = 0  # 12 V DC/DC current, 1/10 A
        self.range_km = self._range_now()
        self.vin = "".join([chr(48 + r.below(10)) for _ in range(7)])

    # ---- derived values (exactly what the frames carry) ---------------------------
    def soc_cpct(self):
        c = self.charge_mas * 10000 // CAP_MAS
        return 0 if c < 0 else (10000 if c > 10000 else c)

    def soc_raw(self):
        # 0x155 b4 b5: SOC% x 400 (1..40000)
        s = self.charge_mas * 40000 // CAP_MAS
        return 1 if s < 1 else (40000 if s > 40000 else s)

    def current_q(self):
        # battery current in 1/4 A (+ = discharge), the unit of 0x155's power field
        q = self.current_ma // 250 if self.current_ma >= 0 else -(-self.current_ma // 250)
        return -1839 if q < -1839 else (1999 if q > 1999 else q)

    def cells_raw(self):
        # 14 cell voltages in 5 mV (the 12-bit unit of 0x556/0x557/0x55E)
        ocv = ocv_mv(self.soc_cpct()) * 1000
        drop = self.current_ma * R_CELL_UOHM // 1000  # uV
        out = []
        for i in range(N_CELLS):
            uv = ocv - drop + self.cell_off_uv[i]
            if i == self.drift_cell:
                uv += self.drift_uv()
            out.append(uv // 5000)
        return out

    def drift_uv(self):
        return self.drift_uv0 + DRIFT_UV_PER_H * self.bus_ms // 3_600_000

    def pack_dv(self):
        # pack voltage in 1/10 V: the sum of the cells
        return sum(self.cells_raw()) * 5 // 100

    def temps_raw(self):
        # 7 module temperatures, degC + 40
        return [t40(c) for c in self.mod_c]

    def odo_10m(self):
        return self.odo_mm // 10000

    def _range_now(self):
        amb = ambient_c(self.t_ms)
        r100 = RANGE100_KM * (100 - (20 - amb if amb < 20 else 0)) / 100
        return int(r100 * self.soc_cpct() / 10000)

    def motor_rpm(self):
        # 80 km/h = 7000 rpm; negative in reverse
        rpm = self.speed_c * 7000 // 8000
        return -rpm if self.gear == "R" else rpm

    # ---- stepping -------------------------------------------------------------------
    def step(self, dt_ms, bus_alive):
        self.t_ms += dt_ms
        if bus_alive:
            self.bus_ms += dt_ms
        dt = dt_ms / 1000.0
        if self.key_on and self.gear != "N":
            self._drive(dt)
        else:
            self._coast_to_stop(dt)
        self._charger()
        p_w = self._power_w()
        if self.charging:
            self.current_ma = self._charge_ma()
        else:
            pack_v = ocv_mv(self.soc_cpct()) * N_CELLS / 1000.0
            self.current_ma = int(p_w / pack_v * 1000)
        self.charge_mas -= self.current_ma * dt_ms // 1000
        if self.charge_mas > CAP_MAS:
            self.charge_mas = CAP_MAS
        if self.charge_mas < 0:
            self.charge_mas = 0
        self._move(dt_ms)
        self._temps(dt, p_w)
        self._dcdc()
        if not self.charging:
            self.range_km = self._range_now()  # the car holds it while charging

    def _drive(self, dt):
        want = self.target_kmh / 3.6
        v = self.v
        if want > v:
            a = ACCEL if want - v > ACCEL * dt else (want - v) / dt
        else:
            a = -BRAKE if v - want > BRAKE * dt else (want - v) / dt
        self.accel = a
        v += a * dt
        self.v = v if v > 0 else 0.0

    def _coast_to_stop(self, dt):
        v = self.v - BRAKE * dt
        self.accel = -BRAKE if self.v > 0 else 0.0
        self.v = v if v > 0 else 0.0

    def _power_w(self):
        # battery power, W (+ = drawn)
        if self.charging:
            return 0.0
        if not self.key_on:
            return 60.0 if self.topup else 0.0
        v = self.v
        f = MASS_KG * (self.accel + G * (CRR + self.grade_pm / 1000.0)) + 0.6 * CDA * v * v
        if v <= 0.0:
            f = 0.0
        mech = f * v
        p = mech / 0.85 if mech > 0 else mech * 0.6
        return p + AUX_W

    def _charger(self):
        if not self.plugged:
            self.charging = False
            self.cv = False
            return
        if self.charge_done:
            self.charging = False
            return
        self.charging = True
        if self.soc_cpct() >= CV_FROM_CPCT:
            self.cv = True
        if self.charge_mas >= CAP_MAS:
            self.charging = False
            self.charge_done = True

    def _charge_ma(self):
        if not self.cv:
            return -CC_MA
        rest = CAP_MAS - self.charge_mas  # remaining mA*s
        ma = CC_MA * rest // (CAP_MAS * (10000 - CV_FROM_CPCT) // 10000)
        if ma < CV_MIN_MA:
            ma = CV_MIN_MA
        return -(CC_MA if ma > CC_MA else ma)

    def _move(self, dt_ms):
        self.speed_c = int(self.v * 360 + 0.5)  # m/s -> 1/100 km/h
        mm = self.v * dt_ms + self._mm_rest
        whole = int(mm)
        self._mm_rest = mm - whole
        self.odo_mm += whole
        self.trip_mm += whole
        self.alt_mm += whole * self.grade_pm // 1000

    def _temps(self, dt, p_w):
        amb = ambient_c(self.t_ms)
        i_a = self.current_ma / 1000.0
        heat = i_a * i_a * 5e-7  # C/s per A2: 28 mOhm I2R into ~60 kJ/K
        for m in range(N_MODULES):
            c = self.mod_c[m]
            self.mod_c[m] = c + dt * (heat - (c - amb - self.mod_off_c[m]) / 5400.0)
        load = p_w / 4000.0 if p_w > 0 else -p_w / 8000.0
        self.motor_c += dt * (load * 0.05 - (self.motor_c - amb) / 900.0)
        self.inverter_c += dt * (load * 0.04 - (self.inverter_c - amb) / 600.0)
        ch = 0.012 * (-i_a) if self.charging else 0.0
        self.charger_c += dt * (ch - (self.charger_c - amb) / 1200.0)

    def _dcdc(self):
        if self.key_on:
            self.dcdc_da = 76 + int(self.accel * 3)
        elif self.topup:
            self.dcdc_da = 40
        elif self.charging:
            self.dcdc_da = 6
        else:
            self.dcdc_da = 0

    # ---- the truth, as the decoder should see it --------------------------------------
    def truth(self):
        return {
            "t_ms": self.t_ms,
            "soc_cpct": self.soc_raw() >> 2,
            "current_q": self.current_q(),
            "speed_c": self.speed_c,
            "odo_10m": self.odo_10m(),
            "range_km": self.range_km,
            "cells_5mv": self.cells_raw(),
            "temps_raw": self.temps_raw(),
            "pack_dv": self.pack_dv(),
            "motor_c": t40(self.motor_c) - 40,
            "inverter_c": t40(self.inverter_c) - 40,
            "charger_c": t40(self.charger_c) - 40,
            "key_on": self.key_on,
            "gear": self.gear,
            "plugged": self.plugged,
            "charging": self.charging,
            "cv": self.cv,
            "charge_done": self.charge_done,
            "dcdc_da": self.dcdc_da,
            "drift_cell": self.drift_cell + 1,
            "alt_m": self.alt_mm // 1000,
            "vin": self.vin,
        }
