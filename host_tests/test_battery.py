# spec §5, §9.4: battery monitor with simulator chunks 10/11/12
from twizy_helpers import Link, chunk_tick, fresh

from ovms.twizy import battery
from ovms.twizy.state import NTF_BATTERY_ALERT, NTF_BATTERY_STATS

V10 = (
    "P:57.40V ?1:4.115V 2:4.105V 3:4.105V 4:4.105V 5:4.105V 6:4.105V 7:4.105V 8:4.105V "
    "9:4.105V 10:4.105V 11:4.105V 12:4.100V 13:4.100V 14:4.110V "
)
VD10 = (
    "P:57.40V ?1:+10mV 2:+0mV 3:+0mV 4:+0mV 5:+0mV 6:+0mV 7:+0mV 8:+0mV 9:+0mV 10:+0mV "
    "11:+0mV 12:-5mV 13:-5mV 14:+5mV "
)


def test_chunk_10():
    v = fresh()
    chunk_tick(v, 10)
    st = v.st
    assert st.car_tbattery == 11 and st.car_stale_temps == 120
    assert st.volt_watches == 0x0001 and st.volt_alerts == 0
    assert st.temp_watches == 0 and st.temp_alerts == 0
    assert list(st.cell_maxdev) == [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 1]
    assert not st.notify & NTF_BATTERY_ALERT
    assert v.sms("BATT", ["V"]) == [V10]
    assert v.sms("BATT", ["VD"]) == [VD10]
    assert v.sms("BATT", ["T"]) == ["P:11C (11C..11C) 1:11C 2:11C 3:11C 4:11C 5:11C 6:11C 7:11C "]
    assert v.sms("BATT", ["td"]) == ["P:11C (11C..11C) 1:+0C 2:+0C 3:+0C 4:+0C 5:+0C 6:+0C 7:+0C "]
    assert v.sms("BATT", []) == ["Volts: ?C1:+10mV Temps: OK "]
    assert battery.pack_record(st) == (
        "MP-0 HRT-PWR-BattPack,1,86400,14,1,2,1,5000,10000,0,5740,410,5740,410,5740,410,11,11,11"
    )
    assert (
        battery.cell_record(st, 0)
        == "MP-0 HRT-PWR-BattCell,1,86400,1,2,1,4115,4115,4115,10,11,11,11,0"
    )
    assert (
        battery.cell_record(st, 13)
        == "MP-0 HRT-PWR-BattCell,14,86400,1,1,1,4110,4110,4110,5,11,11,11,0"
    )
    assert v.sms("DEBUG", [])[0].split("\n")[1] == (
        "# vw=0001 va=0000 lva=0000 tw=0000 ta=0000 lta=0000 ss=0"
    )


def test_chunks_10_11_12():
    v = fresh()
    chunk_tick(v, 10)
    chunk_tick(v, 11)
    st = v.st
    assert st.car_tbattery == 11
    assert list(st.temp_maxdev) == [0, 1, 0, 0, 0, 0, 0]
    assert st.temp_watches == 0
    assert v.sms("BATT", ["TD"]) == ["P:11C (11C..12C) 1:+0C 2:+1C 3:+0C 4:+0C 5:+0C 6:+0C 7:+0C "]
    assert v.sms("BATT", []) == ["Volts: ?C1:+10mV Temps: OK "]
    st.notify = 0
    chunk_tick(v, 12)
    assert st.temp_alerts == 0x02 and st.volt_alerts == 0x0010
    assert st.volt_watches == 0x0001
    assert list(st.temp_maxdev) == [-1, 4, -1, -1, 0, -1, 0]
    assert list(st.cell_maxdev) == [4, 2, 2, 2, -30, 2, 2, 2, 2, 2, 2, -1, -1, 3]
    assert st.car_tbattery == 12
    assert (
        st.notify & (NTF_BATTERY_ALERT | NTF_BATTERY_STATS)
        == NTF_BATTERY_ALERT | NTF_BATTERY_STATS
    )
    assert battery.alert_text(st) == "Volts: ?C1:+20mV !C5:-150mV Temps: !M2:+4C "
    assert v.sms("BATT", ["V"]) == [
        "P:57.40V ?1:4.115V 2:4.105V 3:4.105V 4:4.105V !5:3.945V 6:4.105V 7:4.105V 8:4.105V "
        "9:4.105V 10:4.105V 11:4.105V 12:4.100V 13:4.100V 14:4.110V "
    ]
    assert v.sms("BATT", ["VD"]) == [
        "P:57.40V ?1:+20mV 2:+10mV 3:+10mV 4:+10mV !5:-150mV 6:+10mV 7:+10mV 8:+10mV 9:+10mV "
        "10:+10mV 11:+10mV 12:-5mV 13:-5mV 14:+15mV "
    ]
    assert v.sms("BATT", ["T"]) == ["P:12C (11C..16C) 1:11C !2:16C 3:11C 4:11C 5:12C 6:11C 7:12C "]
    assert v.sms("BATT", ["TD"]) == [
        "P:12C (11C..16C) 1:-1C !2:+4C 3:-1C 4:-1C 5:+0C 6:-1C 7:+0C "
    ]
    assert battery.pack_record(st) == (
        "MP-0 HRT-PWR-BattPack,1,86400,14,1,3,3,5000,10000,0,5740,410,5740,410,5740,410,12,11,16"
    )
    assert (
        battery.cell_record(st, 2)
        == "MP-0 HRT-PWR-BattCell,3,86400,1,1,3,4105,4105,4105,10,16,11,16,4"
    )
    assert (
        battery.cell_record(st, 4)
        == "MP-0 HRT-PWR-BattCell,5,86400,1,3,1,3945,3945,4105,-150,11,11,11,-1"
    )
    # BATT answers and marks the alert state notified
    assert v.sms("BATT", []) == ["Volts: ?C1:+20mV !C5:-150mV Temps: !M2:+4C "]
    st.notify = 0
    chunk_tick(v, 12)
    assert not st.notify & NTF_BATTERY_ALERT


