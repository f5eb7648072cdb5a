# CAN log line parsers: candump -L and OVMS CRTD (for replay and tests).
# Licence: MIT (this project).
#
#   candump -L:  (1700000000.123456) can0 155#0797C75497980073
#   CRTD:        1700000000.123456 1R11 155 07 97 C7 54 97 98 00 73
# Timestamps become integer microseconds (no floats: identical in every runtime).
#
# Every malformed line raises LogLineError (a ValueError), never anything else,
# and both runtimes agree on every line. Decision D46: a frame line is printable
# ASCII (TAB allowed); any other character (non-ASCII digits such as "²", which
# CPython's isdigit()/int()/split() accept and MicroPython's do not, control
# bytes, NUL) makes the line malformed. A timestamp has at most 12 whole digits
# (31,000 years in seconds), so a 5,000-digit number is refused before int()
# sees it (CPython's int() refuses more than 4,300 digits with its own error).
# Comment lines ("#...") may hold anything.

from ovms.units import digits, hex_digit

_MAX_WHOLE_DIGITS = const(12)
WS = " \t\r\n\x0b\x0c"  # ASCII whitespace only: CPython strips more by default


class LogLineError(ValueError):
    pass


def parse_time_us(text):
    # "123.456" -> 123456000; ASCII digits only, up to 9 decimals (cut to 6),
    # at most _MAX_WHOLE_DIGITS whole digits
    if "." in text:
        whole, frac = text.split(".", 1)
    else:
        whole, frac = text, ""
    if (
        not digits(whole)
        or len(whole) > _MAX_WHOLE_DIGITS
        or (frac and not digits(frac))
        or len(frac) > 9
    ):
        raise LogLineError("bad timestamp %r" % text[:40])
    frac = (frac + "000000")[:6]
    return int(whole) * 1000000 + int(frac)


def _hex_id(text):
    if not text or len(text) > 8:
        raise LogLineError("bad CAN id %r" % text[:40])
    for ch in text:
        if hex_digit(ch) < 0:
            raise LogLineError("bad CAN id %r" % text)
    v = int(text, 16)
    if v > 0x1FFFFFFF:
        raise LogLineError("CAN id out of range %r" % text)
    return v


def _hex_bytes(text):
    if len(text) % 2 or len(text) > 16:
        raise LogLineError("bad frame data %r" % text[:40])
    for ch in text:
        if hex_digit(ch) < 0:
            raise LogLineError("bad frame data %r" % text)
    return bytes.fromhex(text)


def printable(line):
    # printable ASCII or TAB only (line is stripped and not empty)
    if min(line) >= " " and max(line) <= "~":
        return True
    for ch in line:
        if (ch < " " and ch != "\t") or ch > "~":
            return False
    return True


def parse_line(line):
    # -> (t_us, can_id, data) or None for blank/comment/info lines;
    # raises LogLineError for anything malformed
    line = line.strip(WS)
    if not line or line[0] == "#":
        return None
    if not printable(line):
        raise LogLineError("not printable ASCII")
    if line[0] == "(":
        return _candump(line)
    return _crtd(line)


def _candump(line):
    end = line.find(")")
    if end < 0:
        raise LogLineError("missing ')'")
    t = parse_time_us(line[1:end])
    fields = line[end + 1 :].split()
    if len(fields) != 2 or "#" not in fields[1]:
        raise LogLineError("expected 'iface ID#DATA'")
    ident, data = fields[1].split("#", 1)
    if data.startswith("#") or data.startswith("R"):
        raise LogLineError("CAN FD and remote frames are not used")
    return t, _hex_id(ident), _hex_bytes(data)


def _crtd(line):
    fields = line.split()
    if len(fields) < 2:
        raise LogLineError("expected 'time type ...'")
    t = parse_time_us(fields[0])
    kind = fields[1]
    if kind[0] == "C":
        return None  # CRTD comment / info / event record
    # <bus><R|T><11|29>, e.g. 1R11
    if len(kind) < 4 or kind[-2:] not in ("11", "29") or kind[-3] not in "RT":
        raise LogLineError("bad CRTD record type %r" % kind[:40])
    if not digits(kind[:-3]) or len(kind) > 6:  # bus 1..999
        raise LogLineError("bad CRTD bus %r" % kind[:40])
    if len(fields) < 3:
        raise LogLineError("missing CAN id")
    if len(fields) > 11:
        raise LogLineError("more than 8 data bytes")
    data = bytearray()
    for b in fields[3:]:
        if len(b) != 2:
            raise LogLineError("bad data byte %r" % b[:40])
        data.extend(_hex_bytes(b))
    return t, _hex_id(fields[2]), bytes(data)
