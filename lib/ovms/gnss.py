# The GPS fix record and the SIM808's +CGNSINF parser, integer fixed-point only.
# Licence: MIT (this project).
#
# Units and rules as in ovms/nmea.py (no floats on the parse path; decimal text read with
# integer arithmetic, truncated toward zero): lat_e6 / lon_e6 micro-degrees (negative =
# south / west), altitude whole metres, speed 1/100 km/h, course whole degrees 0..359.
# D132: the boards ship with the SIM808's GNSS (GPS through the modem: +CGNSINF), so this
# is all of GPS parsing a board keeps loaded; the NMEA sentence parser (ovms/nmea.py, for a
# standalone receiver on its own UART) is loaded by the first NMEA line (ovms/gps.py):
# ≈ 450 bytes of a board's heap (its functions, tables and receiver state) otherwise.

from ovms.units import digits


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


def course_deg(s):
    c = dec_scaled(s, 0) if s else 0
    if c is None or c < 0 or c >= 360:
        return None
    return c


def utc_text(s):
    dot = s.find(".")
    return s if dot < 0 else s[:dot]


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
        utc = utc_text(f[2].strip())
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
        course = course_deg(f[7])
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
