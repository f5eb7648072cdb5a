# Hypothesis fuzz of the NMEA (GGA/RMC) and SIM808 +CGNSINF parsers, CPython
# only. Never an exception (a caught one is counted in .bugs and fails here,
# it is not "bad input"), every sentence lands in exactly one counter, a
# rejected sentence leaves the fix untouched, and exact round trips of what
# the emitters write. FUZZ_EXAMPLES sets the number of examples (fuzzing.py).
# Licence: MIT (this project).
from fuzzing import EXAMPLES, fuzz
from hypothesis import given
from hypothesis import strategies as st

from ovms import gnss, nmea

field = st.one_of(
    st.text(alphabet="0123456789.-+NSEWAV ", max_size=12),
    st.text(max_size=6),
)
KINDS = st.sampled_from(["GPGGA", "GNRMC", "GPRMC", "GNGGA", "GPGSV", "XX", "GPGGAX"])


def _fix_tuple(f):
    return (f.fix, f.lat_e6, f.lon_e6, f.altitude, f.speed, f.course, f.sats, f.utc)


def _check_fix(f):
    assert f.fix in (0, 1)
    assert -90000000 <= f.lat_e6 <= 90000000 and -180000000 <= f.lon_e6 <= 180000000
    assert 0 <= f.course < 360 and f.speed >= 0 and f.sats >= 0
    assert isinstance(f.utc, str) and isinstance(f.altitude, int)
    assert f.bugs == 0


def _feed(p, line):
    before = _fix_tuple(p.fix)
    counts = (p.good, p.bad, p.other)
    kind = p.feed(line)
    assert p.bugs == 0, line
    assert p.good + p.bad + p.other == sum(counts) + 1
    if kind is None:
        assert p.good == counts[0]
        assert _fix_tuple(p.fix) == before  # a rejected sentence changes nothing
    else:
        assert kind in ("GGA", "RMC") and p.good == counts[0] + 1
    _check_fix(p.fix)
    return kind


# a fix with every field set (none at its zero value), so that a rejected
# sentence that wrote any field half-way shows
_GGA = "GPGGA,101010.00,5115.462240,N,00709.653940,E,1,07,0.9,139,M,47.0,M,,"
_RMC = "GNRMC,101011.00,A,5115.462240,N,00709.653940,E,26.000,242.0,010126,,,A"


def _seeded():
    p = nmea.NMEA()
    assert p.feed(nmea.sentence(_GGA)) == "GGA" and p.feed(nmea.sentence(_RMC)) == "RMC"
    f = p.fix
    assert 0 not in (f.fix, f.lat_e6, f.lon_e6, f.altitude, f.speed, f.course, f.sats)
    return p


@fuzz()
@given(KINDS, st.lists(field, max_size=16))
def test_fuzz_nmea_checksummed(kind, fields):
    # valid checksums, so the field parsers themselves get exercised
    p = _seeded()
    body = ",".join([kind] + fields)
    got = _feed(p, nmea.sentence(body))
    if kind in ("GPGSV", "XX", "GPGGAX"):
        # another type is never used; with a valid checksum and ASCII, it is "other"
        assert got is None and p.good == 2 and p.other + p.bad == 1
        assert p.other == 1 or max(body) >= "\x80"
    if got is None and kind[2:] in ("GGA", "RMC"):
        assert (p.good, p.bad, p.other) == (2, 1, 0)  # a GGA/RMC it could not use
    # the same sentence as bytes, with CR LF: the same result and the same fix
    q = _seeded()
    assert _feed(q, (nmea.sentence(body) + "\r\n").encode("utf-8", "replace")) == got
    if max(body) < "\x80":
        assert _fix_tuple(q.fix) == _fix_tuple(p.fix)


