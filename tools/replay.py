# Replay recorded CAN traffic through the Twizy core and print what the module
# would say. Runs under CPython and inside the MicroPython unix port.
# Licence: MIT (this project).
#
#   python3 -m tools.replay [options] LOG [LOG...]
#
# LOG: candump -L or OVMS CRTD lines. Several logs play on one continuous clock
# (each later log starts 0.1 s after the previous one ended). The clock is the
# logs' own: tick k runs when the clock passes first-frame + k s, one final tick
# after the last frame, then more ticks up to --until.
#
# options:
#   --units K|M           distance units (default K)
#   --feature N=V         set feature N (repeatable)
#   --param N=TEXT        set parameter N (repeatable; default 3=SMS,IP)
#   --gps FILE            CSV t,lat,lon,alt,speed_kph[,direction] on the logs' clock
#   --until SECONDS       keep ticking until SECONDS after the first frame
#   --sms "CMD"           after the replay, send an SMS command (repeatable) through
#                         the SMS framework; prints each reply SMS then a line "---"
#   --sender NUMBER       who sends the --sms commands (default: the registered owner)
#   --config FILE         settings from a store file (as tools.console writes it),
#                         read-only; --units/--feature/--param override them.
#                         Without it: owner +4915100000000, parameter 3 SMS,IP
#   --records             print every server line as "[t=SECONDS] LINE" (CR shown as \r)
#   --alerts              print every SMS the module sends on its own (LF shown as \n)
#   --state               print one JSON object with the final state
#   --runtime cpython|micropython

import sys

from ovms import smsout
from ovms.canlog import LogLineError, parse_line, parse_time_us
from ovms.config import Config
from ovms.nmea import dec_scaled
from ovms.sms import Framework
from ovms.store import Store
from ovms.twizy.state import DROP_COUNTERS
from ovms.twizy.units import mi2km
from ovms.twizy.vehicle import Twizy

USAGE = "usage: python3 -m tools.replay [options] LOG [LOG...] (see tools/replay.py)"
_GAP_US = 100000  # later logs start 0.1 s after the previous one ended
_SECOND_US = 1000000


class UsageError(Exception):
    pass


def parse_args(argv):
    opts = {
        "units": "K",
        "features": [],
        "params": [],
        "gps": None,
        "until": None,
        "sms": [],
        "records": False,
        "alerts": False,
        "state": False,
        "runtime": "cpython",
        "logs": [],
        "units_set": False,
        "sender": None,
        "config": None,
    }
    i = 0
    n = len(argv)

    def value():
        if i + 1 >= n:
            raise UsageError("option %s needs a value" % argv[i])
        return argv[i + 1]

    while i < n:
        a = argv[i]
        if a in ("-h", "--help"):
            raise UsageError("")
        if a == "--units":
            v = value().upper()
            if v not in ("K", "M"):
                raise UsageError("--units must be K or M")
            opts["units"] = v
            opts["units_set"] = True
            i += 2
        elif a in ("--sender", "--config"):
            opts[a[2:]] = value()
            i += 2
        elif a in ("--feature", "--param"):
            v = value()
            if "=" not in v or not v.split("=", 1)[0].isdigit():
                raise UsageError("%s expects N=VALUE" % a)
            k, text = v.split("=", 1)
            limit = 16 if a == "--feature" else 32
            if int(k) >= limit:
                raise UsageError("%s number out of range: %s" % (a, k))
            opts["features" if a == "--feature" else "params"].append((int(k), text))
            i += 2
        elif a == "--gps":
            opts["gps"] = value()
            i += 2
        elif a == "--until":
            try:
                opts["until"] = parse_time_us(value())
            except ValueError:
                raise UsageError("--until expects seconds")
            i += 2
        elif a == "--sms":
            opts["sms"].append(value())
            i += 2
        elif a == "--runtime":
            v = value()
            if v not in ("cpython", "micropython"):
                raise UsageError("--runtime must be cpython or micropython")
            opts["runtime"] = v
            i += 2
        elif a in ("--records", "--alerts", "--state"):
            opts[a[2:]] = True
            i += 1
        elif a.startswith("--"):
            raise UsageError("unknown option " + a)
        else:
            opts["logs"].append(a)
            i += 1
    if not opts["logs"]:
        raise UsageError("no LOG given")
    return opts


def warn(msg):
    sys.stderr.write("replay: warning: %s\n" % msg)


def read_log(path):
    # -> list of (t_us, can_id, data) in file order; malformed lines warned
    out = []
    with open(path) as f:
        lineno = 0
        for line in f:
            lineno += 1
            try:
                rec = parse_line(line)
            except LogLineError as e:
                warn("%s:%d: %s; line skipped" % (path, lineno, e.args[0]))
                continue
            if rec is not None:
                out.append(rec)
    return out


def _decimal(text, places):
    # "51.2577049", 6 -> 51257704 (truncated toward zero); ValueError if not a number
    v = dec_scaled(text, places)
    if v is None:
        raise ValueError("bad number %r" % text.strip())
    return v


