# make data-report: mobile data per record type, per day and per 30-day month, for both
# data profiles (rt25, economy), on the virtual Twizy's `day` (tools/vtwizy) or on the real
# traces. Licence: MIT (this project). Host tool (CPython and the MicroPython unix port).
#
#   python3 -m tools.data_report [--scenario day] [--seed 1] [--traces LOG...]
#        [--budget KB] [--nat S] [--drain BYTES] [--quiet]
#
# Fast: no sockets and no asyncio. One frame stream feeds two modelled modules side by
# side, one per profile (tools/data_model.py: the firmware's core and data plan around a
# modelled uplink and server; exact wire bytes, TCP/IP overhead by ovms.datause, D73).
# With --traces the run's bytes stand for a day (comparisons only).
# Reference month (issue 10 §4): 1 h drive + 1 charge a day. Measured: day 2 of a
# two-day run (day 1 warms the module up): the `day` scenario (the ~25 min commute, the
# charge with its unplug, two 12 V top-ups) plus the evening trip home (the `drive`
# scenario at 17:00): ~50 min of driving, then topped up to 60 minutes at the measured
# bytes per driving second (key on .. key off); x 30.
# The last line: "data-report: rt25 <MB> MB/month, economy <MB> MB/month" (10^6 bytes).

import sys

from ovms import datause
from tools.data_model import (  # noqa: F401 (the tests use them from here)
    Car,
    GpsFeed,
    records,
    run,
)

TRIP_S = 17 * 3600  # day 2's evening trip home starts at 17:00


class TwoDays:
    # day 1 (the scenario, seed) warms the module up (first values, first login); day 2,
    # 86400 s later, is measured: the scenario again (seed + 1) and, for `day`, the
    # evening trip home (the `drive` scenario, seed + 2, at 17:00): two commutes and one
    # charge. Frames, GPS rows and events on one clock.
    def __init__(self, name, seed):
        from tools import vtwizy

        day = 86400_000000
        self.segments = [(0, vtwizy.scenario(name, seed)), (day, vtwizy.scenario(name, seed + 1))]
        if name == "day":
            self.segments.append((day + TRIP_S * 1000000, vtwizy.scenario("drive", seed + 2)))
        self.gps_rows = []
        self.events = []
        self.end_us = None
        self._seen = [0] * len(self.segments)  # GPS rows of each segment mirrored
        self._ev = [0] * len(self.segments)  # events of each segment mirrored

    def __iter__(self):
        for k in range(len(self.segments)):
            shift, sc = self.segments[k]
            for t_us, can_id, data in sc:
                self._mirror(k)
                yield t_us + shift, can_id, data
            self._mirror(k)
        self.end_us = 2 * 86400_000000

    def _mirror(self, k):
        # the segment's new GPS rows (in time order; the day's parked rows give way to
        # the trip's for its hour) and events, shifted onto the two-day clock
        shift, sc = self.segments[k]
        shift_ms = shift // 1000
        rows = sc.gps_rows
        trip_ms = 86400_000 + TRIP_S * 1000
        out = self.gps_rows
        while self._seen[k] < len(rows):
            r = rows[self._seen[k]]
            self._seen[k] += 1
            t = r[0] + shift_ms
            if k == 1 and len(self.segments) > 2 and trip_ms <= t < trip_ms + 3600_000:
                continue
            i = len(out)
            while i > 0 and out[i - 1][0] > t:
                i -= 1
            out.insert(i, (t,) + tuple(r[1:]))
        while self._ev[k] < len(sc.events):
            t, what = sc.events[self._ev[k]]
            self.events.append((t + shift_ms, what))
            self._ev[k] += 1


class Meter:
    # what each car used from from_s on, and while driving (key on .. key off, every
    # drive after from_s: bytes and seconds)
    def __init__(self, events, from_s=0):
        self.events = events
        self.from_s = from_s
        self.base = None  # [(total, types copy)] per car at from_s
        self.drive_s = 0
        self.drive = None  # bytes per car while driving
        self._on = None  # (t_s, totals) of the key on being measured
        self._done = 0  # events looked at

    def __call__(self, t_s, cars):
        if self.base is None and t_s >= self.from_s:
            self.base = [(c.du.total(), _copy(c.types)) for c in cars]
            self.drive = [0] * len(cars)
        if self.base is None:
            return
        ev = self.events
        while self._done < len(ev) and ev[self._done][0] <= t_s * 1000:
            t_ms, what = ev[self._done]
            self._done += 1
            if t_ms < self.from_s * 1000:
                continue
            if what == "key on":
                self._on = (t_s, [c.du.total() for c in cars])
            elif what == "key off" and self._on is not None:
                self.drive_s += t_s - self._on[0]
                for k in range(len(cars)):
                    self.drive[k] += cars[k].du.total() - self._on[1][k]
                self._on = None

    def used(self, k, car):
        # bytes and per-type table of car k since from_s
        total, types = self.base[k] if self.base is not None else (0, {})
        out = {}
        for kind, e in car.types.items():
            b = types.get(kind, [0, 0, 0])
            d = [e[0] - b[0], e[1] - b[1], e[2] - b[2]]
            if d[0] or d[2]:
                out[kind] = d
        return car.du.total() - total, out


