# Replay engine: the module built from the options, the clock that ticks it,
# the link that prints what it says, and the final state as JSON.
# Runs under CPython and inside the MicroPython unix port. Licence: MIT (this project).
#
# Idle time in one step (decision D47). A replay with a long gap between frames
# or a large --until would tick once per simulated second (10^8 s = 10^8 ticks:
# hours). When nothing can happen the ticks are skipped in one step, with the
# same output as ticking every second:
#   at every minute tick (tick % 60 == 0) the whole module state is compared
#   with the state one minute earlier. The tick depends on the tick counter
#   only through tick % 5, tick % 60 and the critical-SOC repeat (tick minus
#   the last alert's tick, checked at minute ticks). So when a whole minute
#   had no input (frame, fix), no output (record, SMS) and ends in the state it
#   started from (tick counter aside), every following minute repeats it
#   exactly: the clock may jump by whole minutes, up to the next input and never
#   onto a minute tick where the critical-SOC repeat could fire again.
# `--exact-ticks` turns this off (the tests compare both ways).

from ovms.config import Config
from ovms.sms import SmsInterpreter
from ovms.store import Store
from ovms.twizy import vehicle as vehicle_mod
from ovms.twizy.state import DROP_COUNTERS
from ovms.twizy.vehicle import Twizy
from ovms.units import mi2km

SECOND_US = 1000000
MINUTE_US = 60 * SECOND_US
# the critical-SOC alert repeats after this many ticks (checked at minute ticks)
_CRITICAL_REPEAT_S = getattr(vehicle_mod, "_CRITICAL_SOC_REPEAT_S", 12 * 3600)

# registered owner of a replay without --config (a fixed, made-up number)
REPLAY_OWNER = "+4915100000000"


class ReplayLink:
    # the module's view of the outside world during a replay: a server that is
    # always connected, an owner phone that always receives
    def __init__(self, vehicle, records, alerts):
        self.vehicle = vehicle
        self.print_records = records
        self.print_alerts = alerts

    def server_ready(self):
        return True

    def sms_ready(self):
        return True

    def send_server(self, lines):
        if self.print_records:
            t = self.vehicle.st.tick
            for line in lines:
                # a CR inside a push text would overwrite the line on a
                # terminal: shown as the two characters \r
                print("[t=%d] %s" % (t, line.replace("\r", "\\r")))

    def send_sms(self, text):
        if self.print_alerts:
            print("[t=%d] SMS> %s" % (self.vehicle.st.tick, text.replace("\n", "\\n")))


class _Counting:
    # wraps a link: counts what the module sends (the idle check needs it)
    def __init__(self, link):
        self.link = link
        self.sent = 0

    def server_ready(self):
        return self.link.server_ready()

    def sms_ready(self):
        return self.link.sms_ready()

    def send_server(self, lines):
        self.sent += 1
        self.link.send_server(lines)

    def send_sms(self, text):
        self.sent += 1
        self.link.send_sms(text)


def _freeze(v, seen):
    # a comparable deep copy of plain data and the objects it holds
    if v is None or isinstance(v, (bool, int, str, bytes, float)):
        return v
    if isinstance(v, (list, tuple)):
        return tuple([_freeze(x, seen) for x in v])
    if isinstance(v, dict):
        return {k: _freeze(x, seen) for k, x in v.items()}
    try:
        return bytes(v)  # bytearray, array, memoryview
    except (TypeError, ValueError):
        pass
    d = getattr(v, "__dict__", None)
    if d is None or id(v) in seen:
        return type(v).__name__
    seen.append(id(v))
    return _freeze(d, seen)


def snapshot(vehicle):
    # everything a tick can read or write, except the tick counter itself
    d = dict(vehicle.__dict__)
    d.pop("cfg", None)
    st = dict(vehicle.st.__dict__)
    st.pop("tick", None)
    d["st"] = st
    return _freeze(d, [])


