# D66 on the real traces: a switch-on starts the battery monitor's min/max afresh.
#
# End-Drv (modules at 30-31 degC, key off) then Init-Drv (another day, 7-8 degC, key
# on): the 2013 reset at switch-on copied the act values, still the previous trip's
# (the bus was silent in between), so "BATT T" read "P:7C (7C..31C)". Now the first
# fresh sensor set of the trip starts min/max: "P:7C (7C..8C)".
from truth_helpers import run

from ovms.twizy import battery

TEMPS = " 1:8C 2:7C 3:7C 4:7C 5:7C 6:7C 7:7C "


def test_switch_on_starts_min_max_from_the_trip():
    v, _ = run(("End-Drv", "Init-Drv"), exact=False)
    assert v.sms("BATT", ["T"]) == ["P:7C (7C..8C)" + TEMPS]
    st = v.st
    # pack and cells: this trip's values only (End-Drv's pack read 57.6 V)
    assert (st.pack_min, st.pack_max) == (573, 573)
    assert battery.pack_record(st).endswith(",5730,409,5730,409,5730,409,7,7,8")
    for c in range(14):
        assert 800 <= st.cell_min[c] <= st.cell_max[c] <= 830, c  # 4.000..4.150 V


def test_the_2013_module_kept_the_previous_trip():
    v, _ = run(("End-Drv", "Init-Drv"), exact=True)
    assert v.sms("BATT", ["T"]) == ["P:7C (7C..31C)" + TEMPS]
    assert battery.pack_record(v.st).endswith(",7,7,31")


def test_batt_r_still_copies_the_live_values():
    # BATT R while the car is on resets to the values of that moment (spec §5.2), in
    # both behaviours: they are live then, not the previous trip's
    for exact in (True, False):
        v, _ = run(("End-Drv", "Init-Drv"), exact)
        assert v.sms("BATT", ["R"]) == ["Battery monitor reset."]
        assert v.sms("BATT", ["T"]) == ["P:7C (7C..8C)" + TEMPS]
        assert list(v.st.temp_min) == list(v.st.temp_act)
        v = None  # the next replay must not need room for two vehicles (143 KB heap)
