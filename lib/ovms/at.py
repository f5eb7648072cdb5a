# SIM800 AT response-line classifier and reply parsers: a line in, an event out.
# Licence: MIT (this project).
#
# Pure and synchronous (no asyncio, no hardware): the async driver in
# firmware/hal/sim800.py splits the byte stream into lines and asks classify()
# what each one is. Nothing here raises on modem data, whatever bytes arrive
# (NULs and broken UTF-8 at power-up, spec platform.md §7).
#
# classify(line) -> (kind, tag, arg)
#   kind  FINAL   a command's last line; tag is the result text ("OK", "ERROR",
#                 "+CME ERROR", "+CMS ERROR", "SHUT OK", "CLOSE OK", "SEND OK",
#                 "SEND FAIL", "DATA ACCEPT", "CONNECT OK", "CONNECT FAIL",
#                 "ALREADY CONNECT"); arg the error/byte count (int) or None
#         URC     unsolicited result code; tag is one of the U_* names, arg the
#                 text after "tag: " (or the whole line)
#         PROMPT  the "> " data prompt (only when the caller saw it at line start)
#         DATA    anything else: an intermediate reply line (arg = the line)
#         EMPTY   blank line
# Some lines are a reply when their command is running and a URC otherwise
# (+CREG, +CPIN, +CFUN, +CUSD, +CGNSINF, +CIPRXGET: 2): the driver passes the
# running command's reply prefix as `expect`, and a line starting with it is DATA.

# D129: this module stays resident (the SIM800 driver classifies every line with it): 47
# names at most (47 slots, 384 bytes; 48 took 59 slots, 480 bytes; host_tests/
# test_globals_budget.py). The tables only classify() reads are folded constants (on
# MicroPython a const tuple is part of the frozen code, no globals entry), the URC tags
# are const strings so that the tables can name them, and the number helpers are read as
# units.dec_int (the AT numbers' rule), units.hex_digit, units.ASCII_BLANKS.
from ovms import units

FINAL = 1
URC = 2
PROMPT = 3
DATA = 4
EMPTY = 5

# URC tags (also the matched line prefix)
U_CMTI = const("+CMTI")  # new SMS stored: arg '"SM",3'
U_CMT = const("+CMT")  # SMS delivered directly (CNMI=2,2): header; the text is the next line
U_RING = const("RING")
U_CUSD = const("+CUSD")
U_CLOSED = const("CLOSED")  # TCP peer closed / link dropped (also "0, CLOSED" in CIPMUX=1)
U_PDP_DEACT = const("+PDP: DEACT")
U_CIPRXGET = const("+CIPRXGET")  # "1" = data waiting (manual receive mode)
U_UNDERVOLT = const("UNDER-VOLTAGE WARNNING")  # sic, the modem's spelling
U_OVERVOLT = const("OVER-VOLTAGE WARNNING")
U_POWER_DOWN = const("POWER DOWN")  # NORMAL / UNDER-VOLTAGE / OVER-VOLTAGE POWER DOWN
U_RDY = const("RDY")
U_CFUN = const("+CFUN")
U_CPIN = const("+CPIN")
U_CALL_READY = const("Call Ready")
U_SMS_READY = const("SMS Ready")
U_CREG = const("+CREG")
U_CGNSINF = const("+CGNSINF")
U_UGNSINF = const("+UGNSINF")
U_IPD = const("+IPD")  # "+IPD,n:" payload header (the driver cuts it at byte level)

# result lines that end a command. Longest first where one is a prefix of another.
_FINALS_EXACT = const(
    (
        "OK",
        "ERROR",
        "SHUT OK",
        "CLOSE OK",
        "SEND OK",
        "SEND FAIL",
        "CONNECT OK",
        "CONNECT FAIL",
        "ALREADY CONNECT",
    )
)
# CIPMUX=1 forms carry a "n, " link prefix: "0, CONNECT OK", "0, SEND OK", ...
_MUX_FINALS = const(
    ("CONNECT OK", "CONNECT FAIL", "ALREADY CONNECT", "SEND OK", "SEND FAIL", "CLOSE OK")
)

