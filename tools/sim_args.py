# The simulation's command line (tools/sim.py): parsed and checked by hand (the unix
# port has no argparse); every bad value is a one-line error and exit status 2, never a
# traceback. Licence: MIT (this project). Host tool.
#
# D64: the command line's meaning.
#   --seconds S   simulated seconds (scenario time), default 20 x the speed for the
#                 positional form, 120 otherwise; > 0 and at most 10 days.
#   --speed X     simulated seconds per wall second, > 0 (fractions allowed: 1.5, 0.5);
#                 0 = as fast as the machine goes (the virtual clock unpaced). Default 1.
#   SECONDS [SPEED] (the old positional form, `make sim`): wall seconds at SPEED, i.e.
#                 --seconds SECONDS*SPEED --speed SPEED.
#   --scenario    the virtual Twizy (tools/vtwizy): day (default), charge, drive, parked;
#   --seed N      its seed (default 1); --from T: start T into the scenario (seconds or
#                 HH:MM[:SS]); default: day 07:29:50 (10 s before key on), others 0.
#   SIM_TRACES=bundled (or a comma-separated list of candump/CRTD files) in the
#                 environment: the real traces looped instead (the old sim); not with
#                 --scenario.
#   --server HOST:PORT --vehicle ID --netpass PW [--paranoid]: log in to that OVMS v2
#                 server as a car does (parameters 4, 8, 9, 10 for this run, not saved);
#                 default: the in-process test server. A host outside 127.x needs the
#                 real network: the emulated modem then connects there.

import os

SCENARIOS = ("day", "charge", "drive", "parked")
DEFAULT_FROM_S = {"day": 7 * 3600 + 29 * 60 + 50}
BUNDLED = "host_tests/fixtures/traces/Twizy-Virtual-BMS__Protocol."
BUNDLED_TRACES = (
    BUNDLED + "Init-Drv.candump.log",
    BUNDLED + "End-Drv.candump.log",
    BUNDLED + "Init-Chg.candump.log",
    BUNDLED + "End-Chg.candump.log",
)
UNPACED = 1_000_000_000  # speed 0: the clock is paced at this speed, i.e. not at all
MAX_SECONDS = 10 * 86400

USAGE = (
    "usage: python3 -m tools.sim [SECONDS [SPEED]] [--scenario day|charge|drive|parked]"
    " [--seed N] [--from T] [--seconds S] [--speed X] [--server HOST:PORT]"
    " [--vehicle ID] [--netpass PW] [--paranoid]"
)


class UsageError(Exception):
    pass


class SimArgs:
    def __init__(self):
        self.seconds = None  # simulated seconds
        self.speed = 1
        self.scenario = None
        self.seed = 1
        self.from_s = None
        self.traces = None  # SIM_TRACES paths
        self.server = None  # (host, port)
        self.vehicle = None
        self.netpass = None
        self.paranoid = False
        self.help = False

    def clock_speed(self):
        # the board's SPEED for the virtual clock
        return UNPACED if self.speed == 0 else self.speed

    def wall_seconds(self):
        # app.main()'s `seconds` (it runs seconds x SPEED simulated seconds)
        return self.seconds / self.clock_speed()


def number(text, what, lo=None, hi=None):
    # a finite decimal number, lo <= x <= hi -> int if whole, else float
    try:
        x = float(text)
    except (ValueError, TypeError):
        raise UsageError("%s must be a number, not %r" % (what, text)) from None
    if x != x or x in (float("inf"), float("-inf")):
        raise UsageError("%s must be a finite number, not %r" % (what, text))
    if lo is not None and x < lo:
        raise UsageError("%s must be >= %s, not %s" % (what, _num(lo), text))
    if hi is not None and x > hi:
        raise UsageError("%s must be <= %s, not %s" % (what, _num(hi), text))
    return int(x) if x == int(x) else x


def _num(x):
    return "%d" % x if x == int(x) else "%s" % x


def time_of_day(text):
    # "HH:MM[:SS]" or seconds -> seconds
    if ":" not in text:
        return number(text, "--from", 0, MAX_SECONDS)
    f = text.split(":")
    if len(f) > 3 or not all([p.isdigit() for p in f]):
        raise UsageError("--from must be seconds or HH:MM[:SS], not %r" % text)
    h, m = int(f[0]), int(f[1])
    s = int(f[2]) if len(f) > 2 else 0
    if m > 59 or s > 59:
        raise UsageError("--from must be seconds or HH:MM[:SS], not %r" % text)
    return h * 3600 + m * 60 + s


def server(text):
    from ovms.config import PARAM_SERVERIP, check_param

    i = text.rfind(":")
    if i <= 0:
        raise UsageError("--server must be HOST:PORT, not %r" % text)
    host = text[:i]
    port = number(text[i + 1 :], "--server port", 1, 65535)
    if not isinstance(port, int):
        raise UsageError("--server port must be a whole number, not %r" % text[i + 1 :])
    err = check_param(PARAM_SERVERIP, host)
    if err:
        raise UsageError("--server host %r: %s" % (host, err))
    return host, port


