# The virtual Twizy's commute: a route of straight segments with speed limits, grades
# and stops, the driver that follows it, and the GPS fix for a distance along it.
# Licence: MIT (this project). Host tool.
#
# D61: the route is fixed (not seeded): 15.75 km from a home in a town to a workplace,
# town streets (50 km/h, lights), a country road (70-80 km/h) over a hill (+64 m at
# 6 %, down at 5 %), back into town; ~25 min with its stops. Headings are multiples of
# 45 degrees so the GPS track needs no trigonometry (one longitude scale for the area).
# The seed varies only how the driver keeps the limits (90-100 %, changing every
# 20-60 s) and how long the stops last (15-45 s).

from tools.sim800emu.base import XorShift

HOME_LAT_E6 = 48_137_000
HOME_LON_E6 = 11_575_000
HOME_ALT_M = 520
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = 74_330.0  # 111,320 m x cos(48.1 deg)
# heading index -> (north, east) unit step, course in degrees
_DIRS = (
    (1.0, 0.0, 0),
    (0.70710678, 0.70710678, 45),
    (0.0, 1.0, 90),
    (-0.70710678, 0.70710678, 135),
    (-1.0, 0.0, 180),
    (-0.70710678, -0.70710678, 225),
    (0.0, -1.0, 270),
    (0.70710678, -0.70710678, 315),
)
# (length m, heading index, limit km/h, grade per mille, stop at the end)
COMMUTE = (
    (400, 2, 30, 0, True),
    (1200, 1, 50, 5, True),
    (900, 0, 50, 0, True),
    (1500, 1, 50, -5, False),
    (2000, 2, 80, 10, False),
    (1070, 2, 70, 60, False),  # the hill: +64 m
    (1280, 3, 70, -50, False),
    (2300, 2, 80, 0, True),
    (1300, 1, 50, 0, True),
    (1000, 0, 50, -3, True),
    (700, 2, 50, 0, True),
    (900, 4, 50, 0, True),
    (650, 2, 40, 0, True),
    (550, 3, 30, 0, True),
)


class Route:
    def __init__(self, segments=COMMUTE):
        self.segments = segments
        self.starts = []  # (start m, lat_e6 float, lon_e6 float, alt_m float)
        d = 0
        lat = float(HOME_LAT_E6)
        lon = float(HOME_LON_E6)
        alt = float(HOME_ALT_M)
        for length, h, _, grade, _ in segments:
            self.starts.append((d, lat, lon, alt))
            n, e, _ = _DIRS[h]
            lat += length * n / M_PER_DEG_LAT * 1e6
            lon += length * e / M_PER_DEG_LON * 1e6
            alt += length * grade / 1000.0
            d += length
        self.length_m = d
        self.end = (d, lat, lon, alt)

    def index(self, m):
        for i in range(len(self.segments) - 1, -1, -1):
            if m >= self.starts[i][0]:
                return i
        return 0

    def fix(self, m, speed_c):
        # GPS row (t_ms left 0, lat_e6, lon_e6, alt_m, speed 1/100 km/h, course)
        if m >= self.length_m:
            _, lat, lon, alt = self.end
            h = self.segments[-1][1]
            return (0, int(lat), int(lon), int(alt), speed_c, _DIRS[h][2])
        i = self.index(m)
        d0, lat, lon, alt = self.starts[i]
        length, h, _, grade, _ = self.segments[i]
        k = m - d0
        n, e, course = _DIRS[h]
        return (
            0,
            int(lat + k * n / M_PER_DEG_LAT * 1e6),
            int(lon + k * e / M_PER_DEG_LON * 1e6),
            int(alt + k * grade / 1000.0),
            speed_c,
            course,
        )


class Driver:
    # sets the model's target speed and grade from its distance along the route
    def __init__(self, route, seed):
        self.route = route
        self.rng = XorShift(seed * 7 + 3)
        self.base_m = 0  # the model's trip distance (m) where the route starts
        self.i = 0
        self.factor = 0.95
        self.next_change_ms = 0
        self.dwell_ms = 0
        self.done = False

    def start(self, model):
        self.base_m = model.trip_mm // 1000
        self.i = 0
        self.done = False
        self.dwell_ms = 0

    def distance_m(self, model):
        return model.trip_mm / 1000.0 - self.base_m

    def control(self, model, dt_ms):
        # set model.target_kmh / grade_pm for this step; -> True when the route is done
        if self.done:
            model.target_kmh = 0.0
            return True
        r = self.route
        m = self.distance_m(model)
        if model.t_ms >= self.next_change_ms:
            self.factor = 0.90 + self.rng.below(11) / 100.0
            self.next_change_ms = model.t_ms + self.rng.between(20, 60) * 1000
        while self.i < len(r.segments) - 1 and m >= r.starts[self.i + 1][0]:
            self.i += 1
        length, _, limit, grade, stop = r.segments[self.i]
        model.grade_pm = grade
        end = r.starts[self.i][0] + length
        left = end - m
        last = self.i == len(r.segments) - 1
        if self.dwell_ms > 0:
            self.dwell_ms -= dt_ms
            model.target_kmh = 0.0
            if self.dwell_ms <= 0:
                self.i += 1  # the light turned green: the next segment
                self.base_m -= left if left > 0 else 0  # count the short stop as reached
            return False
        if (stop or last) and left < 3.0 and model.v < 0.3:
            if last:
                self.done = True
                model.target_kmh = 0.0
                return True
            self.dwell_ms = self.rng.between(15, 45) * 1000
            model.target_kmh = 0.0
            return False
        want = limit * self.factor
        if stop or last:
            # brake so as to stop at the end: v^2 = 2 a d with a gentle 1.0 m/s2
            v_ok = (2.0 * 1.0 * (left - 2.0)) ** 0.5 * 3.6 if left > 2.0 else 0.0
            if v_ok < want:
                want = v_ok if v_ok > 4.0 or left < 3.0 else 4.0
        model.target_kmh = want
        return False
