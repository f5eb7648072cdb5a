# DIAG console on the host: type SMS commands, see the replies the module would send.
# Runs under CPython and inside the MicroPython unix port.
# Licence: MIT (this project).
#
#   python3 -m tools.console [--config FILE] [--sender NUMBER] [--units K|M]
#
# --config FILE    settings from the crash-safe store FILE (files FILE.a and
#                  FILE.b, see ovms/store.py); changes made by commands are
#                  saved there. Without it the settings are the defaults and
#                  live in memory only.
# --sender NUMBER  run every command as an SMS from NUMBER (authorisation as
#                  for a real SMS). Default: the DIAG console itself, which
#                  passes every authorisation check (as the registered owner;
#                  mode 1 commands still take the password position, whose
#                  value is not checked).
#
# With a terminal on stdin: a prompt "OVMS> " per command. Otherwise commands
# are read line by line from stdin (no prompt). For every command the reply
# SMS are printed exactly as sent (after GSM-7 shaping and splitting into
# parts of at most 160 characters), each part followed by a line "---".
# A command without reply prints nothing. Empty lines and lines starting with
# "#" are skipped. The exit status is 0, or 2 for a usage error.

import sys
import time

from ovms import smsout
from ovms.config import Config
from ovms.sms import SmsInterpreter
from ovms.store import Store
from ovms.twizy.vehicle import Twizy

USAGE = "usage: python3 -m tools.console [--config FILE] [--sender NUMBER] [--units K|M]"
PROMPT = "OVMS> "


class UsageError(Exception):
    pass


def parse_args(argv):
    opts = {"config": None, "sender": None, "units": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            raise UsageError("")
        if a in ("--config", "--sender", "--units"):
            if i + 1 >= len(argv):
                raise UsageError("option %s needs a value" % a)
            opts[a[2:]] = argv[i + 1]
            i += 2
        else:
            raise UsageError("unknown argument " + a)
    if opts["units"] is not None and opts["units"].upper() not in ("K", "M"):
        raise UsageError("--units must be K or M")
    return opts


def build(opts):
    # -> SmsInterpreter over a Twizy with the configured settings
    cfg = Store(opts["config"]).load() if opts["config"] else Config()
    if opts["units"]:
        cfg.set_param(2, opts["units"].upper(), save=False)
    return SmsInterpreter(cfg, Twizy(cfg, exact=False))  # what the module says (D65-D68)


def run_line(fw, line, sender=None, now_s=None):
    # one command line -> the shaped SMS parts
    if sender is None:
        replies = fw.handle(fw.cfg.params[0], line, now_s, trusted=True)
    else:
        replies = fw.handle(sender, line, now_s)
    return smsout.shape(replies)


def _isatty(f):
    try:
        return f.isatty()
    except (AttributeError, OSError):
        return False


def _lines(interactive):
    while True:
        if interactive:
            try:
                line = input(PROMPT)
            except EOFError:
                print()
                return
        else:
            line = sys.stdin.readline()
            if not line:
                return
        yield line.rstrip("\r\n")


def main(argv):
    try:
        opts = parse_args(argv)
    except UsageError as e:
        msg = e.args[0] if e.args else ""
        if msg:
            sys.stderr.write("console: %s\n" % msg)
        sys.stderr.write(USAGE + "\n")
        return 2 if msg else 0
    fw = build(opts)
    for line in _lines(_isatty(sys.stdin)):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for part in run_line(fw, line, opts["sender"], int(time.time())):
            print(part)
            print("---")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
