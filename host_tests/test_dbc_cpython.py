# twizy.dbc against our decoder (lib/ovms/twizy/frames.py): cantools loads
# the DBC, and every frame of every bundled real trace is decoded both ways
# and compared, value by value, with the decoder's validity rules applied as
# the DBC comments state them (D84). CPython only (cantools).
# Licence: MIT (this project).
import os

import cantools
import support

from ovms.twizy import frames
from ovms.twizy.state import (
    N_CELLS,
    SENSORS_GOT55E,
    SENSORS_GOT554,
    SENSORS_GOT556,
    SENSORS_GOT557,
    SENSORS_READY,
    State,
)

DBC = os.path.join(support.ROOT, "twizy.dbc")
TRACES = sorted(f for f in os.listdir(support.TRACES) if f.endswith(".candump.log"))


def _db():
    return cantools.database.load_file(DBC, strict=True)


def _frames(path):
    # candump -L lines -> (can_id, bytes)
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and "#" in parts[2]:
                ident, data = parts[2].split("#", 1)
                yield int(ident, 16), bytes.fromhex(data)


def test_dbc_has_exactly_the_decoders_ids():
    db = _db()
    assert sorted(m.frame_id for m in db.messages) == sorted(frames.USED_IDS)
    for m in db.messages:
        for s in m.signals:
            assert s.unit is not None or s.name in ("Phase", "KeyOn", "Charging", "Offline",
                "StatusLow", "StatusBit7") or s.name.startswith("VIN_"), s.name  # fmt: skip
            assert s.comment or m.comment, s.name  # every decision is in a comment


def _check_trace(db, path):
    # -> {can_id: frames compared}; asserts on the first mismatch
    st = State()
    slot = bytearray(8)
    seen = {}
    first_vin = True
    for can_id, data in _frames(path):
        if can_id not in frames.USED_IDS:
            continue
        n = len(data)
        slot[:n] = data
        before = st.sensor_state
        frames.decode(st, can_id, slot, n)
        msg = db.get_message_by_frame_id(can_id)
        v = msg.decode(data, decode_choices=False)
        raw = msg.decode(data, decode_choices=False, scaling=False)
        where = "%s %03X#%s" % (os.path.basename(path), can_id, data.hex())
        compared = True
        if can_id == 0x155:
            if raw["Phase"] != 0x54:
                compared = False
            else:
                if 0 < raw["SOC"] <= 40000:
                    assert st.soc == raw["SOC"] >> 2, where
                    assert abs(v["SOC"] - st.soc / 100.0) < 0.0025 + 1e-9, where
                if 0 < raw["BatteryPower"] < 0x0F00:
                    assert st.power == 2000 - raw["BatteryPower"], where
                    assert st.power * 16 == v["BatteryPower"], where
        elif can_id == 0x597:
            status = (raw["StatusBit7"] << 7 | raw["Offline"] << 6 | raw["Charging"] << 5
                      | raw["KeyOn"] << 4 | raw["StatusLow"])  # fmt: skip
            assert st.status == status, where
            if 0 < raw["PEMTemp"] < 0xF0:
                assert st.car_tpem == v["PEMTemp"], where
        elif can_id == 0x599:
            if raw["Speed"] != 0xFFFF:
                assert st.speed == raw["Speed"] and abs(st.speed / 100.0 - v["Speed"]) < 1e-9
            if st.status & 0x60 == 0 and 0 < raw["Range"] < 0xFF:
                assert st.range_km == v["Range"], where
        elif can_id == 0x59E:
            t = raw["MotorTemp"]
            assert st.car_tmotor == (v["MotorTemp"] if 40 < t < 0xF0 else 0), where
        elif can_id == 0x5D7:
            assert st.odo == raw["Odometer"] and abs(st.odo / 100.0 - v["Odometer"]) < 1e-6
        elif can_id == 0x69F:
            if not first_vin:
                compared = False
            else:
                text = "".join("%X" % raw["VIN_Digit%d" % k] for k in range(1, 8))
                assert bytes(st.vin).decode() == text, where
                first_vin = False
        elif can_id == 0x554:
            compared = (
                st.sensor_state == SENSORS_GOT554 and before != SENSORS_READY and data[0] != 0xFF
            )
            for m in range(7) if compared else ():
                assert st.temp_new[m] - 40 == v["ModuleTemp%d" % (m + 1)], where
        elif can_id in (0x556, 0x557, 0x55E):
            want, first = {0x556: (SENSORS_GOT556, 0), 0x557: (SENSORS_GOT557, 5),
                           0x55E: (SENSORS_GOT55E, 10)}[can_id]  # fmt: skip
            compared = st.sensor_state == want and before != want
            count = 4 if can_id == 0x55E else 5
            for c in range(first, first + count) if compared else ():
                assert st.cell_new[c] == raw["CellVolt%d" % (c + 1)], where
                assert abs(st.cell_new[c] * 0.005 - v["CellVolt%d" % (c + 1)]) < 1e-9, where
        elif can_id == 0x55F:
            compared = st.sensor_state == SENSORS_READY and before == SENSORS_GOT55E
            if compared:
                assert st.pack_act == (raw["PackVolt1"] + raw["PackVolt2"]) >> 1, where
                assert list(st.cell_act) == list(st.cell_new)[:N_CELLS], where
                st.sensor_state = 0  # the per-second tick's job (spec 5.3): next set
        if compared:
            seen[can_id] = seen.get(can_id, 0) + 1
    return seen


def test_every_real_trace_decodes_the_same_with_the_dbc():
    db = _db()
    total = {}
    assert len(TRACES) == 6
    for name in TRACES:
        seen = _check_trace(db, os.path.join(support.TRACES, name))
        assert seen.get(0x155, 0) > 0, name  # every trace has valid energy frames
        for k in seen:
            total[k] = total.get(k, 0) + seen[k]
    # every message of the DBC was compared on real data
    assert sorted(total) == sorted(frames.USED_IDS), total
    assert total[0x155] > 1000 and total[0x55F] >= 10, total


def test_a_wrong_dbc_scaling_is_caught():
    # the cross-check can fail: a DBC with the cell scale off by one step
    with open(DBC) as f:
        text = f.read()
    text = text.replace("CellVolt3 : 31|12@0+ (0.005,0)", "CellVolt3 : 31|12@0+ (0.0055,0)")
    db = cantools.database.load_string(text, strict=True)
    try:
        _check_trace(db, support.trace("Init-Drv"))
    except AssertionError:
        return
    raise AssertionError("the wrong scaling went unnoticed")
