# Hypothesis fuzz of the NMEA and +CGNSINF parsers: never raise, bad input is
# counted. CPython only. FUZZ_EXAMPLES (default 5000) sets the example count.
# Licence: MIT (this project).
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovms import nmea

N = int(os.environ.get("FUZZ_EXAMPLES", "5000"))
CFG = settings(max_examples=N, deadline=None, suppress_health_check=list(HealthCheck))

field = st.one_of(
    st.text(alphabet="0123456789.-NSEWAV", max_size=12),
    st.text(max_size=6),
)


@CFG
@given(st.sampled_from(["GPGGA", "GNRMC", "GPRMC", "GPGSV", "XX"]), st.lists(field, max_size=16))
def test_fuzz_nmea_checksummed(kind, fields):
    # valid checksums, so the field parsers themselves get exercised
    p = nmea.NMEA()
    p.feed(nmea.sentence(",".join([kind] + fields)))
    assert p.good + p.bad + p.other == 1
    f = p.fix
    assert -90000000 <= f.lat_e6 <= 90000000 and -180000000 <= f.lon_e6 <= 180000000
    assert 0 <= f.course < 360


@CFG
@given(st.binary(max_size=100))
def test_fuzz_nmea_bytes(raw):
    p = nmea.NMEA()
    p.feed(raw)
    p.feed(b"$" + raw)
    assert p.good + p.bad + p.other == 2


@CFG
@given(st.lists(field, max_size=23))
def test_fuzz_cgnsinf(fields):
    f = nmea.GpsFix()
    ok = nmea.parse_cgnsinf("+CGNSINF: " + ",".join(fields), f)
    assert ok in (True, False)
    assert -90000000 <= f.lat_e6 <= 90000000
