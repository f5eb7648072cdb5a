# SIM800 emulator: the AT command table (one handler per command) and the
# small setting commands. Licence: MIT (this project).
#
# A handler takes (emu, c, line): c is the upper-case command without "AT",
# line the command as sent. It returns the reply lines (a bytes item is sent
# raw), or None when the reply is sent elsewhere (prompts, CFUN reset).

from ovms.units import dec_int


def _ok(emu, c, line):
    return ["OK"]


def _echo(emu, c, line):
    emu.echo = c == "E1"
    return ["OK"]


def _cmee(emu, c, line):
    if c.endswith("?"):
        return ["+CMEE: %d" % emu.cmee, "OK"]
    emu.cmee = dec_int(c[6:], 0)
    return ["OK"]


def _creg(emu, c, line):
    if c.endswith("?"):
        return ["+CREG: %d,%d" % (emu.creg_n, emu.creg_stat), "OK"]
    emu.creg_n = dec_int(c[6:], 0)
    return ["OK"]


def _cmgf(emu, c, line):
    emu.cmgf = dec_int(c[6:], 0)
    return ["OK"]


def _ciphead(emu, c, line):
    emu.iphead = dec_int(c[9:], 0)
    return ["OK"]


def _cnmi(emu, c, line):
    f = c[6:].split(",")
    emu.cnmi = len(f) > 1 and f[1] == "1"
    return ["OK"]


def _cfun(emu, c, line):
    if c == "+CFUN?":
        return ["+CFUN: 1", "OK"]
    if c == "+CFUN=1,1":
        emu._reply(["OK"])
        emu.reboot()
        return None
    return ["OK"]


def _cgatt(emu, c, line):
    if c == "+CGATT?":
        return ["+CGATT: 1", "OK"]
    return ["OK"] if c in ("+CGATT=1", "+CGATT=0") else ["ERROR"]


def _cipmux(emu, c, line):
    return ["OK"] if c[-1] == "0" else ["ERROR"]


def _s7(emu, c, line):
    # S7 (seconds to wait for a data call's carrier): the driver's resync nonce
    if c == "S7?":
        return ["%03d" % emu.s7, "OK"]
    v = dec_int(c[3:])
    if v < 1 or v > 255:
        return ["ERROR"]
    emu.s7 = v
    return ["OK"]


# exact commands
EXACT = {
    "": _ok,
    "E0": _echo,
    "E1": _echo,
    "E": _echo,
    "I": lambda emu, c, line: ["SIM800 R14.18", "OK"],
    "+CPIN?": lambda emu, c, line: ["+CPIN: READY", "OK"],
    "+CSQ": lambda emu, c, line: ["+CSQ: %d,0" % emu.rssi, "OK"],
    "+CIPSEND?": lambda emu, c, line: ["+CIPSEND: 1460", "OK"],
    "+CIPSTATUS": lambda emu, c, line: ["OK", "STATE: " + emu.ip_state],
    "+CIPSHUT": lambda emu, c, line: emu._cipshut(c, line),
    "+CIICR": lambda emu, c, line: emu._ciicr(c, line),
    "+CIFSR": lambda emu, c, line: emu._cifsr(c, line),
    "+CGNSINF": lambda emu, c, line: emu._cgnsinf_cmd(c, line),
}

# prefixes, checked in this order (longer before shorter where one starts another)
PREFIX = (
    ("+CMEE", _cmee),
    ("+CREG", _creg),
    ("+CMGF=", _cmgf),
    ("+CSCS=", _ok),
    ("+CSDH=", _ok),
    ("+CIPHEAD=", _ciphead),
    ("+CPMS=", lambda emu, c, line: emu._cpms(c, line)),
    ("+CNMI=", _cnmi),
    ("+CMGR=", lambda emu, c, line: emu._cmgr(c, line)),
    ("+CMGD=", lambda emu, c, line: emu._cmgd(c, line)),
    ("+CMGL", lambda emu, c, line: emu._cmgl(c, line)),
    ("+CMGS=", lambda emu, c, line: emu._cmgs(c, line)),
    ("+CUSD=", lambda emu, c, line: emu._cusd(c, line)),
    ("+CFUN", _cfun),
    ("+CGATT", _cgatt),
    ("+CIPMUX=", _cipmux),
    ("+CIPRXGET=", lambda emu, c, line: emu._ciprxget(c, line)),
    ("+CSTT", lambda emu, c, line: emu._cstt(c, line)),
    ("+CIPSTART=", lambda emu, c, line: emu._cipstart(c, line)),
    ("+CIPSEND=", lambda emu, c, line: emu._cipsend(c, line)),
    ("+CIPCLOSE", lambda emu, c, line: emu._cipclose(c, line)),
    ("+CGNSPWR", lambda emu, c, line: emu._cgnspwr(c, line)),
    ("+CGNSURC=", _ok),
    ("S7", _s7),
    ("+CSCLK", lambda emu, c, line: emu._csclk_cmd(c, line)),
)

# commands answered with a "> " prompt (a lost reply = no prompt, nothing executed)
PROMPTED = ("+CMGS=", "+CIPSEND=")


def execute(emu, line):
    # one AT command line -> reply lines (None: the reply is sent elsewhere)
    u = line.upper()
    if not u.startswith("AT"):
        return ["ERROR"]
    c = u[2:]
    fn = EXACT.get(c)
    if fn is None:
        for p, h in PREFIX:
            if c.startswith(p):
                fn = h
                break
    if fn is None:
        return ["ERROR"]
    return fn(emu, c, line)


def prompted(line):
    u = line.upper()[2:]
    return any(u.startswith(p) for p in PROMPTED)
