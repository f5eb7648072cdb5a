# spec §0.3, §9.1: integer conversions and number formats
from ovms.compat import text
from ovms.config import NOPHONE, owner_phone
from ovms.units import (
    atoi,
    dec_int,
    degrees,
    digits,
    f2,
    f3,
    hex4,
    hex_digit,
    isqrt,
    km2mi,
    mi2km,
    signed,
    tdiv,
)


def test_km2mi_examples():
    for km, mi in ((30, 19), (40, 25), (50, 31), (67, 42), (70, 44), (80, 50), (81, 51)):
        assert km2mi(km) == mi, km
    assert km2mi(0) == 0
    assert km2mi(-3) == 0


def test_mi2km_examples():
    for mi, km in ((19, 30), (25, 40), (31, 50), (40, 64), (44, 70), (48, 77), (50, 80)):
        assert mi2km(mi) == km, mi


def test_round_trip_is_exact_or_one_km_high():
    # the guide's "occasional 1 km difference", reproduced on purpose
    assert mi2km(km2mi(70)) == 70
    assert mi2km(km2mi(95)) == 96
    assert mi2km(km2mi(100)) == 101
    for k in range(1, 2000):
        assert mi2km(km2mi(k)) - k in (0, 1), k


def test_truncating_division():
    assert tdiv(-100, 150) == 0
    assert tdiv(-200, 150) == -1
    assert tdiv(200, 150) == 1
    assert tdiv(7, -2) == -3


def test_formats():
    assert f2(9702) == "97.02"
    assert f2(5) == "0.05"
    assert f2(10000) == "100.00"
    assert f3(4115) == "4.115"
    assert f3(3945) == "3.945"
    assert signed(0) == "+0"
    assert signed(-150) == "-150"
    assert signed(20) == "+20"
    assert hex4(0x95) == "0095"
    assert hex4(0x1F) == "001F"


def test_atoi_is_c_like():
    assert atoi("80km") == 80
    assert atoi("abc") == 0
    assert atoi("  -12x") == -12
    assert atoi("+7") == 7
    assert atoi("") == 0
    assert atoi("60%") == 60


def test_isqrt():
    assert isqrt(97) == 9
    assert isqrt(13473) == 116
    assert isqrt(140) == 11
    assert isqrt(0) == 0
    for n in range(0, 5000):
        r = isqrt(n)
        assert r * r <= n < (r + 1) * (r + 1)


# ---- the framework's one home per parser (issue 11): what each accepts ---------------
def test_digits():
    assert digits("0") and digits("0123456789")
    for bad in ("", " 1", "1 ", "+1", "-1", "1.0", "\u00b2", "\uff11", "1a"):
        assert not digits(bad), bad
    assert digits("", True) and digits("42", True) and not digits("4 2", True)


def test_dec_int():
    assert dec_int("42") == 42 and dec_int(" -7\r\n") == -7 and dec_int("+5") == 5
    assert dec_int("999999999999") == 999999999999
    for bad in ("", "-", "1x", "1 2", "1234567890123", "\u00a05", "\u00b2", "0x1"):
        assert dec_int(bad) == -1, bad
        assert dec_int(bad, 99) == 99, bad


def test_atoi_is_c_atoi():
    assert atoi("  -12abc") == -12 and atoi("+7") == 7 and atoi("x1") == 0 and atoi("") == 0


def test_hex_digit():
    assert [hex_digit(c) for c in "09afAF"] == [0, 9, 10, 15, 10, 15]
    for bad in "gG/:@`\u00b2 ":
        assert hex_digit(bad) == -1, bad


def test_degrees():
    assert degrees(51257704) == "51.257704" and degrees(-120000) == "-0.120000"
    assert degrees(0) == "0.000000" and degrees(-180000000) == "-180.000000"


def test_text_never_raises_d91():
    assert text(b"STAT") == "STAT" and text(b"\xc3\xa4") == "\u00e4"  # UTF-8
    assert text(b"\xff\xfeA") == "\u00ff\u00feA"  # else Latin-1, one char per byte
    assert text(bytearray(b"\xc3")) == "\u00c3" and text(memoryview(b"ok")) == "ok"
    assert text(b"") == ""


def test_owner_phone():
    assert owner_phone("+4915100000000") == "+4915100000000"
    assert owner_phone(NOPHONE) is None and owner_phone("") is None