def _param(n, text, flag):
    from ovms.config import check_param

    err = check_param(n, text)
    if err or not text:
        raise UsageError("%s %r: %s" % (flag, text, err or "empty"))
    return text


_VALUED = (
    "--scenario",
    "--seed",
    "--from",
    "--seconds",
    "--speed",
    "--server",
    "--vehicle",
    "--netpass",
)


def parse(argv, env=None):
    # -> SimArgs; UsageError with a one-line reason
    env = _Env() if env is None else env
    a = SimArgs()
    pos = []
    vals = {}
    k = 0
    while k < len(argv):
        x = argv[k]
        if x in ("-h", "--help"):
            a.help = True
            return a
        if x == "--paranoid":
            a.paranoid = True
        elif x in _VALUED:
            if k + 1 >= len(argv):
                raise UsageError("%s needs a value" % x)
            if x in vals:
                raise UsageError("%s given twice" % x)
            vals[x] = argv[k + 1]
            k += 1
        elif x.startswith("--") and "=" in x and x[: x.find("=")] in _VALUED:
            argv = argv[:k] + [x[: x.find("=")], x[x.find("=") + 1 :]] + argv[k + 1 :]
            continue
        elif x.startswith("-") and not _looks_numeric(x):
            raise UsageError("unknown option %r" % x)
        else:
            pos.append(x)
        k += 1
    if len(pos) > 2:
        raise UsageError("at most two positional values (SECONDS SPEED), got %d" % len(pos))
    if pos:
        if "--seconds" in vals or "--speed" in vals:
            raise UsageError("give SECONDS SPEED or --seconds/--speed, not both")
        wall = number(pos[0], "SECONDS", 0, MAX_SECONDS)
        a.speed = number(pos[1], "SPEED", 0, 1e6) if len(pos) > 1 else 1
        if wall <= 0:
            raise UsageError("SECONDS must be > 0, not %s" % pos[0])
        a.seconds = wall * (a.speed if a.speed else 1)
    if "--speed" in vals:
        a.speed = number(vals["--speed"], "--speed", 0, 1e6)
    if "--seconds" in vals:
        a.seconds = number(vals["--seconds"], "--seconds", 0, MAX_SECONDS)
        if a.seconds <= 0:
            raise UsageError("--seconds must be > 0, not %s" % vals["--seconds"])
    if a.seconds is None:
        a.seconds = 120
    if a.seconds * 1000 < 1:
        raise UsageError("--seconds must be at least 0.001")
    if "--seed" in vals:
        s = number(vals["--seed"], "--seed", 0, 2**31 - 1)
        if not isinstance(s, int):
            raise UsageError("--seed must be a whole number, not %r" % vals["--seed"])
        a.seed = s
    traces = env.get("SIM_TRACES", "")
    if "--scenario" in vals:
        if traces:
            raise UsageError("SIM_TRACES and --scenario exclude each other")
        if vals["--scenario"] not in SCENARIOS:
            raise UsageError(
                "unknown scenario %r (one of: %s)" % (vals["--scenario"], ", ".join(SCENARIOS))
            )
        a.scenario = vals["--scenario"]
    elif traces:
        a.traces = _traces(traces)
    else:
        a.scenario = "day"
    if "--from" in vals:
        if a.scenario is None:
            raise UsageError("--from needs a scenario (not SIM_TRACES)")
        a.from_s = time_of_day(vals["--from"])
    elif a.scenario is not None:
        a.from_s = DEFAULT_FROM_S.get(a.scenario, 0)
    if "--server" in vals:
        a.server = server(vals["--server"])
    for flag, n, attr in (("--vehicle", 8, "vehicle"), ("--netpass", 9, "netpass")):
        if flag in vals:
            setattr(a, attr, _param(n, vals[flag], flag))
    if (a.vehicle or a.netpass or a.paranoid) and a.server is None:
        raise UsageError("--vehicle/--netpass/--paranoid go with --server HOST:PORT")
    return a


class _Env:
    # os.environ where there is none (the unix port has os.getenv only)
    def get(self, k, default=None):
        v = os.getenv(k) if hasattr(os, "getenv") else os.environ.get(k)
        return default if v is None else v


def _looks_numeric(x):
    try:
        float(x)
        return True
    except ValueError:
        return False


def _traces(text):
    if text in ("1", "bundled", "real"):
        return BUNDLED_TRACES
    paths = [p.strip() for p in text.split(",") if p.strip()]
    for p in paths:
        try:
            os.stat(p)
        except OSError:
            raise UsageError("SIM_TRACES: no such file %r" % p) from None
    if not paths:
        raise UsageError("SIM_TRACES: no file named")
    return tuple(paths)