def test_chunk_12_alone():
    v = fresh()
    chunk_tick(v, 12)
    assert battery.alert_text(v.st) == "Volts: !C5:-150mV Temps: !M2:+4C "
    assert list(v.st.cell_maxdev) == [4, 2, 2, 2, -30, 2, 2, 2, 2, 2, 2, 1, 1, 3]


def test_reset_command_and_switch_on_reset():
    v = fresh()
    chunk_tick(v, 12)
    assert v.sms("BATT", ["R"]) == ["Battery monitor reset."]
    st = v.st
    assert st.volt_alerts == st.temp_alerts == st.volt_watches == 0
    assert list(st.cell_maxdev) == [0] * 14
    assert st.temp_min[1] == 56 and st.temp_max[1] == 56  # min = max = act
    chunk_tick(v, 10)
    assert v.sms("BATT", ["T"])[0].startswith("P:11C (11C..16C) ")


def test_reset_before_any_data_leaves_minmax_unset_d7():
    v = fresh()
    v.inject(0)  # key on -> switch-on reset before any battery frame
    v.tick()
    chunk_tick(v, 10)
    assert v.sms("BATT", ["T"])[0].startswith("P:11C (11C..11C) ")


def test_alert_dispatch_ip_only_marks_notified_d8():
    v = fresh(params={3: "IP"})
    link = Link()
    chunk_tick(v, 12)
    v.dispatch(link)
    assert link.lines[0] == "MP-0 PAVolts: !C5:-150mV Temps: !M2:+4C "
    # the battery records follow on the next pass (BatteryStats), then never again
    v.tick()
    v.dispatch(link)
    assert link.lines[1].startswith("MP-0 HRT-PWR-BattPack,1,86400,14,1,3,3,")
    assert len(link.lines) == 16
    for _ in range(5):
        chunk_tick(v, 12)
        v.dispatch(link)
    assert len(link.lines) == 16


def test_alert_sms_and_split_d9():
    v = fresh(params={3: "SMS"})
    link = Link()
    chunk_tick(v, 12)
    v.dispatch(link)
    assert link.sms == ["Volts: !C5:-150mV Temps: !M2:+4C "]
    # many flagged cells: split before an entry once the text exceeds 147 chars
    st = v.st
    st.volt_alerts = 0x3FFF
    for c in range(14):
        st.cell_maxdev[c] = -200
    parts = battery.alert_texts(st)
    assert len(parts) == 2
    assert all(len(p) <= 160 for p in parts)
    assert "".join(parts) == battery.alert_text(st)


def test_same_alert_after_reset_is_pushed_again():
    v = fresh(params={3: "IP"})
    link = Link()
    chunk_tick(v, 12)
    v.dispatch(link)
    v.sms("BATT", ["R"])
    v.dispatch(link)
    chunk_tick(v, 12)
    v.dispatch(link)
    pushed = [x for x in link.lines if x.startswith("MP-0 PA")]
    assert pushed == ["MP-0 PAVolts: !C5:-150mV Temps: !M2:+4C "] * 2


def test_pack_record_nominal_cell_voltage_rounding():
    # spec §8.4: P(x)/14 truncates after scaling; 5390 -> 385 (the guide's 380
    # came from an older rounding, D20)
    v = fresh()
    chunk_tick(v, 10)
    v.st.pack_min = 539
    rec = battery.pack_record(v.st).split(",")
    assert rec[12:14] == ["5390", "385"]