@fuzz(max(EXAMPLES // 10, 300))
@given(st.lists(st.tuples(KINDS, st.lists(field, max_size=16), st.booleans()), max_size=20))
def test_fuzz_nmea_sequence(sentences):
    # one parser, many sentences (some with a broken checksum): every sentence
    # lands in exactly one counter, and the fix is what the accepted sentences
    # alone make of it (a rejected one in between changes nothing)
    p = nmea.NMEA()
    alone = nmea.NMEA()
    used = 0
    for kind, fields, broken in sentences:
        line = nmea.sentence(",".join([kind] + fields))
        if broken:
            line = line[:-2] + ("00" if line[-2:] != "00" else "01")
        got = _feed(p, line)
        if got is not None:
            used += 1
            assert alone.feed(line) == got
    assert (p.good, p.bugs) == (used, 0)
    assert p.good + p.bad + p.other == len(sentences)
    assert _fix_tuple(p.fix) == _fix_tuple(alone.fix)


@fuzz()
@given(st.binary(max_size=100))
def test_fuzz_nmea_bytes(raw):
    p = nmea.NMEA()
    _feed(p, raw)
    _feed(p, b"$" + raw)
    _feed(p, raw.decode("latin-1"))


fixes = st.tuples(
    st.integers(-90000000, 90000000),
    st.integers(-180000000, 180000000),
    st.integers(-500, 9000),  # altitude m
    st.integers(0, 359),  # course
    st.integers(0, 99999),  # 1/1000 knot
    st.integers(0, 24),  # satellites
)


@fuzz()
@given(fixes)
def test_fuzz_nmea_round_trip(fx):
    # what the emitters write reads back exactly (e6_ddmm promises it)
    lat, lon, alt, course, kn_x1000, sats = fx
    la, ns = nmea.e6_ddmm(lat, False)
    lo, ew = nmea.e6_ddmm(lon, True)
    p = nmea.NMEA()
    gga = "GPGGA,120000.00,%s,%s,%s,%s,1,%02d,0.9,%d,M,47.0,M,," % (la, ns, lo, ew, sats, alt)
    assert _feed(p, nmea.sentence(gga)) == "GGA"
    f = p.fix
    assert (f.fix, f.lat_e6, f.lon_e6, f.altitude, f.sats, f.utc) == (
        1,
        lat,
        lon,
        alt,
        sats,
        "120000",
    )
    kn = "%d.%03d" % (kn_x1000 // 1000, kn_x1000 % 1000)
    rmc = "GNRMC,120001.00,A,%s,%s,%s,%s,%s,%d.0,010126,,,A" % (la, ns, lo, ew, kn, course)
    assert _feed(p, nmea.sentence(rmc)) == "RMC"
    assert (f.lat_e6, f.lon_e6, f.course) == (lat, lon, course)
    assert f.speed == kn_x1000 * nmea.KNOT_KMH_X1000 // 10000
    # one flipped character: a checksum error, the fix unchanged
    s = nmea.sentence(gga)
    bad = s[:10] + ("1" if s[10] != "1" else "2") + s[11:]
    p2 = nmea.NMEA()
    assert _feed(p2, bad) is None and p2.bad == 1


@fuzz()
@given(st.lists(field, max_size=23), st.sampled_from(["+CGNSINF: ", "+UGNSINF: ", "", "X:"]))
def test_fuzz_cgnsinf(fields, prefix):
    f = gnss.GpsFix()
    before = _fix_tuple(f)
    ok = gnss.parse_cgnsinf(prefix + ",".join(fields), f)
    assert ok in (True, False)
    assert f.bugs == 0
    if not ok:
        assert _fix_tuple(f) == before
    _check_fix(f)


@fuzz()
@given(fixes, st.integers(0, 999999), st.booleans())
def test_fuzz_cgnsinf_round_trip(fx, spd_x100, fixed):
    lat, lon, alt, course, _kn, sats = fx
    line = (
        "+CGNSINF: 1,%d,20260101120000.000,%s,%s,%d.5,%d.%02d,%d.0,1,,0.9,1.2,0.8,,%d,%d,,,40,,"
        % (
            1 if fixed else 0,
            nmea.e6_text(lat),
            nmea.e6_text(lon),
            alt,
            spd_x100 // 100,
            spd_x100 % 100,
            course,
            sats + 2,
            sats,
        )
    )
    f = gnss.GpsFix()
    assert gnss.parse_cgnsinf(line, f) is True and f.bugs == 0
    if fixed:
        assert (f.fix, f.lat_e6, f.lon_e6, f.altitude, f.speed, f.course, f.sats) == (
            1,
            lat,
            lon,
            alt,
            spd_x100,
            course,
            sats,
        )
    else:
        assert f.fix == 0 and f.lat_e6 == 0
    assert f.utc == "20260101120000"
