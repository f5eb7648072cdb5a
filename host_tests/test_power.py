# spec §6, §9.6-9.8: power statistics, report text, level sections
from twizy_helpers import Link, feed, fresh

from ovms.twizy import power
from ovms.twizy.state import NTF_POWER

GUIDE = (26397, 956842, 1624, 3132, 684299, 4037, 3599, 319977, 19455)
GUIDE_LEVEL = (38, 920895, 730, 5, 834823, 3751)
TEXT = (
    "Power -87 +1 Wh\n Const 80% -43 +0 Wh\n Accel 9% -30 +0 Wh\n Decel 11% -14 +1 Wh\n"
    " Up 38m -41 +0 Wh\n Down 5m -37 +0 Wh"
)


def _guide_values(v):
    for i in range(9):
        v.st.speedpwr[i] = GUIDE[i]
    for i in range(6):
        v.st.levelpwr[i] = GUIDE_LEVEL[i]


def test_report_arithmetic_9_7():
    v = fresh()
    _guide_values(v)
    assert v.sms("POWER", []) == [TEXT]
    assert v.server_command(207, "") == ["MP-0 PA" + TEXT.replace("\n", "\r"), "MP-0 c207,0"]
    assert power.usage_record(v.st) == (
        "MP-0 HRT-PWR-UsageStats,0,86400,26397,956842,1624,3132,684299,4037,3599,319977,19455,"
        "38,920895,730,5,834823,3751"
    )
    assert v.server_command(208, "")[1] == "MP-0 c208,0"


def test_empty_report():
    v = fresh()
    assert v.sms("POWER", []) == [
        "Power -0 +0 Wh\n Const 0% -0 +0 Wh\n Accel 0% -0 +0 Wh\n Decel 0% -0 +0 Wh\n"
        " Up 0m -0 +0 Wh\n Down 0m -0 +0 Wh"
    ]


def _trip(frames):
    v = fresh(params={3: "SMS,IP"})
    feed(v, "597: 00 95 21 41 29 00 01 35")
    v.tick()
    feed(v, "155: 07 97 C7 54 97 98 00 73", frames)
    feed(v, "597: 00 E4 00 D1 29 00 01 31")
    v.st.notify = 0
    v.tick()
    return v


def test_switch_off_report_9_6():
    v = _trip(2500)
    assert v.st.speedpwr[0] == 2500 and v.st.speedpwr[1] == 22500
    assert v.st.notify & NTF_POWER
    link = Link()
    v.dispatch(link)
    text = (
        "Power -1 +0 Wh\n Const 100% -1 +0 Wh\n Accel 0% -0 +0 Wh\n Decel 0% -0 +0 Wh\n"
        " Up 0m -0 +0 Wh\n Down 0m -0 +0 Wh"
    )
    assert link.sms == [text]
    assert link.lines == ["MP-0 PA" + text.replace("\n", "\r")]


def test_no_report_below_1wh_d3():
    v = _trip(2499)
    assert not v.st.notify & NTF_POWER


def test_switch_on_resets_statistics():
    v = _trip(10)
    feed(v, "597: 00 95 21 41 29 00 01 35")
    v.tick()
    assert list(v.st.speedpwr) == [0] * 9


def _level_module():
    v = fresh()
    feed(v, "597: 00 95 21 41 29 00 01 35")
    v.tick()  # switch-on
    return v


def _at(v, odo, alt, use, rec):
    v.st.level_use += use
    v.st.level_rec += rec
    v.st.odo = odo
    v.gps_fix(52000000, 13000000, alt, 0)
    v.tick()


def test_level_sections_9_8():
    v = _level_module()
    _at(v, 100000, 200, 0, 0)  # reference
    assert v.st.level_ref and v.st.ref_odo == 100000 and v.st.ref_alt == 200
    lp = v.st.levelpwr
    _at(v, 100008, 201, 5000, 0)
    assert list(lp) == [0] * 6
    _at(v, 100015, 202, 45000, 100)
    assert list(lp) == [2, 50000, 100, 0, 0, 0]
    _at(v, 100030, 201, 30000, 900)  # grade -100/150 truncates to 0: flat
    assert list(lp) == [2, 50000, 100, 0, 0, 0]
    _at(v, 100045, 199, 20000, 4000)
    assert list(lp) == [2, 50000, 100, 2, 20000, 4000]
    _at(v, 100070, 202, 1000, 0)
    assert list(lp) == [5, 51000, 100, 2, 20000, 4000]
    _at(v, 100100, 202, 7, 7)
    assert list(lp) == [5, 51000, 100, 2, 20000, 4000]


def test_level_stale_gps_clears_reference_d11():
    v = _level_module()
    v.tick()  # never had a fix: stale_gps -1
    assert not v.st.level_ref
    _at(v, 100000, 200, 0, 0)
    assert v.st.level_ref
    for _ in range(121):
        v.tick()
    assert v.st.stale_gps == 0 and not v.st.level_ref


def test_level_does_nothing_with_key_off():
    v = fresh()
    _at(v, 100000, 200, 0, 0)
    assert not v.st.level_ref