# prefix -> tag for "prefix: ..." style URCs (checked in this order)
_URC_PREFIX = const(
    (
        ("+CMTI:", U_CMTI),
        ("+CMT:", U_CMT),
        ("+CUSD:", U_CUSD),
        ("+PDP: DEACT", U_PDP_DEACT),
        ("+PDP:DEACT", U_PDP_DEACT),
        ("+CIPRXGET:", U_CIPRXGET),
        ("+CFUN:", U_CFUN),
        ("+CPIN:", U_CPIN),
        ("+CREG:", U_CREG),
        ("+CGNSINF:", U_CGNSINF),
        ("+UGNSINF:", U_UGNSINF),
    )
)
_URC_EXACT = const(
    (
        ("RING", U_RING),
        ("CLOSED", U_CLOSED),
        ("RDY", U_RDY),
        ("Call Ready", U_CALL_READY),
        ("SMS Ready", U_SMS_READY),
    )
)


# D58: MicroPython strips ASCII blanks only, CPython also U+0085, U+00A0, U+001C..1F:
# every strip names the ASCII set, "+IPD,\xa05:" fails in both (found by the AT fuzz).


def decode(raw):
    # bytes from the modem -> str, never raising. The driver sets
    # AT+CSCS="8859-1", so the modem speaks ISO 8859-1 both ways and converts
    # to and from the GSM alphabet itself: one char per byte, every byte valid
    # (unlike "GSM", where "@" arrives as NUL and "_" as 0x11). NUL and other
    # control bytes (except TAB) are dropped; CR/LF stripped at the ends; ASCII, the
    # common case, decodes without a per-character list.
    b = bytes(raw)
    for x in b:
        if x > 126 or (x < 32 and x != 9):
            s = "".join([chr(x) for x in b if x >= 32 or x == 9])
            return s.strip(" \t")  # ASCII only: CPython's strip() also eats U+0085/U+00A0
    return b.decode().strip(" \t")


def encode(text):
    # str -> ISO 8859-1 bytes, "?" beyond it; ASCII without a ≈ 640-byte list per SMS
    b = text.encode()
    if len(b) == len(text):
        return b
    return bytes([ord(ch) if ord(ch) < 256 else 63 for ch in text])


def _uint(s):
    # a count or an index from the wire: a negative number is as unparsable as text
    v = units.dec_int(s)
    return v if v >= 0 else -1


def _after_colon(line):
    i = line.find(":")
    return line[i + 1 :].strip(units.ASCII_BLANKS) if i >= 0 else ""


def classify(line, expect=None):
    # line: str (see decode). expect: reply prefix of the running command
    # ("+CSQ:", "+CREG:", ...) or None. Returns (kind, tag, arg).
    if not line:
        return (EMPTY, None, None)
    if expect and line.startswith(expect):
        return (DATA, None, line)
    for f in _FINALS_EXACT:
        if line == f:
            return (FINAL, f, None)
    if line.startswith("+CME ERROR:"):
        return (FINAL, "+CME ERROR", _error_code(line))
    if line.startswith("+CMS ERROR:"):
        return (FINAL, "+CMS ERROR", _error_code(line))
    if line.startswith("DATA ACCEPT:"):
        return (FINAL, "DATA ACCEPT", units.dec_int(_after_colon(line).split(",")[-1]))
    if line.startswith("> ") or line == ">":
        return (PROMPT, None, None)
    for p, tag in _URC_PREFIX:
        if line.startswith(p):
            return (URC, tag, _after_colon(line) if p[-1] == ":" else line)
    for text, tag in _URC_EXACT:
        if line == text:
            return (URC, tag, line)
    if line.startswith("+IPD,"):
        return (URC, U_IPD, line[5:])
    if "WARNNING" in line or "WARNING" in line:
        if line.startswith("UNDER-VOLTAGE"):
            return (URC, U_UNDERVOLT, line)
        if line.startswith("OVER-VOLTAGE"):
            return (URC, U_OVERVOLT, line)
    if line.endswith("POWER DOWN"):
        return (URC, U_POWER_DOWN, line)
    # CIPMUX=1 forms: "0, CLOSED", "1, CONNECT OK", ...
    if len(line) > 3 and "0" <= line[0] <= "9" and line[1:3] == ", ":
        rest = line[3:]
        if rest == "CLOSED":
            return (URC, U_CLOSED, line)
        for f in _MUX_FINALS:
            if rest == f:
                return (FINAL, f, line[0:1])
    return (DATA, None, line)


