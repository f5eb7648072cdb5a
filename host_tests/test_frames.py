# spec §1, §9.2: single-frame decodes and validity guards
from twizy_helpers import feed, fresh

from ovms.twizy.state import ACCEL, CONST, DECEL, DROP_GROUP_ORDER, DROP_SHORT


def test_155_valid_soc_and_power():
    v = fresh()
    feed(v, "155: 07 97 C7 54 97 98 00 73")
    st = v.st
    assert st.soc == 9702
    assert st.power == 9  # 144 W drawn
    assert st.speedpwr[0] == 1 and st.speedpwr[1] == 9 and st.speedpwr[2] == 0
    assert st.soc_min == 9702 and st.soc_max == 9702
    assert st.soc_min_range == 50  # power-on range_km captured (D19)


def test_155_switch_phase_ignored_completely():
    v = fresh()
    feed(v, "155: 07 97 C7 94 97 98 00 73")
    assert v.st.soc == 5000
    assert v.st.power == 0
    assert v.st.speedpwr[0] == 0


def test_155_zero_soc_and_power_out_of_range_ignored():
    v = fresh()
    feed(v, "155: 00 0F 00 54 00 00 00 00")
    assert v.st.soc == 5000
    assert v.st.speedpwr[0] == 0


def test_155_charging_power_is_negative_and_counts_as_recovered():
    v = fresh()
    feed(v, "155: 07 98 5A 54 4E 1C 00 00")
    assert v.st.power == -138  # -2208 W
    assert v.st.soc == 4999
    assert v.st.speedpwr[2] == 138
    assert v.st.level_rec == 138


def test_597_status_and_pem_temperature():
    v = fresh()
    feed(v, "597: 00 95 21 41 29 00 01 35")
    assert v.st.status == 0x95 and v.st.car_tpem == 13
    feed(v, "597: 20 A4 03 B1 29 00 01 64")
    assert v.st.status == 0xA4 and v.st.car_tpem == 60
    feed(v, "597: 00 E4 00 D1 29 00 01 31")
    assert v.st.status == 0xE4 and v.st.car_tpem == 9
    feed(v, "597: 00 95 21 41 29 00 01 F0")  # invalid temperature: unchanged
    assert v.st.car_tpem == 9


def test_599_range_and_speed():
    v = fresh()
    feed(v, "597: 00 95 21 41 29 00 01 35")
    feed(v, "599: 00 00 0D 80 FF 46 00 00")
    assert v.st.range_km == 70
    assert v.st.speed == 0
    feed(v, "599: 00 00 0D 80 FF 46 1F B2")
    assert v.st.speed == 8114
    v.tick()
    assert v.st.car_speed == 81
    m = fresh("M")
    feed(m, "599: 00 00 0D 80 FF 46 1F B2")
    m.tick()
    assert m.st.car_speed == 51


def test_599_range_not_taken_while_charging_or_offline():
    v = fresh()
    feed(v, "597: 20 A4 03 B1 29 00 01 64")  # charging
    feed(v, "599: 00 00 0D 80 FF 46 00 00")
    assert v.st.range_km == 50
    feed(v, "597: 00 E4 00 D1 29 00 01 31")  # offline
    feed(v, "599: 00 00 0D 80 FF 46 00 00")
    assert v.st.range_km == 50
    feed(v, "597: 00 95 21 41 29 00 01 35")
    feed(v, "599: 00 00 0D 80 FF FF 00 00")  # 0xFF invalid
    assert v.st.range_km == 50
    feed(v, "599: 00 00 0D 80 FF 00 00 00")  # 0 invalid
    assert v.st.range_km == 50


def test_speed_state_sequence():
    v = fresh()
    states = []
    for speed in (0, 5, 15, 30, 25, 15):
        feed(v, "599: 00 00 0D 80 FF 46 %02X %02X" % (speed >> 8, speed & 255))
        states.append(v.st.speed_state)
    assert states == [CONST, CONST, ACCEL, ACCEL, CONST, DECEL]
    feed(v, "599: 00 00 0D 80 FF 46 FF FF")  # invalid speed: unchanged
    assert v.st.speed == 15 and v.st.speed_state == DECEL


def test_59e_motor_temperature():
    v = fresh()
    feed(v, "59E: 00 00 0C F2 29 31 00 00")
    assert v.st.car_tmotor == 9
    feed(v, "59E: 00 00 0C F2 29 28 00 00")
    assert v.st.car_tmotor == 0


