# SIM800 emulator: resets, injected faults, scripted faults and the seeded soak.
# Licence: MIT (this project).
#
# "cmd" faults hit the next AT command line, the others act at once. A script
# (script(prefix, kind, count, after)) aims a command fault at the next `count`
# commands that start with `prefix` ("AT+CMGD=1"), and may run `after()` once the
# command has executed: that is how the tests reproduce a real SIM800's bad day
# exactly (a lost OK, a new SMS taking the slot just freed, ...).

from ovms.aio import sleep_ms, ticks_add, ticks_ms

FAULTS = (
    "drop",  # close the TCP link: CLOSED
    "garbage",  # random bytes (no CR/LF) on the line
    "nul",  # NUL bytes
    "delay",  # next command answered late (below `max_delay_ms`)
    "missing",  # next command ignored (never answered, not executed)
    "error",  # next command answers ERROR (not executed)
    "cme",  # next command answers +CME ERROR: 100 (not executed)
    "reboot",  # spontaneous reset: RDY, +CFUN: 1, +CPIN: READY, Call Ready, SMS Ready
    "undervolt",  # UNDER-VOLTAGE WARNNING
    "pdp",  # +PDP: DEACT (link and GPRS context gone)
    "urc_mid",  # a URC between the next reply's lines and its final result
    "powerdown",  # UNDER-VOLTAGE POWER DOWN: silent until the reset pin (or auto_on_ms)
    "noreply",  # next command executed, its reply lost (prompt commands: as missing)
    "tail",  # a garbage line right after the next reply's final result, same write
)
CMD_FAULTS = ("delay", "missing", "error", "cme", "urc_mid", "noreply", "tail")
# soak weights (per 100): cheap faults often, expensive ones (powerdown) rarely
SOAK_WEIGHTS = {
    "drop": 9,
    "garbage": 10,
    "nul": 5,
    "delay": 12,
    "missing": 10,
    "error": 9,
    "cme": 5,
    "reboot": 6,
    "undervolt": 5,
    "pdp": 5,
    "urc_mid": 9,
    "powerdown": 1,
    "noreply": 7,
    "tail": 7,
}


class EmuFaults:
    def script(self, prefix, kind, count=1, after=None):
        # the next `count` commands starting with `prefix` get fault `kind`
        # (one of CMD_FAULTS, or None for no fault); after() runs once each
        # such command has executed
        self._scripts.append([prefix.upper(), kind, count, after])

    def clear_scripts(self):
        self._scripts = []

    def _scripted(self, u):
        # -> (kind, after) for command line u (upper case), or None
        for s in self._scripts:
            if u.startswith(s[0]):
                s[2] -= 1
                if s[2] <= 0:
                    self._scripts.remove(s)
                return (s[1], s[3])
        return None

    def reboot(self):
        # modem reset: settings gone, SIM storage kept, echo back on, banner
        self._gen += 1
        self.off = False
        self._reset_state()
        self.booting_until = ticks_add(ticks_ms(), self.boot_ms)
        self._spawn(self._banner(self._gen))

    async def _banner(self, gen):
        # a real SIM800 says Call Ready / SMS Ready seconds after RDY. With
        # late_banner they come just before the reply to the next SMS sent (B)
        self._held_banner = ["Call Ready", "SMS Ready"] if self.late_banner else []
        self._reply(["RDY"])
        for line in ("+CFUN: 1", "+CPIN: READY"):
            await sleep_ms(self.boot_ms // 3 + 1)
            if gen != self._gen:
                return
            self._reply([line])
        await sleep_ms(self.boot_ms)
        if gen != self._gen:
            return
        if self.late_banner:
            return
        self._reply(["Call Ready"])
        self._reply(["SMS Ready"])

    def _power_off(self):
        self._gen += 1
        self._reset_state()
        self.off = True

    def fault(self, kind):
        # inject one fault now (or on the next command for the CMD_FAULTS)
        self.faults += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind in CMD_FAULTS:
            if len(self._cmd_faults) < 64:
                self._cmd_faults.append(kind)
            return
        if self.off and kind != "reboot":
            return
        if kind == "drop":
            if self._tcp is not None:
                self._close_tcp()
                self.ip_state = "TCP CLOSED"
                self.urc("CLOSED")
        elif kind == "garbage" or kind == "nul":
            self._out(self._garbage(kind == "nul"))
        elif kind == "reboot":
            self.reboot()
        elif kind == "undervolt":
            self.urc("UNDER-VOLTAGE WARNNING")
        elif kind == "pdp":
            self._close_tcp()
            if self.ip_state != "IP INITIAL":
                self.ip_state = "PDP DEACT"
            self.urc("+PDP: DEACT")
        elif kind == "powerdown":
            self.urc("UNDER-VOLTAGE POWER DOWN")
            self._power_off()
            if self.auto_on_ms:
                self._spawn(self._auto_on(self._gen))

    def _garbage(self, nul=False, printable=False):
        # 1..16 random bytes without CR/LF/">" (NULs only for nul)
        n = self.rng.between(1, 16)
        b = bytearray(n)
        for i in range(n):
            if nul:
                b[i] = 0
            elif printable:
                b[i] = 0x21 + self.rng.below(0x5E)
                if b[i] == 0x3E:
                    b[i] = 0x7E
            else:
                v = self.rng.below(256)
                b[i] = v if v not in (10, 13, 0x3E) else 0x7E
        return bytes(b)

    async def _auto_on(self, gen):
        await sleep_ms(self.auto_on_ms)
        if gen == self._gen and self.off:
            self.reboot()

    def pick(self, weights=None):
        w = weights or SOAK_WEIGHTS
        total = 0
        for k in FAULTS:
            total += w.get(k, 0)
        r = self.rng.below(total)
        for k in FAULTS:
            r -= w.get(k, 0)
            if r < 0:
                return k
        return FAULTS[0]

    async def soak(self, n, gap_ms=(5, 40), weights=None):
        # n seeded random faults, one every gap_ms[0]..gap_ms[1] ms. A command
        # fault waits until the previous one has hit its command, so they do not
        # pile up into a wall of failures while the driver is in a long timeout.
        self.soaking = True
        for _ in range(n):
            if not self.soaking:
                break
            await sleep_ms(self.rng.between(gap_ms[0], gap_ms[1]))
            kind = self.pick(weights)
            if kind in CMD_FAULTS:
                while self._cmd_faults and self.soaking:
                    await sleep_ms(5)
            self.fault(kind)
        self.soaking = False

    def start_soak(self, n, gap_ms=(5, 40), weights=None):
        return self._spawn(self.soak(n, gap_ms, weights))
