# NMEA 0183 (GGA, RMC) and SIM808 +CGNSINF parsers, integer fixed-point only.
# Licence: MIT (this project).
#
# No floats anywhere on the parse path: float parsing and rounding differ
# between CPython and MicroPython, so every decimal string is read with integer
# arithmetic and truncated (toward zero) to the output unit:
#   lat_e6 / lon_e6  micro-degrees, negative = south / west
#   altitude         whole metres (signed)
#   speed            1/100 km/h
#   course           whole degrees 0..359
#   fix              0 / 1
# ddmm.mmmm -> micro-degrees is exact: deg*10^6 + minutes*10^6/60, truncated.
# Bad sentences (checksum, field count, syntax) are counted, never raised.

from ovms.compat import text as _text  # bytes -> str, never raising (D91)
from ovms.units import degrees, digits, hex_digit

KNOT_KMH_X1000 = 1852  # 1 knot = 1.852 km/h


class GpsFix:
    # the latest known position; updated in place by the parsers
    def __init__(self):
        self.fix = 0  # 1 = valid position
        self.lat_e6 = 0
        self.lon_e6 = 0
        self.altitude = 0  # m
        self.speed = 0  # 1/100 km/h
        self.course = 0  # degrees
        self.sats = 0  # satellites used (GGA / CGNSINF), 0 when unknown
        self.utc = ""  # "hhmmss" (NMEA) or "yyyyMMddhhmmss" (CGNSINF), fraction cut
        self.bugs = 0  # exceptions caught in parse_cgnsinf: a bug here, not bad input


def dec_scaled(s, places):
    # decimal text -> int scaled by 10**places, truncated toward zero; None if
    # not a decimal number. "51.2577049", 6 -> 51257704; "-3.7", 0 -> -3
    s = s.strip()
    neg = False
    if s[:1] == "-":
        neg = True
        s = s[1:]
    elif s[:1] == "+":
        s = s[1:]
    dot = s.find(".")
    if dot < 0:
        ip, fp = s, ""
    else:
        ip, fp = s[:dot], s[dot + 1 :]
    if not ip and not fp:
        return None
    if len(ip) > 9 or not digits(ip, True) or not digits(fp, True):
        return None
    n = int(ip) if ip else 0
    frac = fp[:places]
    while len(frac) < places:
        frac += "0"
    for _ in range(places):
        n *= 10
    if frac:
        n += int(frac)
    return -n if neg else n


def ddmm_e6(s, hemi, max_deg):
    # NMEA angle "ddmm.mmmm" / "dddmm.mmmm" plus hemisphere -> micro-degrees,
    # or None. Minutes must be < 60, degrees <= max_deg (90 or 180).
    s = s.strip()
    dot = s.find(".")
    ip = s if dot < 0 else s[:dot]
    fp = "" if dot < 0 else s[dot + 1 :]
    if len(ip) < 3 or len(ip) > 5 or len(fp) > 9 or not digits(ip, True) or not digits(fp, True):
        return None
    v = int(ip)
    deg = v // 100
    minutes = v % 100
    if minutes >= 60 or deg > max_deg:
        return None
    scale = 1
    for _ in fp:
        scale *= 10
    m_scaled = minutes * scale + (int(fp) if fp else 0)  # minutes * 10^len(fp)
    e6 = deg * 1000000 + (m_scaled * 1000000) // (60 * scale)
    if e6 > max_deg * 1000000:
        return None
    if hemi == "S" or hemi == "W":
        return -e6
    if hemi == "N" or hemi == "E":
        return e6
    return None


def checksum_ok(line):
    # "$GPGGA,...*47" -> True when the XOR of the bytes between $ and * matches
    if len(line) < 4 or line[0] != "$":
        return False
    star = line.rfind("*")
    if star < 0 or len(line) - star != 3:
        return False
    want = _hex2(line[star + 1 :])
    if want < 0:
        return False
    c = 0
    for ch in line[1:star]:
        c ^= ord(ch)
    return c == want


def _hex2(s):
    n = 0
    for ch in s:
        d = hex_digit(ch)
        if d < 0:
            return -1
        n = n * 16 + d
    return n


def checksum(body):
    # helper for emitters: "GPGGA,..." -> "47"
    c = 0
    for ch in body:
        c ^= ord(ch)
    return "%02X" % c


def _course(s):
    c = dec_scaled(s, 0) if s else 0
    if c is None or c < 0 or c >= 360:
        return None
    return c


def _utc(s):
    dot = s.find(".")
    return s if dot < 0 else s[:dot]


def parse_gga(f, fix):
    # $xxGGA,hhmmss.ss,lat,N,lon,E,quality,sats,hdop,alt,M,geoid,M,age,station
    # f: fields without the checksum; True if valid (fix may be 0)
    if len(f) < 10:
        return False
    q = dec_scaled(f[6], 0) if f[6] else 0
    if q is None or q < 0:
        return False
    if q == 0:
        fix.fix = 0
        fix.utc = _utc(f[1])
        return True
    lat = ddmm_e6(f[2], f[3], 90)
    lon = ddmm_e6(f[4], f[5], 180)
    alt = dec_scaled(f[9], 0) if f[9] else 0
    sats = dec_scaled(f[7], 0) if f[7] else 0
    if lat is None or lon is None or alt is None or sats is None:
        return False
    fix.fix = 1
    fix.lat_e6 = lat
    fix.lon_e6 = lon
    fix.altitude = alt
    fix.sats = sats
    fix.utc = _utc(f[1])
    return True