def test_69f_vin_once():
    v = fresh()
    assert v.st.vin_text() is None
    feed(v, "69F: F0 82 87 37")
    assert v.st.vin_text() == "7378280"
    feed(v, "69F: F1 11 11 11")
    assert v.st.vin_text() == "7378280"


def test_69f_vin_hex_nibbles_d13():
    v = fresh()
    feed(v, "69F: FA BC DE F0")
    assert v.st.vin_text() == "0FEDCBA"


def test_5d7_odometer():
    v = fresh()
    feed(v, "5D7: 00 00 00 6C 53 40 00")
    assert v.st.odo == 443700
    v.tick()
    assert v.st.car_odometer == 27731
    assert "\n ODO: 4437 km" in v.stat_text()
    m = fresh("M")
    feed(m, "5D7: 00 00 00 6C 53 40 00")
    m.tick()
    assert "\n ODO: 2773 mi" in m.stat_text()


def test_556_cells_and_55f_pack():
    v = fresh()
    v.inject(10)
    st = v.st
    assert list(st.cell_act) == [
        823,
        821,
        821,
        821,
        821,
        821,
        821,
        821,
        821,
        821,
        821,
        820,
        820,
        822,
    ]
    assert st.pack_act == 574
    assert list(st.temp_act) == [51] * 7
    assert st.sensor_state == 5


def test_short_frames_dropped_and_counted_d15():
    v = fresh()
    for ident, dlc in (
        (0x155, 5),
        (0x597, 7),
        (0x599, 7),
        (0x59E, 5),
        (0x5D7, 5),
        (0x69F, 3),
        (0x554, 6),
        (0x556, 7),
        (0x557, 7),
        (0x55E, 5),
        (0x55F, 7),
    ):
        v.frame(ident, bytearray(b"\x01" * 8), dlc)
    assert v.st.dropped[DROP_SHORT] == 11
    assert v.st.soc == 5000 and v.st.status == 0x40 and v.st.vin_text() is None


def test_unknown_ids_ignored():
    v = fresh()
    for ident in (0x080, 0x196, 0x19F, 0x423, 0x436, 0x59B, 0x627, 0x701, 0x7FF, 0x1FFFFFFF):
        v.frame(ident, bytearray(b"\x00\x95\x00\x54\x97\x98\x00\x73"), 8)
    assert v.st.status == 0x40 and v.st.soc == 5000
    assert v.st.frames == 10


def test_group_order_window():
    # spec §9.4 chunks 21-25: partial bursts, ticks in between process nothing
    v = fresh()
    v.inject(21)
    assert v.st.sensor_state == 1
    v.tick()
    assert v.st.sensor_state == 1
    for chunk, state in ((22, 2), (23, 3), (24, 4)):
        v.inject(chunk)
        assert v.st.sensor_state == state
        v.tick()
        assert v.st.sensor_state == state
    v.inject(25)
    assert v.st.sensor_state == 5
    v.tick()
    assert v.st.sensor_state == 0
    assert v.sms("BATT", []) == ["Volts: ?C1:+10mV Temps: OK "]
    v.inject(22)  # directly after a processed set: ignored
    assert v.st.sensor_state == 0
    v.inject(23)  # out of order: ignored and counted
    assert v.st.sensor_state == 0
    assert v.st.dropped[DROP_GROUP_ORDER] == 1


def test_group_frame_with_ff_marker_ignored():
    v = fresh()
    feed(v, "554: FF FF FF FF FF FF FF 00")
    assert v.st.sensor_state == 0
    v.inject(21)
    feed(v, "556: FF FF FF FF FF FF FF FA")
    assert v.st.sensor_state == 1


def test_55f_marker_is_b5_d25():
    # real 0x55F frames carry FF in b0 b1; the pack voltage in b5..b7
    v = fresh()
    for c in (21, 22, 23, 24):
        v.inject(c)
    feed(v, "55F: FF FF 73 00 00 FF FF FF")  # switch-on placeholder: ignored
    assert v.st.sensor_state == 4
    feed(v, "55F: FF FF 73 00 00 23 D2 3D")
    assert v.st.sensor_state == 5
    assert v.st.pack_act == (0x23D + 0x23D) >> 1
