# candump -L and CRTD line parsing
from ovms.canlog import LogLineError, parse_line, parse_time_us


def _bad(line):
    try:
        parse_line(line)
    except LogLineError:
        return True
    return False


def test_candump_line():
    t, i, d = parse_line("(1700000000.123456) can0 155#0797C75497980073")
    assert t == 1700000000123456 and i == 0x155 and d == bytes.fromhex("0797C75497980073")
    assert parse_line("(10.5) can0 69F#F0828737\n") == (10500000, 0x69F, b"\xf0\x82\x87\x37")
    assert parse_line("(1.0) vcan0 123#") == (1000000, 0x123, b"")


def test_crtd_line():
    t, i, d = parse_line("1700000000.123456 1R11 155 07 97 C7 54 97 98 00 73")
    assert t == 1700000000123456 and i == 0x155 and d == bytes.fromhex("0797C75497980073")
    assert parse_line("12.000001 2T29 18FF00F1 01") == (12000001, 0x18FF00F1, b"\x01")
    assert parse_line("12.5 CXX some comment") is None


def test_blank_and_comment():
    assert parse_line("") is None
    assert parse_line("   \n") is None
    assert parse_line("# hello") is None


def test_malformed():
    for line in (
        "(12.x) can0 155#00",
        "(12.0 can0 155#00",
        "(12.0) can0 155-00",
        "(12.0) can0 155#0",
        "(12.0) can0 155#00112233445566778899",
        "(12.0) can0 XYZ#00",
        "(12.0) can0 155##100",
        "(12.0) can0 155#R",
        "12.0 1R11 155 0",
        "12.0 1X11 155 00",
        "12.0 1R11",
        "12.0 1R11 155 00 11 22 33 44 55 66 77 88",
        "garbage",
        "(1.0) can0 155#ZZ",
    ):
        assert _bad(line), line


def test_time_parse():
    assert parse_time_us("0") == 0
    assert parse_time_us("1.5") == 1500000
    assert parse_time_us("3.1234567") == 3123456