def read_gps(path):
    # -> list of (t_us, lat_e6, lon_e6, alt_m, speed_kph, direction)
    out = []
    with open(path) as f:
        lineno = 0
        for line in f:
            lineno += 1
            line = line.strip()
            if not line or line[0] == "#":
                continue
            cols = line.split(",")
            try:
                if len(cols) not in (5, 6):
                    raise ValueError("expected t,lat,lon,alt,speed_kph[,direction]")
                t = parse_time_us(cols[0].strip())
                direction = _decimal(cols[5], 0) if len(cols) == 6 else 0
                out.append(
                    (
                        t,
                        _decimal(cols[1], 6),
                        _decimal(cols[2], 6),
                        _decimal(cols[3], 0),
                        _decimal(cols[4], 0),
                        direction,
                    )
                )
            except ValueError as e:
                warn(
                    "%s:%d: %s; line skipped" % (path, lineno, e.args[0] if e.args else "bad line")
                )
    return out


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


class Replayer:
    def __init__(self, vehicle, link):
        self.vehicle = vehicle
        self.link = link
        self.t0 = None
        self.next_tick = None
        self.slot = bytearray(8)

    def _tick(self):
        self.vehicle.tick()
        self.vehicle.dispatch(self.link)
        self.next_tick += _SECOND_US

    def advance(self, t):
        # run every tick the clock passes on its way to t
        if self.t0 is None:
            return
        while t >= self.next_tick:
            self._tick()

    def frame(self, t, can_id, data):
        if self.t0 is None:
            self.t0 = t
            self.next_tick = t + _SECOND_US
        self.advance(t)
        n = len(data)
        self.slot[:n] = data
        self.vehicle.frame(can_id, self.slot, n)

    def finish(self, until_us):
        if self.t0 is None:
            return
        self._tick()  # the final tick after the last frame
        if until_us is not None:
            while self.next_tick <= self.t0 + until_us:
                self._tick()


# registered owner of a replay without --config (a fixed, made-up number)
REPLAY_OWNER = "+4915100000000"


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
    vehicle = Twizy(cfg)
    sender = opts.get("sender")
    if sender is None:
        sender = cfg.params[0]
    return vehicle, Framework(cfg, vehicle), sender


def build_vehicle(opts):
    return build(opts)[0]


def timeline(opts):
    # Frames of all logs on one clock, in file order (the order is the truth:
    # a frame stamped earlier than its predecessor just runs no tick), merged
    # with the GPS fixes: a fix goes before a frame of the same time.
    # No sort over the frames: MicroPython's sort calls the key function on
    # every comparison and is quadratic on sorted input.
    frames = []
    prev_end = None
    for path in opts["logs"]:
        log = read_log(path)
        if not log:
            continue
        shift = 0 if prev_end is None else prev_end + _GAP_US - log[0][0]
        for t, can_id, data in log:
            frames.append((t + shift, can_id, data))
        prev_end = log[-1][0] + shift
    fixes = read_gps(opts["gps"]) if opts["gps"] else []
    if not _sorted_by_time(fixes):
        fixes.sort(key=lambda f: f[0])
    events = []
    j = 0
    for t, can_id, data in frames:
        while j < len(fixes) and fixes[j][0] <= t:
            events.append((fixes[j][0], 0, len(events), fixes[j], None))
            j += 1
        events.append((t, 1, len(events), can_id, data))
    while j < len(fixes):
        events.append((fixes[j][0], 0, len(events), fixes[j], None))
        j += 1
    return events


def _sorted_by_time(items):
    for i in range(1, len(items)):
        if items[i][0] < items[i - 1][0]:
            return False
    return True


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


def state_json(vehicle, stats):
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
        ("skipped_lines", stats["skipped"]),
    ]
    return _json(Obj(items))


def replay(opts):
    vehicle, framework, sender = build(opts)
    link = ReplayLink(vehicle, opts["records"], opts["alerts"])
    rp = Replayer(vehicle, link)
    for t, kind, _seq, a, b in timeline(opts):
        if kind == 1:
            rp.frame(t, a, b)
        else:
            rp.advance(t)
            _, lat, lon, alt, _speed, direction = a
            vehicle.gps_fix(lat, lon, alt, direction)
    rp.finish(opts["until"])
    for command in opts["sms"]:
        # through the SMS framework as sent by --sender; each reply SMS as the
        # phone receives it (GSM-7, <= 160 characters), then "---"
        for part in smsout.shape(framework.handle(sender, command, vehicle.st.tick)):
            print(part)
            print("---")
    if opts["state"]:
        print(state_json(vehicle, {"skipped": 0}))
    return vehicle


def _run_micropython(argv):
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(exe):
        exe = "micropython"
    env = dict(os.environ)
    env["MICROPYPATH"] = ".frozen:%s:%s" % (os.path.join(root, "lib"), root)
    args = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--runtime":
            skip = True
            continue
        args.append(a)
    return subprocess.call([exe, "-X", "heapsize=16M", "-m", "tools.replay"] + args, env=env)


def main(argv):
    try:
        opts = parse_args(argv)
    except UsageError as e:
        msg = e.args[0] if e.args else ""
        if msg:
            sys.stderr.write("replay: %s\n" % msg)
        sys.stderr.write(USAGE + "\n")
        return 2 if msg else 0
    if opts["runtime"] == "micropython" and sys.implementation.name != "micropython":
        return _run_micropython(argv)
    try:
        replay(opts)
    except OSError as e:
        sys.stderr.write("replay: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