def _copy(types):
    return {k: list(v) for k, v in types.items()}


def print_table(types):
    # per record type: lines, payload bytes, bytes incl. TCP/IP
    rows = sorted(types.items(), key=lambda kv: -kv[1][2])
    print("  %-26s %8s %10s %12s" % ("type", "lines", "payload B", "incl. TCP/IP"))
    pay = tot = 0
    for k, e in rows:
        print("  %-26s %8d %10d %12d" % (k, e[0], e[1], e[2]))
        pay += e[1]
        tot += e[2]
    print("  %-26s %8s %10d %12d" % ("total", "", pay, tot))


def month_mb(day_bytes, drive_bytes, drive_s):
    # the reference month: the day with its driving topped up to 60 minutes at the
    # measured bytes per driving second, x 30, in MB
    extra = drive_bytes * (3600 - drive_s) // drive_s if 0 < drive_s < 3600 else 0
    return (day_bytes + extra) * 30 / 1e6


def main(argv):
    opts = {"scenario": "day", "seed": "1", "budget": "", "nat": str(datause.NAT_TIMEOUT_S),
            "drain": "0"}  # fmt: skip
    traces = []
    quiet = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--quiet":
            quiet = True
        elif a == "--traces":
            traces = argv[i + 1 :]
            break
        elif a[2:] in opts and a.startswith("--") and i + 1 < len(argv):
            i += 1
            opts[a[2:]] = argv[i]
        else:
            print("usage: python3 -m tools.data_report [--scenario day|charge|drive|parked] "
                  "[--seed N] [--budget KB] [--nat S] [--drain BYTES] [--quiet] "
                  "[--traces LOG...]")  # fmt: skip
            return 2
        i += 1
    for k in ("seed", "nat", "drain"):
        if not opts[k].isdigit():
            print("data-report: --%s takes a number" % k)
            return 2
    if opts["budget"] and not opts["budget"].isdigit():
        print("data-report: --budget takes a number of KB")
        return 2
    if traces:
        from tools.replay_io import frames as trace_frames

        frames, gps, events, name = trace_frames(traces), None, [], "traces"
        from_s = 0
    else:
        from tools import vtwizy

        if opts["scenario"] not in vtwizy.NAMES:
            print("data-report: unknown scenario %r (%s)" % (opts["scenario"], vtwizy.NAMES))
            return 2
        frames = TwoDays(opts["scenario"], int(opts["seed"]))
        gps, events, from_s = GpsFeed(frames.gps_rows), frames.events, 86400
        name = "virtual Twizy %r, day 2 (seed %d) after day 1 (seed %s)" % (
            opts["scenario"], int(opts["seed"]) + 1, opts["seed"])  # fmt: skip
    meter = Meter(events, from_s)
    cars = run(frames, gps=gps, budget=opts["budget"], nat_s=int(opts["nat"]), on_second=meter,
               drain=int(opts["drain"]))  # fmt: skip
    span_s = cars[0].now - from_s
    budget = (opts["budget"] + " KB") if opts["budget"] else "none"
    print("data-report: %s; %d s measured; NAT timeout %s s; budget %s" % (
        name, span_s, opts["nat"], budget))  # fmt: skip
    drive_s = meter.drive_s if meter.drive is not None else 0
    print("measured day: driving (key on .. key off) %d s; reference day: 1 h drive + 1 "
          "charge (the remaining drive time at the measured bytes per driving second)"
          % drive_s)  # fmt: skip
    res = []
    for k, c in enumerate(cars):
        day, types = meter.used(k, c)
        db = meter.drive[k] if meter.drive is not None else 0
        mb = month_mb(day, db, drive_s)
        res.append(mb)
        prof = c.cfg.params[16]
        if not quiet:
            print()
            print("profile %s (whole run: records %d, alerts %d server / %d SMS, sessions %d)"
                  % (prof, records(c), len(c.alerts), len(c.link.sms), c.sessions))  # fmt: skip
            print_table(types)
        print("%s: measured day %d B; while driving %d B; reference day %.1f KB; "
              "30-day month %.3f MB" % (prof, day, db, mb * 1e3 / 30, mb))  # fmt: skip
    print("data-report: rt25 %.2f MB/month, economy %.2f MB/month" % (res[0], res[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
