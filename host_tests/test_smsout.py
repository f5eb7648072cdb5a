# SMS output shaping: GSM-7 replacement and splitting (both runtimes).
from ovms import smsout
from ovms.sms_table import HELP_TEXT
from ovms.twizy.vehicle import HELP_SUFFIX


def test_gsm_keeps_the_alphabet():
    text = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà"
    assert smsout.gsm(text) == text
    assert smsout.septets(text) == len(text)
    assert smsout.gsm("Grüße aus Köln") == "Grüße aus Köln"


def test_gsm_extension_table_counts_two():
    text = "^{}\\[~]|€"
    assert smsout.gsm(text) == text
    assert smsout.septets(text) == 18
    assert smsout.septets("a€b") == 4


def test_gsm_replacements():
    assert smsout.gsm("10°C") == "10C"
    assert smsout.gsm("-3°F") == "-3F"
    assert smsout.gsm("45° N") == "45deg N"
    assert smsout.gsm("`x`") == "'x'"
    assert smsout.gsm("a\tb") == "a b"
    assert smsout.gsm("ça") == "Ça"
    assert smsout.gsm("\u201cq\u201d \u2013 \u2026") == '"q" - ...'
    assert smsout.gsm("\x1b") == "?"  # ESC is not text
    assert smsout.gsm("\x00\u4e2d\U0001f600") == "???"


def test_short_texts_are_one_part():
    assert smsout.shape(["STAT", "x" * 160]) == ["STAT", "x" * 160]
    assert smsout.shape([]) == []
    assert smsout.shape([""]) == []


def test_hard_split_without_breaks():
    assert smsout.shape(["x" * 161]) == ["x" * 160, "x"]
    assert smsout.shape(["x" * 400]) == ["x" * 160, "x" * 160, "x" * 80]


def test_split_counts_extension_characters():
    parts = smsout.shape(["€" * 100])
    assert parts == ["€" * 80, "€" * 20]
    for p in parts:
        assert smsout.septets(p) <= 160


def test_split_prefers_line_breaks():
    a = "A" * 100
    b = " B" + "b" * 98
    assert smsout.shape([a + "\r\n" + b]) == [a, b]  # leading space of a line kept
    assert smsout.shape([a + "\n" + b]) == [a, b]
    # a line break in the first half loses against a later space
    text = "x" * 10 + "\n" + "y" * 100 + " " + "z" * 100
    assert smsout.shape([text]) == ["x" * 10 + "\n" + "y" * 100, "z" * 100]


def test_split_at_space_drops_the_spaces():
    text = " ".join(["word%02d" % i for i in range(40)])  # 279 characters
    parts = smsout.shape([text])
    assert len(parts) == 2
    assert " ".join(parts) == text
    for p in parts:
        assert len(p) <= 160 and not p.endswith(" ") and not p.startswith(" ")


def test_help_splits_into_two_sms():
    parts = smsout.shape([HELP_TEXT + HELP_SUFFIX])
    assert parts == [
        (
            "Commands: REGISTER? REGISTER PASS? PASS  GPS STAT PARAMS? PARAMS  AP  MODULE? "
            "MODULE  GPRS? GPRS  GSMLOCK? GSMLOCK SERVER? SERVER  DIAG FEATURES? FEATURE"
        ),
        (
            "HOMELINK  LOCK  UNLOCK  VALET  UNVALET  CHARGEMODE  CHARGESTART CHARGESTOP "
            "VERSION RESET HELP \r\nTwizy Commands: DEBUG STAT RANGE CA HELP BATT POWER"
        ),
    ]


def test_every_part_fits():
    texts = [
        ("line %d with some words\r\n" % i) * 3 + "€[]" * i + "°" * (i % 5) for i in range(60)
    ]
    for t in texts:
        parts = smsout.shape([t * 3])
        for p in parts:
            assert 0 < smsout.septets(p) <= 160
            assert smsout.gsm(p) == p