def _error_code(line):
    # "+CME ERROR: 10" -> 10; with CMEE=2 the text form ("SIM not inserted")
    # is returned as the string itself
    rest = _after_colon(line)
    n = units.dec_int(rest)
    return n if n >= 0 else rest


def is_error(tag):
    return tag == "ERROR" or tag == "+CME ERROR" or tag == "+CMS ERROR"


def fields(text):
    # split a reply's argument list at commas outside double quotes; quotes
    # are removed. 'a,"b,c",3' -> ['a', 'b,c', '3']
    out = []
    cur = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(cur).strip(units.ASCII_BLANKS))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip(units.ASCII_BLANKS))
    return out


# ---- reply parsers --------------------------------------------------------------
def parse_csq(line):
    # "+CSQ: 21,0" -> rssi 0..31, or 99 for unknown / unparsable
    f = fields(_after_colon(line))
    n = units.dec_int(f[0], 99)
    if n < 0 or n > 31:
        return 99
    return n


def csq_to_sq(rssi):
    # the framework's net_sq: 0..31, unknown (99) -> 0
    if rssi < 0 or rssi > 31:
        return 0
    return rssi


# +CREG stat values (registered: home or roaming)
_CREG_NOT = const(0)
_CREG_HOME = const(1)
_CREG_SEARCHING = const(2)
_CREG_DENIED = const(3)
_CREG_UNKNOWN = const(4)
_CREG_ROAMING = const(5)


def parse_creg(line):
    # "+CREG: 1,5" (reply to AT+CREG?: n,stat[,lac,ci]) or "+CREG: 5" (URC:
    # stat[,lac,ci]) -> stat, or -1 when unparsable. A URC with location has
    # stat,"lac","ci" (quoted) while a reply has n,stat,... (second field bare).
    f = fields(_after_colon(line))
    if not f or not f[0]:
        return -1
    if len(f) == 1:
        return _uint(f[0])
    if len(f) == 3:  # URC with lac/ci (CREG=2): stat,lac,ci
        return _uint(f[0])
    return _uint(f[1])


def parse_cmti(arg):
    # '"SM",3' -> ("SM", 3); index -1 when unparsable
    f = fields(arg)
    if len(f) < 2:
        return (f[0] if f else "", -1)
    return (f[0], _uint(f[1]))


def parse_cmgr(line):
    # header of AT+CMGR (text mode, CSDH=0 or 1):
    #   +CMGR: "REC UNREAD","+4915112345678","","24/11/26,10:00:00+04"[,145,4,0,0,"+49..",145,5]
    # -> (status, sender, timestamp) or None. The sender is normalised.
    # The timestamp is "yy/MM/dd,hh:mm:ss+zz" as the modem sent it.
    if not line.startswith("+CMGR:"):
        return None
    f = fields(_after_colon(line))
    if len(f) < 2:
        return None
    status = f[0]
    sender = normalise_number(f[1])
    ts = ""
    # the timestamp was quoted and contains one comma, so fields() kept it whole
    if len(f) >= 4:
        ts = f[3]
    return (status, sender, ts)


