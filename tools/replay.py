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
#   --until SECONDS       keep ticking until SECONDS after the first frame ("1e8" allowed)
#   --sms "CMD"           after the replay, send an SMS command (repeatable) through
#                         the SMS framework; prints each reply SMS then a line "---"
#   --sender NUMBER       who sends the --sms commands (default: the registered owner)
#   --config FILE         settings from a store file (as tools.console writes it),
#                         read-only; --units/--feature/--param override them.
#                         Without it: owner +4915100000000, parameter 3 SMS,IP
#   --records             print every server line as "[t=SECONDS] LINE" (CR shown as \r)
#   --alerts              print every SMS the module sends on its own (LF shown as \n)
#   --state               print one JSON object with the final state
#   --runtime cpython|micropython|qemu   (qemu: inside the emulated Cortex-M with the
#                                         firmware frozen in, tools/qemu.py)
#   --exact-ticks         tick every simulated second, also through idle time (slow;
#                         the output is the same, see tools/replay_run.py D47)
#   --exact               the 2013 module byte for byte, without the owner decisions
#                         D65-D68 (ovms/twizy/vehicle.py D69)

import sys

from ovms import smsout
from ovms.canlog import LogLineError, parse_time_us
from tools.replay_io import Stats, read_gps, read_log, timeline  # noqa: F401 (API)
from tools.replay_run import (  # noqa: F401 (API)
    REPLAY_OWNER,
    Replayer,
    ReplayLink,
    build,
    build_vehicle,
    state_json,
)

USAGE = "usage: python3 -m tools.replay [options] LOG [LOG...] (see tools/replay.py)"
_MAX_UNTIL_S = 10**12  # 31,000 years: any larger --until is a typing error


class UsageError(Exception):
    pass


def parse_until(text):
    # seconds -> microseconds: "130", "12.5", or with a decimal exponent "1e8".
    # D48: an exponent is accepted (a user asking for 10^8 s types 1e8), and
    # anything above 10^12 s (31,000 years) is a usage error, not a long wait.
    mant, e, exp = text.lower().partition("e")
    us = parse_time_us(mant)
    if e:
        neg = exp[:1] == "-"
        if exp[:1] in ("-", "+"):
            exp = exp[1:]
        if not exp or len(exp) > 2 or not ("0" <= exp[0] <= "9" and "0" <= exp[-1] <= "9"):
            raise LogLineError("bad exponent")
        for _ in range(int(exp)):
            us = us // 10 if neg else us * 10
    if us > _MAX_UNTIL_S * 1000000:
        raise LogLineError("too large")
    return us


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
        "exact_ticks": False,
        "exact": False,
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
            k, _, text = v.partition("=")
            if (
                "=" not in v
                or not k
                or len(k) > 2
                or not ("0" <= k[0] <= "9" and "0" <= k[-1] <= "9")
            ):
                raise UsageError("%s expects N=VALUE" % a)
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
                opts["until"] = parse_until(value())
            except ValueError:
                raise UsageError("--until expects seconds (at most 1e12)")
            i += 2
        elif a == "--sms":
            opts["sms"].append(value())
            i += 2
        elif a == "--runtime":
            v = value()
            if v not in ("cpython", "micropython", "qemu"):
                raise UsageError("--runtime must be cpython, micropython or qemu")
            opts["runtime"] = v
            i += 2
        elif a in ("--records", "--alerts", "--state"):
            opts[a[2:]] = True
            i += 1
        elif a in ("--exact-ticks", "--exact"):
            opts[a[2:].replace("-", "_")] = True
            i += 1
        elif a.startswith("--"):
            raise UsageError("unknown option " + a)
        else:
            opts["logs"].append(a)
            i += 1
    if not opts["logs"]:
        raise UsageError("no LOG given")
    return opts


def replay(opts):
    vehicle, framework, sender = build(opts)
    link = ReplayLink(vehicle, opts["records"], opts["alerts"])
    rp = Replayer(vehicle, link, skip_idle=not opts.get("exact_ticks"))
    stats = Stats()
    for t, kind, _seq, a, b in timeline(opts, stats):
        if kind == 1:
            rp.frame(t, a, b)
        else:
            rp.fix(t, a)
    rp.finish(opts["until"])
    for command in opts["sms"]:
        # through the SMS framework as sent by --sender; each reply SMS as the
        # phone receives it (GSM-7, <= 160 characters), then "---"
        for part in smsout.shape(framework.handle(sender, command, vehicle.st.tick)):
            print(part)
            print("---")
    if opts["state"]:
        print(state_json(vehicle, stats.skipped))
    return vehicle


def _without_runtime(argv):
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
    return args


def _run_micropython(argv):
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(exe):
        exe = "micropython"
    env = dict(os.environ)
    env["MICROPYPATH"] = ".frozen:%s:%s" % (os.path.join(root, "lib"), root)
    args = _without_runtime(argv)
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
    if opts["runtime"] == "qemu" and sys.implementation.name != "micropython":
        from tools import qemu

        return qemu.run_replay(_without_runtime(argv))
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
