# D65 on the real traces: a charge's range is scaled from a range the car reported,
# never from the 50 km power-on placeholder.
#
# Init-Drv: 0x155 turns valid at 11.385 s while 0x597 still says offline (0xF0), so
# the 0x599 range 46 km (sent since 10.979 s) is refused until 0x597 reads 0x95 at
# 11.900 s. The minimum SOC 96.06 % is recorded first, with the 2013 placeholder
# range 50 km; a later charge to 100 % scaled it to 50 x 10000 / 9606 = 52 km, shown
# as "53 - 53 km" (via miles). Scaled from the real 46 km: 47 km, shown "48 - 48 km".
from truth_helpers import run

DAY = ("Init-Drv", "End-Drv", "Init-Chg", "End-Chg")
DONE_TAIL = "\r SOC: 100.00% (96.06%..100.00%)\r ODO: 31000 km"


def test_charge_after_init_drv_scales_the_real_range():
    v, link = run(DAY, exact=False, until_s=40)
    st = v.st
    assert (st.soc_min, st.soc_min_range) == (9606, 46)
    assert link.pushes() == [(31, "Charging Done\r CHG: 4 Wh\r Range: 48 - 48 km" + DONE_TAIL)]
    assert link.sms == [
        (31, "Charging Done\n CHG: 4 Wh\n Range: 48 - 48 km" + DONE_TAIL.replace("\r", "\n"))
    ]
    assert link.status()[-1] == (31, "MP-0 S100,K,230,10,done,standard,48,48,0,0,0,0,0,4,0,0,0,-1")
    assert v.server_command(200, "")[1] == (
        "MP-0 c200,0,00E0,0004,4,0,0,3100042,10000,9606,10000,47,46,30,30"
    )


def test_the_2013_module_scaled_the_placeholder():
    v, link = run(DAY, exact=True, until_s=40)
    st = v.st
    assert (st.soc_min, st.soc_min_range) == (9606, 50)  # captured before the range
    assert link.pushes() == [(28, "Charging Done\r CHG: 4 Wh\r Range: 53 - 53 km" + DONE_TAIL)]
    assert link.status()[-1] == (28, "MP-0 S100,K,230,10,done,standard,53,53,0,0,0,0,0,4,0,0,0,-1")


def test_init_drv_alone_same_in_both():
    # the drive itself: the range line is the car's 46 km in both behaviours
    for exact in (True, False):
        v, _ = run(("Init-Drv",), exact)
        assert v.st.range_km == 46
        assert v.stat_text() == (
            "Not charging\n Full charge: 26 min.\n Range: 46 - 46 km\n"
            " SOC: 96.06% (96.06%..96.06%)\n ODO: 42206 km"
        )


def test_charge_without_any_reported_range_has_no_range_line():
    # Init-Chg: the module sees the car only while charging, when 0x599's range is
    # refused: the 2013 module showed its placeholder 50 km as the range
    v, link = run(("Init-Chg",), exact=False, until_s=20)
    assert v.st.range_km == 0 and v.st.car_estrange == 0
    assert v.stat_text() == (
        "Charging, Topping off\n CHG: 4 Wh\n Full: 12 min.\n"
        " SOC: 98.16% (98.10%..98.16%)\n ODO: 31000 km"
    )
    # the S record says 0 = unknown for both ranges
    assert link.status() == [(8, "MP-0 S98,K,230,10,topoff,standard,0,0,0,0,0,0,0,2,0,0,0,-1")]
    v, _ = run(("Init-Chg",), exact=True, until_s=20)
    assert v.stat_text() == (
        "Charging, Topping off\n CHG: 4 Wh\n Full: 12 min.\n Range: 50 - 50 km\n"
        " SOC: 98.16% (98.10%..98.16%)\n ODO: 31000 km"
    )
