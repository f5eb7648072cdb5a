# D67 on the real traces: a charge state change alerts only after it held CHG_HOLD_S
# seconds; a stop undone sooner is a flicker that alerts nobody and keeps CHG.
#
# Init-Chg charges from 4.3 s on. One offline 0x597 frame in the charge (End-Chg's
# own 597#20E403D12F00014E, as the car sends it while a charge ends) in place of the
# charging frame just before tick 8: the 2013 module sent "Charging Stopped" at tick
# 8, "Charging" at tick 9 and restarted CHG from 0 Wh (the flapping OVMS3 owners
# report, openvehicles/Open-Vehicle-Monitoring-System-3#584). The hold runs on the
# replay's virtual clock (one tick per second of the trace), never on wall time.
# Seven replays in all: the module also runs on the emulated Cortex-M.
from truth_helpers import OFFLINE_597, run

from ovms.twizy.state import CHG_HOLD_S, REQ_CHARGE

_FLICKER_US = 7914286  # the last 0x597 frame before tick 8 (Init-Chg's clock)
_WH = 22500  # CHG rec units per Wh


def _one_offline_frame(t, can_id, data):
    if can_id == 0x597 and t == _FLICKER_US:
        assert data[1] == 0xA4  # it was a charging frame
        return OFFLINE_597
    return data


def _firsts(sms):
    return [(t, s.split("\n")[0]) for t, s in sms]


def test_one_offline_frame():
    v, link = run(("Init-Chg",), exact=False, until_s=20, patch=_one_offline_frame)
    old, old_link = run(("Init-Chg",), exact=True, until_s=20, patch=_one_offline_frame)
    plain, plain_link = run(("Init-Chg",), exact=False, until_s=20)
    # 2013: stopped, resumed one second later, CHG restarted from 0 Wh
    assert _firsts(old_link.sms) == [(8, "Charging Stopped"), (9, "Charging")]
    assert old_link.sms[0][1].startswith("Charging Stopped\n CHG: 2 Wh\n")
    assert old_link.sms[1][1].startswith("Charging\n CHG: 0 Wh\n")
    assert old.stat_text().startswith("Charging, Topping off\n CHG: 1 Wh\n")
    # the state machine follows the car in both (tick 8: 21 = stopped); from tick 9
    # the owner view is topping off again with CHG counting on, its alert held
    assert old_link.trail[8][0] == link.trail[8][0] == 21
    assert old_link.trail[9][:2] == (1, 0) and old_link.trail[9][1] < _WH
    state, chg, requests = link.trail[9]
    assert state == 2 and chg > _WH and requests & REQ_CHARGE
    # nobody is alerted; nothing the owner sees differs from the charge without it
    assert link.sms == [] and link.pushes() == []
    assert (
        v.stat_text()
        == plain.stat_text()
        == (
            "Charging, Topping off\n CHG: 4 Wh\n Full: 12 min.\n"
            " SOC: 98.16% (98.10%..98.16%)\n ODO: 31000 km"
        )
    )
    assert link.status() == [(12, "MP-0 S98,K,230,10,topoff,standard,0,0,0,0,0,0,0,2,0,0,0,-1")]
    assert [x for _, x in link.status()] == [x for _, x in plain_link.status()]
    assert v.st.soc_max == plain.st.soc_max == 9816


def test_a_real_end_alerts_hold_seconds_later():
    # Init-Chg then End-Chg: the charge ends at 100 % (0x597 0xA4 -> 0xE4 -> 0xE0)
    v, link = run(("Init-Chg", "End-Chg"), exact=False, until_s=40)
    old, old_link = run(("Init-Chg", "End-Chg"), exact=True, until_s=40)
    ((t_old, _),) = old_link.pushes()
    done = "Charging Done\r CHG: 4 Wh\r SOC: 100.00% (98.10%..100.00%)\r ODO: 31000 km"
    assert link.pushes() == [(t_old + CHG_HOLD_S, done)]
    assert link.sms == [(t_old + CHG_HOLD_S, done.replace("\r", "\n"))]
    assert link.status()[-1] == (
        t_old + CHG_HOLD_S,
        "MP-0 S100,K,230,10,done,standard,0,0,0,0,0,0,0,4,0,0,0,-1",
    )
    assert v.st.car_chargestate == old.st.car_chargestate == 4


def test_a_stop_of_seconds_is_still_a_stop():
    # Init-Chg twice: the charger goes offline for 3.6 s (0xE0, 0xE4) before it
    # charges again. Longer than the hold: "Charging Stopped", then the new charge
    _, link = run(("Init-Chg", "Init-Chg"), exact=False, until_s=40)
    _, old_link = run(("Init-Chg", "Init-Chg"), exact=True, until_s=40)
    assert _firsts(old_link.sms) == [(12, "Charging Stopped"), (16, "Charging")]
    assert _firsts(link.sms) == [
        (12 + CHG_HOLD_S, "Charging Stopped"),
        (16 + CHG_HOLD_S, "Charging, Topping off"),
    ]
    assert link.sms[0][1].startswith("Charging Stopped\n CHG: 4 Wh\n")
