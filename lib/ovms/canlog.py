# CAN log line parsers: candump -L and OVMS CRTD (for replay and tests).
# Licence: MIT (this project).
#
#   candump -L:  (1700000000.123456) can0 155#0797C75497980073
#   CRTD:        1700000000.123456 1R11 155 07 97 C7 54 97 98 00 73
# Timestamps become integer microseconds (no floats: identical in every runtime).


class LogLineError(ValueError):
    pass


def parse_time_us(text):
    # "123.456" -> 123456000; digits only, up to 6 decimals
    if "." in text:
        whole, frac = text.split(".", 1)
    else:
        whole, frac = text, ""
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 9:
        raise LogLineError("bad timestamp %r" % text)
    frac = (frac + "000000")[:6]
    return int(whole) * 1000000 + int(frac)


def _hex_id(text):
    if not text or len(text) > 8:
        raise LogLineError("bad CAN id %r" % text)
    for ch in text:
        if ch not in "0123456789abcdefABCDEF":
            raise LogLineError("bad CAN id %r" % text)
    v = int(text, 16)
    if v > 0x1FFFFFFF:
        raise LogLineError("CAN id out of range %r" % text)
    return v


def _hex_bytes(text):
    if len(text) % 2 or len(text) > 16:
        raise LogLineError("bad frame data %r" % text)
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise LogLineError("bad frame data %r" % text)


def parse_line(line):
    # -> (t_us, can_id, data) or None for blank/comment/info lines;
    # raises LogLineError for anything malformed
    line = line.strip()
    if not line or line[0] == "#":
        return None
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
        raise LogLineError("bad CRTD record type %r" % kind)
    if not kind[:-3].isdigit():
        raise LogLineError("bad CRTD bus %r" % kind)
    if len(fields) < 3:
        raise LogLineError("missing CAN id")
    data = bytearray()
    for b in fields[3:]:
        if len(b) != 2:
            raise LogLineError("bad data byte %r" % b)
        data.extend(_hex_bytes(b))
    if len(data) > 8:
        raise LogLineError("more than 8 data bytes")
    return t, _hex_id(fields[2]), bytes(data)