def parse_cmgl(line):
    # +CMGL: 1,"REC UNREAD","+4915112345678","","24/11/26,10:00:00+04"[,145,5]
    # -> (index, status, sender, timestamp) or None
    if not line.startswith("+CMGL:"):
        return None
    f = fields(_after_colon(line))
    if len(f) < 3:
        return None
    idx = units.dec_int(f[0])
    if idx < 0:
        return None
    ts = f[4] if len(f) >= 5 else ""
    return (idx, f[1], normalise_number(f[2]), ts)


def parse_cmt(line):
    # +CMT: "+4915112345678","","24/11/26,10:00:00+04"[,145,...] -> (sender, ts)
    f = fields(_after_colon(line))
    if not f or not f[0]:
        return None
    return (normalise_number(f[0]), f[2] if len(f) >= 3 else "")


def parse_cusd(arg):
    # arg of '+CUSD: 0,"Balance 5.00 EUR",15' -> (m, text, dcs); m = -1 when
    # unparsable. dcs 72 = UCS2 as hex (decoded here); others pass unchanged.
    # The text may itself contain commas, so it is taken between the first
    # and the last double quote.
    m = units.dec_int(arg.split(",", 1)[0])
    a = arg.find('"')
    b = arg.rfind('"')
    if a < 0 or b <= a:
        return (m, "", -1)
    text = arg[a + 1 : b]
    tail = arg[b + 1 :].strip(units.ASCII_BLANKS)
    dcs = units.dec_int(tail[1:]) if tail[:1] == "," else -1
    if dcs == 72:
        text = ucs2_hex(text)
    return (m, text, dcs)


def ucs2_hex(h):
    # "004800690021" -> "Hi!"; malformed hex -> the input unchanged
    h = h.strip(units.ASCII_BLANKS)
    if len(h) % 4:
        return h
    out = []
    for i in range(0, len(h), 4):
        n = 0
        for ch in h[i : i + 4]:
            d = units.hex_digit(ch)
            if d < 0:
                return h
            n = n * 16 + d
        out.append(chr(n) if n < 0xD800 or n > 0xDFFF else "?")
    return "".join(out)


def parse_rxget2(line):
    # "+CIPRXGET: 2,got,left" -> (got, left); (-1, -1) when not that line
    if not line.startswith("+CIPRXGET:"):
        return (-1, -1)
    f = fields(_after_colon(line))
    if len(f) < 3 or f[0] != "2":
        return (-1, -1)
    return (units.dec_int(f[1]), units.dec_int(f[2]))


def looks_like_ip(line):
    # AT+CIFSR answers only the address: "10.12.34.56"
    parts = line.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        n = units.dec_int(p)
        if n < 0 or n > 255:
            return False
    return True


# ---- phone numbers ----------------------------------------------------------------
def normalise_number(num, country=""):
    # Sender numbers as the SMS code compares them (prefix match with the
    # registered phone, sms spec §4), normalised to international form:
    #   * spaces, dashes, dots, slashes and parentheses are removed;
    #   * "+..." stays "+...";
    #   * "00..." (international call prefix) becomes "+...";
    #   * a national "0..." becomes "+" + country + the rest, but only when a
    #     country code is given (default "": national numbers stay as they are,
    #     the module cannot know the network's country);
    #   * anything else with digits only (e.g. "4915...", a short code "1234",
    #     or "49151..." from a modem that drops the +) is left as it is;
    #   * alphanumeric senders ("Vodafone") are returned unchanged but trimmed.
    s = num.strip(units.ASCII_BLANKS)
    out = []
    for ch in s:
        if ch in " -./()":
            continue
        out.append(ch)
    s = "".join(out)
    if not s:
        return s
    digits = s[1:] if s[0] == "+" else s
    for ch in digits:
        if ch < "0" or ch > "9":
            return num.strip(units.ASCII_BLANKS)
    if s[0] == "+":
        return s
    if s[:2] == "00" and len(s) > 2:
        return "+" + s[2:]
    if s[0] == "0" and country and len(s) > 4:
        return "+" + country + s[1:]
    return s