class Replayer:
    def __init__(self, vehicle, link, skip_idle=True):
        self.vehicle = vehicle
        self.link = _Counting(link)
        self.t0 = None
        self.next_tick = None
        self.slot = bytearray(8)
        self.skip_idle = skip_idle
        self.inputs = 0  # frames and fixes handed to the module
        self.ticks_skipped = 0
        self._mark = None  # (snapshot, inputs, sent) at the last minute tick
        self._idle = False

    def _tick(self):
        v = self.vehicle
        v.tick()
        v.dispatch(self.link)
        self.next_tick += SECOND_US
        if self.skip_idle and v.st.tick % 60 == 0:
            mark = (snapshot(v), self.inputs, self.link.sent)
            self._idle = mark == self._mark
            self._mark = mark

    def _jump(self, t):
        # at a minute tick after an idle minute: skip whole minutes that end
        # before t and before the critical-SOC repeat could fire again
        st = self.vehicle.st
        minutes = (t - self.next_tick) // MINUTE_US
        last = st.critical_soc_tick
        if last is not None:
            minutes = min(minutes, (last + _CRITICAL_REPEAT_S - st.tick - 1) // 60)
        if minutes > 0:
            st.tick += minutes * 60
            self.next_tick += minutes * MINUTE_US
            self.ticks_skipped += minutes * 60
        self._idle = False  # look again one minute later

    def _run_to(self, t):
        # every tick whose time is <= t
        while t >= self.next_tick:
            self._tick()
            if self._idle:
                self._jump(t)

    def advance(self, t):
        # run every tick the clock passes on its way to t
        if self.t0 is None:
            return
        self._run_to(t)

    def frame(self, t, can_id, data):
        if self.t0 is None:
            self.t0 = t
            self.next_tick = t + SECOND_US
        self._run_to(t)
        self.inputs += 1
        n = len(data)
        self.slot[:n] = data
        self.vehicle.frame(can_id, self.slot, n)

    def fix(self, t, fix):
        # a GPS fix (t, lat_e6, lon_e6, alt_m, speed_kph, direction)
        self.advance(t)
        self.inputs += 1
        _, lat, lon, alt, _speed, direction = fix
        self.vehicle.gps_fix(lat, lon, alt, direction)

    def finish(self, until_us):
        if self.t0 is None:
            return
        self._tick()  # the final tick after the last frame
        if until_us is not None:
            self._run_to(self.t0 + until_us)


def _load_config(opts):
    # --config FILE: the stored settings (FILE.a/FILE.b as tools.console writes
    # them), read-only: the replay never writes the file; --units/--param/
    # --feature override them
    path = opts.get("config")
    if path:
        cfg = Store(path).load()
        cfg.store = None
        if opts.get("units_set"):
            cfg.set_param(2, opts["units"], save=False)
    else:
        cfg = Config({0: REPLAY_OWNER, 2: opts["units"], 3: "SMS,IP"})
    for k, text in opts["params"]:
        cfg.set_param(k, text, save=False)
    for k, text in opts["features"]:
        cfg.set_feature(k, text, save=False)
    return cfg


def build(opts):
    # -> (vehicle, SMS framework, sender of --sms: default the owner)
    cfg = _load_config(opts)
    # what the module says: the owner decisions D65-D68 (D69); --exact: the 2013 module
    vehicle = Twizy(cfg, exact=bool(opts.get("exact")))
    sender = opts.get("sender")
    if sender is None:
        sender = cfg.params[0]
    return vehicle, SmsInterpreter(cfg, vehicle), sender


def build_vehicle(opts):
    return build(opts)[0]


def _json(v):
    # deterministic JSON (MicroPython dicts do not keep insertion order)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return "%d" % v
    if isinstance(v, str):
        out = '"'
        for ch in v:
            if ch in '"\\':
                out += "\\" + ch
            elif ord(ch) < 0x20:
                out += "\\u%04x" % ord(ch)
            else:
                out += ch
        return out + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join([_json(x) for x in v]) + "]"
    # list of (key, value) pairs marked as an object
    return "{" + ", ".join(['"%s": %s' % (k, _json(x)) for k, x in v.items]) + "}"


class Obj:
    def __init__(self, items):
        self.items = items


def state_json(vehicle, skipped_lines):
    st = vehicle.st
    dropped = Obj([(DROP_COUNTERS[i], st.dropped[i]) for i in range(len(DROP_COUNTERS))])
    items = [
        ("soc", st.soc),
        ("soc_min", st.soc_min),
        ("soc_max", st.soc_max),
        ("range_km", st.range_km),
        ("est_range_km", mi2km(st.car_estrange)),
        ("ideal_range_km", mi2km(st.car_idealrange)),
        ("speed", st.speed),
        ("odometer", st.odo),
        ("status", st.status),
        ("charge_state", st.car_chargestate),
        ("doors1", st.car_doors1),
        ("vin", st.vin_text()),
        ("cell_mv", [v * 5 for v in st.cell_act]),
        ("module_temp_c", [v - 40 for v in st.temp_act]),
        ("pack_voltage", st.pack_act * 10),
        ("power_raw", st.power),
        ("power_w", st.power * 16),
        ("tpem_c", st.car_tpem),
        ("tmotor_c", st.car_tmotor),
        ("tbattery_c", st.car_tbattery),
        ("volt_alerts", st.volt_alerts),
        ("temp_alerts", st.temp_alerts),
        ("ticks", st.tick),
        ("frames", st.frames),
        ("dropped", dropped),
        ("skipped_lines", skipped_lines),
    ]
    return _json(Obj(items))
