# SIM800 emulator: the control port (line commands) and the command line.
# Licence: MIT (this project).
#
# The control port takes line commands (try "help"):
#   sms <number> <text>      deliver an SMS to the modem (+CMTI follows)
#   sent                     list the SMS the modem has sent
#   inbox                    list the SIM storage
#   ussd <code> <answer>     set a canned USSD answer
#   fault <kind>             inject one fault (kinds: see faults.FAULTS)
#   soak <n> <seed>          start a seeded random fault schedule
#   status                   modem state and counters

import asyncio
import sys

from ovms.units import dec_int
from tools.sim800emu.base import XorShift, load_track, text_of
from tools.sim800emu.faults import FAULTS


class EmuControl:
    async def _control(self, reader, writer):
        writer.write(b"sim800emu ready; try 'help'\n")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                out = self.control(text_of(line).strip())
                writer.write(out.encode() + b"\n")
                await writer.drain()
        except (Exception, asyncio.CancelledError):
            pass
        try:
            writer.close()
        except Exception:  # noqa: S110 (already closed)
            pass

    def control(self, line):
        # one control command -> reply text (also usable from code)
        parts = line.split(" ", 2)
        cmd = parts[0].lower()
        if cmd == "sms" and len(parts) == 3:
            return "ok slot %d" % self.inject_sms(parts[1], parts[2])
        if cmd == "sent":
            return "\n".join(["to %s: %s" % (n, t) for n, t in self.sent]) or "(none)"
        if cmd == "inbox":
            keys = sorted(self.inbox)
            rows = ["%d %s %s: %s" % ((i,) + tuple(self.inbox[i][1:])) for i in keys]
            return "\n".join(rows) or "(empty)"
        if cmd == "ussd" and len(parts) == 3:
            self.ussd[parts[1]] = (parts[2], 15)
            return "ok"
        if cmd == "fault" and len(parts) >= 2 and parts[1] in FAULTS:
            self.fault(parts[1])
            return "ok"
        if cmd == "soak" and len(parts) >= 2:
            if len(parts) == 3:
                self.rng = XorShift(dec_int(parts[2], 1))
            self.start_soak(dec_int(parts[1], 100))
            return "ok"
        if cmd == "status":
            return "off=%d echo=%d ip=%s tcp=%d inbox=%d sent=%d faults=%d cmds=%d" % (
                self.off,
                self.echo,
                self.ip_state,
                self.connected,
                len(self.inbox),
                len(self.sent),
                self.faults,
                self.commands,
            )
        return "commands: sms <number> <text> | sent | inbox | ussd <code> <answer> | " + (
            "fault <%s> | soak <n> [seed] | status" % "|".join(FAULTS)
        )


def _args(argv):
    opts = {"port": 5800, "control": 0, "nmea": 0, "track": None, "seed": 1, "soak": 0}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in opts and i + 1 < len(argv):
            v = argv[i + 1]
            opts[a[2:]] = v if a == "--track" else int(v)
            i += 2
        else:
            print("usage: sim800emu [--port N] [--control N] [--nmea N] [--track CSV]")
            print("                 [--seed N] [--soak N]   (all on 127.0.0.1)")
            raise SystemExit(2)
    return opts


async def main(argv=None):
    from tools.sim800emu import Sim800Emu

    o = _args(sys.argv[1:] if argv is None else argv)
    track = load_track(o["track"]) if o["track"] else None
    emu = Sim800Emu(seed=o["seed"], track=track, boot_ms=1000, max_delay_ms=500, auto_on_ms=5000)
    p = await emu.start(o["port"])
    print("SIM800 emulator: AT on 127.0.0.1:%d" % p)
    cp = await emu.start_control(o["control"] or p + 1)
    print("control on 127.0.0.1:%d (line commands, 'help')" % cp)
    if o["nmea"]:
        print("NMEA on 127.0.0.1:%d" % await emu.start_nmea(o["nmea"]))
    if o["soak"]:
        emu.start_soak(o["soak"], (200, 2000))
    while True:
        await asyncio.sleep(3600)
