# NMEA / +CGNSINF parsers (lib/ovms/nmea.py) and the vehicle GPS feed
# (lib/ovms/gps.py): integer fixed point, checksums, bad-sentence counting.
# Licence: MIT (this project).
from ovms import gnss, nmea
from ovms.config import Config
from ovms.gnss import GpsFix, parse_cgnsinf
from ovms.gps import Feed
from ovms.nmea import NMEA
from ovms.twizy.vehicle import Twizy

GGA = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"
RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"


def test_checksum():
    assert nmea.checksum_ok(GGA) and nmea.checksum_ok(RMC)
    assert not nmea.checksum_ok(GGA[:-1] + "8")
    assert not nmea.checksum_ok("$GPGGA,123519")
    assert nmea.sentence("GPGGA,1") == "$GPGGA,1*" + nmea.checksum("GPGGA,1")


def test_gga_rmc_exact_fixed_point():
    p = NMEA()
    assert p.feed(GGA) == "GGA"
    f = p.fix
    # 48 deg 07.038' = 48.1173 deg exactly; 11 deg 31.000' = 11.516666.. truncated
    assert (f.fix, f.lat_e6, f.lon_e6, f.altitude, f.sats) == (1, 48117300, 11516666, 545, 8)
    assert p.feed(RMC + "\r\n") == "RMC"
    assert f.course == 84
    assert f.speed == 4148  # 22.4 kn = 41.4848 km/h -> 41.48
    assert f.utc == "123519"
    assert p.good == 2 and p.bad == 0


def test_south_west_and_no_fix():
    p = NMEA()
    body = "GNRMC,001122.00,A,3352.129200,S,15112.557400,W,0.0,7.0,010126,,,A"
    assert p.feed(nmea.sentence(body)) == "RMC"
    assert p.fix.lat_e6 == -33868820 and p.fix.lon_e6 == -151209290
    assert p.feed(nmea.sentence("GPRMC,001123.00,V,,,,,,,010126,,,N")) == "RMC"
    assert p.fix.fix == 0 and p.fix.lat_e6 == -33868820  # position kept
    assert p.feed(nmea.sentence("GPGGA,001124,,,,,0,00,99.9,,M,,M,,")) == "GGA"
    assert p.fix.fix == 0


def test_bad_sentences_counted():
    p = NMEA()
    for bad in (
        GGA[:-2] + "00",
        "garbage",
        b"\xff\xfe\x00",
        nmea.sentence("GPGGA,1,9960.0,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),  # 60 min
        nmea.sentence("GPRMC,1,A,4807.038,X,01131.000,E,0,0,230394,,"),  # hemisphere
        nmea.sentence("GPRMC,1,A"),
        "",
    ):
        assert p.feed(bad) is None
    assert p.bad == 7 and p.good == 0
    assert p.feed(nmea.sentence("GPGSV,1,1,00")) is None and p.other == 1


def test_emitter_round_trip():
    for e6 in (0, 51257704, -33868820, 89999999, -90000000):
        s, h = nmea.e6_ddmm(e6, False)
        assert nmea.ddmm_e6(s, h, 90) == e6
    for e6 in (7160899, -151209290, 179999999, -180000000):
        s, h = nmea.e6_ddmm(e6, True)
        assert nmea.ddmm_e6(s, h, 180) == e6
    assert nmea.e6_text(-120000) == "-0.120000"


def test_dec_scaled():
    d = gnss.dec_scaled
    assert d("51.2577049", 6) == 51257704
    assert d("-3.7", 0) == -3
    assert d("139", 2) == 13900
    assert d(".5", 1) == 5
    assert d("", 0) is None and d("-", 0) is None and d("1.2.3", 1) is None


CGNS = (
    "+CGNSINF: 1,1,20260101120000.000,51.257704,7.160899,139.500,48.52,242.7,1,,"
    "0.9,1.2,0.8,,10,8,3,,42,,"
)


def test_cgnsinf():
    f = GpsFix()
    assert parse_cgnsinf(CGNS, f)
    assert (f.fix, f.lat_e6, f.lon_e6, f.altitude, f.speed, f.course, f.sats) == (
        1,
        51257704,
        7160899,
        139,
        4852,
        242,
        8,
    )
    assert f.utc == "20260101120000"
    assert parse_cgnsinf("+CGNSINF: 1,0,20260101120001.000,,,,0.00,0.0,0,,,,,,4,0,,,,,", f)
    assert f.fix == 0 and f.lat_e6 == 51257704
    assert parse_cgnsinf("+CGNSINF: 0,,,,,,,,,,,,,,,,,,,,", f) and f.fix == 0
    assert not parse_cgnsinf("+CGNSINF: 1,1,x", f)
    assert not parse_cgnsinf("+CGNSINF: 1,1,2026,91.0,0,0,0,0,1", f)
    assert not parse_cgnsinf("nothing", f)


def test_feed_vehicle():
    v = Twizy(Config())
    feed = Feed(v)
    assert v.st.stale_gps == -1
    assert feed.cgnsinf(CGNS)
    st = v.st
    assert (st.lat_e6, st.lon_e6, st.altitude, st.direction, st.gpslock, st.stale_gps) == (
        51257704,
        7160899,
        139,
        242,
        1,
        120,
    )
    v.tick()
    assert st.stale_gps == 119
    assert feed.cgnsinf("+CGNSINF: 1,0,20260101120001.000,,,,0.00,0.0,0,,,,,,4,0,,,,,")
    assert st.gpslock == 0 and st.stale_gps == 119
    assert not feed.cgnsinf("+CGNSINF: junk") and feed.bad_cgnsinf == 1
    assert feed.nmea_line(GGA) and st.lat_e6 == 48117300 and st.gpslock == 1
    assert not feed.nmea_line("$GPGGA,bad*00")
    feed.csq(17)
    assert st.net_sq == 17
    feed.csq(99)
    assert st.net_sq == 0