def parse_rmc(f, fix):
    # $xxRMC,hhmmss.ss,A|V,lat,N,lon,E,speed_knots,course,ddmmyy,magvar,E[,mode]
    if len(f) < 10:
        return False
    status = f[2]
    if status == "V":
        fix.fix = 0
        fix.utc = _utc(f[1])
        return True
    if status != "A":
        return False
    lat = ddmm_e6(f[3], f[4], 90)
    lon = ddmm_e6(f[5], f[6], 180)
    kn = dec_scaled(f[7], 3) if f[7] else 0  # 1/1000 knot
    course = _course(f[8])
    if lat is None or lon is None or kn is None or kn < 0 or course is None:
        return False
    fix.fix = 1
    fix.lat_e6 = lat
    fix.lon_e6 = lon
    fix.speed = kn * KNOT_KMH_X1000 // 10000  # 1/1000 kn * 1.852 -> 1/100 km/h
    fix.course = course
    fix.utc = _utc(f[1])
    return True


class NMEA:
    # sentence-level state: feed lines, read .fix; counters for the log
    def __init__(self):
        self.fix = GpsFix()
        self.good = 0  # sentences used
        self.bad = 0  # checksum / syntax errors
        self.other = 0  # valid sentences of other types (GSV, VTG, ...)
        # D49: an exception caught below is a bug in this module, not bad input:
        # counted apart (bad stays "the sentence was wrong"), the fuzz asserts 0
        self.bugs = 0

    def feed(self, line):
        # one sentence (str or bytes, with or without CR/LF). Returns "GGA" or
        # "RMC" when that sentence updated .fix, else None. Never raises.
        try:
            if not isinstance(line, str):
                line = _text(line)
            line = line.strip()
            if not checksum_ok(line):
                self.bad += 1
                return None
            f = line[1 : line.rfind("*")].split(",")
            kind = f[0][2:] if len(f[0]) == 5 else ""
            if kind == "GGA":
                ok = parse_gga(f, self.fix)
            elif kind == "RMC":
                ok = parse_rmc(f, self.fix)
            else:
                self.other += 1
                return None
            if not ok:
                self.bad += 1
                return None
            self.good += 1
            return kind
        except Exception:  # belt and braces: wire data must never raise
            self.bugs += 1  # counted apart from bad input: the fuzz tests assert 0
            return None


# ---- SIM808 GNSS --------------------------------------------------------------------
# +CGNSINF: run,fix,utc,lat,lon,alt,speed_kmh,course,fixmode,res,hdop,pdop,vdop,res,
#           gps_in_view,gnss_used,glonass_in_view,res,cn0max,hpa,vpa   (21 fields)
# Position fields are empty without a fix. Also +UGNSINF (AT+CGNSURC=n).
_CGNSINF_FIELDS = const(21)


def parse_cgnsinf(line, fix):
    # "+CGNSINF: 1,1,20240101120000.000,51.257704,7.160899,139.5,48.2,242.1,1,..."
    # -> True and `fix` updated, or False for a malformed line (fix unchanged).
    # Fewer than 21 fields is accepted down to the course field (field 8):
    # some firmware versions cut trailing empty fields.
    try:
        colon = line.find(":")
        if colon < 0:
            return False
        f = line[colon + 1 :].strip().split(",")
        if len(f) < 8 or len(f) > _CGNSINF_FIELDS:
            return False
        run = dec_scaled(f[0], 0)
        status = dec_scaled(f[1], 0) if f[1] else 0
        if run is None or status is None or run < 0 or run > 1 or status < 0 or status > 1:
            return False
        utc = _utc(f[2].strip())
        if not digits(utc, True):
            return False
        if not status or not run:
            fix.fix = 0
            fix.utc = utc
            return True
        lat = dec_scaled(f[3], 6)
        lon = dec_scaled(f[4], 6)
        alt = dec_scaled(f[5], 0) if f[5] else 0
        spd = dec_scaled(f[6], 2) if f[6] else 0
        course = _course(f[7])
        if lat is None or lon is None or alt is None or spd is None or course is None:
            return False
        if lat > 90000000 or lat < -90000000 or lon > 180000000 or lon < -180000000:
            return False
        sats = 0
        if len(f) > 15 and f[15]:
            sats = dec_scaled(f[15], 0)
            if sats is None:
                sats = 0
        fix.fix = 1
        fix.lat_e6 = lat
        fix.lon_e6 = lon
        fix.altitude = alt
        fix.speed = spd if spd > 0 else 0
        fix.course = course
        fix.sats = sats
        fix.utc = utc
        return True
    except Exception:  # wire data must never raise; a bug here, the fuzz asserts 0
        fix.bugs += 1
        return False


# ---- emitters (used by the emulator and tests; integer in, text out) ------------------
def e6_ddmm(e6, lon):
    # micro-degrees -> ("ddmm.mmmmmm", hemisphere), minutes with 6 decimals so
    # that ddmm_e6() gives back exactly e6
    hemi = ("W" if e6 < 0 else "E") if lon else ("S" if e6 < 0 else "N")
    a = -e6 if e6 < 0 else e6
    deg = a // 1000000
    m_e6 = (a % 1000000) * 60  # minutes * 10^6
    mm = m_e6 // 1000000
    frac = m_e6 % 1000000
    if lon:
        return ("%03d%02d.%06d" % (deg, mm, frac), hemi)
    return ("%02d%02d.%06d" % (deg, mm, frac), hemi)


e6_text = degrees  # micro-degrees -> "51.257704" / "-0.120000" (ovms.units)


def sentence(body):
    return "$%s*%s" % (body, checksum(body))
