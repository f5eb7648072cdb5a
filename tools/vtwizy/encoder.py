# The virtual Twizy's CAN traffic: which IDs are on the bus in which state, when inside
# each second, and their payloads from the model (tools/vtwizy/model.py).
# Licence: MIT (this project). Host tool.
#
# Everything here is taken from the six real traces (host_tests/fixtures/traces):
#   - three bus states: DRIVE (key on: 26 IDs, ~497 frames/s), CHARGE (key off, charger
#     on: 16 IDs, ~215 frames/s), TOPUP (12 V top-up while parked: 12 IDs, ~145/s);
#   - the position of each ID inside its 10/20/100 ms or 1/3 s period (Init-Drv, the
#     only trace with the logger's times), e.g. 0x155 at 5 ms past each 10 ms;
#   - the battery group once a second in one burst, in order 0x554 0x556 0x557 0x55E
#     0x55F within 1.2 ms, right after that 100 ms slot's 0x155 0x424 0x425; its
#     first burst of a session all 0xFF (sensors not ready), as in every Init trace;
#   - the switch-on/-off sequences of 0x597 b1 with their durations (Init-Drv F0 F4 F5
#     95; End-Drv 85 E5 E4 E0; Init-Chg E0 E4 A4; End-Chg E4 E0; Init-Trc E0 E4 84;
#     End-Trc E4 E0), 0x155 b3 0x94 (invalid) during them, 0x599/0x5D7 speed 0xFFFF
#     while offline or charging, 0x599 range 0xFF at switch-on.
# Bytes the traces show constant and no decoder reads are copied from them.
# D62: the unlabelled fields get plausible values with the meaning the community's
# object list gives them (0x424 b4/b7 coldest/warmest module, b5 SOH; 0x426 b3 b4
# odometer km; 0x436 a minute counter; 0x59B b0 gear 0x80 D / 0x08 R / 0x20 N, b1 0x01
# GO, 0x08 foot brake, b3 pedal; 0x59E b0 b1 a 10 m distance counter; 0x19F b2 b3 motor
# rpm/10 + 2000; 0x196 b5 motor temperature; 0x597 b0 0x20 mains connected, b2 12 V
# DC/DC current x5, b7 charger temperature).

from tools.vtwizy.model import t40

DRIVE = 0
CHARGE = 1
TOPUP = 2

# (offset in the second in us, CAN ID, every n-th second or 0 = every slot pass)
_10MS_DRIVE = ((5000, 0x155), (9000, 0x196), (9300, 0x19F))
_20MS_DRIVE = ((19500, 0x080),)
_100MS = {
    DRIVE: (
        (5100, 0x424),
        (5200, 0x425),
        (5800, 0x556),
        (6900, 0x628),
        (39000, 0x59B),
        (39100, 0x59E),
        (39200, 0x629),
        (75500, 0x5D7),
        (79800, 0x599),
        (83800, 0x436),
        (99600, 0x423),
        (99700, 0x426),
        (99800, 0x597),
        (99900, 0x627),
    ),
    CHARGE: (
        (5100, 0x424),
        (5200, 0x425),
        (5800, 0x556),
        (6900, 0x628),
        (75500, 0x5D7),
        (79800, 0x599),
        (83800, 0x436),
        (99600, 0x423),
        (99700, 0x426),
        (99800, 0x597),
        (99900, 0x627),
    ),
    TOPUP: (
        (5100, 0x424),
        (5200, 0x425),
        (5800, 0x556),
        (6900, 0x628),
        (99600, 0x423),
        (99700, 0x426),
        (99800, 0x597),
        (99900, 0x627),
    ),
}
GROUP_SLOT = 8  # the battery group goes out in the 9th 100 ms slot of each second
_GROUP = ((5300, 0x554), (5600, 0x556), (5900, 0x557), (6200, 0x55E), (6500, 0x55F))
_VIN_SLOT = (5, 88000)  # 0x69F: slot, offset (DRIVE and CHARGE)
_659 = (8, 7000)  # every 3rd second
_701 = ((1, 40000), (6, 40000))  # DRIVE only, twice a second


def slot_table(state):
    # the 10 slots of one second: per slot a sorted list of (offset_us in slot, id, kind)
    # kind: 0 every second, 1 battery group (replaces that slot's 0x556), 3 every 3rd s,
    # 2 VIN (not in TOPUP)
    slots = []
    for s in range(10):
        rows = []
        if state == DRIVE:
            for k in range(10):
                for off, i in _10MS_DRIVE:
                    rows.append((k * 10000 + off - 5000 if i == 0x155 else k * 10000 + off, i, 0))
            for k in range(5):
                rows.append((k * 20000 + _20MS_DRIVE[0][0], 0x080, 0))
            for sl, off in _701:
                if sl == s:
                    rows.append((off, 0x701, 0))
        else:
            for k in range(10):
                rows.append((k * 10000, 0x155, 0))
        for off, i in _100MS[state]:
            if s == GROUP_SLOT and i == 0x556:
                continue
            rows.append((off, i, 0))
        if s == GROUP_SLOT:
            for off, i in _GROUP:
                rows.append((off, i, 1))
            rows.append((_659[1], 0x659, 3))
        if s == _VIN_SLOT[0] and state != TOPUP:
            rows.append((_VIN_SLOT[1], 0x69F, 2))
        rows.sort()
        slots.append(rows)
    return slots


SLOTS = (slot_table(DRIVE), slot_table(CHARGE), slot_table(TOPUP))

# ---- status byte sequences (ms after the session's start / end) -----------------------
_ON_SEQ = {
    DRIVE: ((905, 0xF0), (1044, 0xF4), (1325, 0xF5)),
    CHARGE: ((3580, 0xE0), (4300, 0xE4)),
    TOPUP: ((955, 0xE0), (1284, 0xE4)),
}
_RUN = {DRIVE: 0x95, CHARGE: 0xA4, TOPUP: 0x84}
_OFF_SEQ = {
    DRIVE: ((100, 0x85), (580, 0xE5), (1140, 0xE4)),
    CHARGE: ((450, 0xE4),),
    TOPUP: ((500, 0xE4),),
}
VALID_AFTER_MS = {DRIVE: 810, CHARGE: 3514, TOPUP: 864}  # 0x155 b3 0x94 -> 0x54
RUNNING_AFTER_MS = {DRIVE: 1325, CHARGE: 4300, TOPUP: 1284}
# which node sends an ID, and when each node is on the bus (the six traces):
# (ms after the session's start, ms after the off sequence reached 0xE0)
BMS, DRIVETRAIN, BODY, DASH = 0, 1, 2, 3
NODE = {}
for _i in (0x155, 0x424, 0x425, 0x554, 0x556, 0x557, 0x55E, 0x55F, 0x628, 0x659):
    NODE[_i] = BMS
for _i in (0x080, 0x196, 0x19F, 0x59B, 0x59E, 0x629, 0x701):
    NODE[_i] = DRIVETRAIN
for _i in (0x423, 0x426, 0x597, 0x627):
    NODE[_i] = BODY
for _i in (0x436, 0x599, 0x5D7, 0x69F):
    NODE[_i] = DASH
LIFE = {
    DRIVE: ((230, 100), (1560, -490), (0, 2200), (0, 9000)),
    CHARGE: ((2830, 120), (0, 0), (0, 670), (0, 650)),
    TOPUP: ((320, 90), (0, 0), (0, 410), (0, 0)),
}
OFF_TO_E0_MS = {DRIVE: 1140, CHARGE: 450, TOPUP: 500}
# the whole bus is silent this long after the session's end (the last node's stop)
TAIL_MS = {DRIVE: 1140 + 9000, CHARGE: 450 + 670, TOPUP: 500 + 410}


def status_b1(state, on_ms, off_ms):
    # 0x597 b1 for a session on_ms after its start; off_ms after its end (-1: running)
    if off_ms >= 0:
        for until, b in _OFF_SEQ[state]:
            if off_ms < until:
                return b
        return 0xE0
    for until, b in _ON_SEQ[state]:
        if on_ms < until:
            return b
    return _RUN[state]


def _be16(v):
    return (v >> 8) & 0xFF, v & 0xFF


def _cells5(c, a, tail):
    # five (or four) 12-bit values packed big-endian from b0; tail = low nibble of b7
    b = bytearray(8)
    b[0] = c[a] >> 4
    b[1] = ((c[a] & 0x0F) << 4) | (c[a + 1] >> 8)
    b[2] = c[a + 1] & 0xFF
    b[3] = c[a + 2] >> 4
    b[4] = ((c[a + 2] & 0x0F) << 4) | (c[a + 3] >> 8)
    b[5] = c[a + 3] & 0xFF
    if tail is None:  # 0x55E: four cells, b6 b7 as in the traces
        return b
    b[6] = c[a + 4] >> 4
    b[7] = ((c[a + 4] & 0x0F) << 4) | tail
    return b


FF_GROUP = {
    0x554: bytes.fromhex("FFFFFFFFFFFFFF00"),
    0x556: bytes.fromhex("FFFFFFFFFFFFFFFA"),
    0x557: bytes.fromhex("FFFFFFFFFFFFFFF0"),
    0x55E: bytes.fromhex("FFFFFFFFFFFF0000"),
    0x55F: bytes.fromhex("FFFF730000FFFFFF"),
}


class Payloads:
    # builds each ID's payload for the current 100 ms slot; the 10 ms ones are cached
    # per slot (the model steps every 100 ms)
    def __init__(self, model, soh=97):
        self.m = model
        self.soh = soh
        self.minutes = 0x17930 + model.rng.below(0x20000)  # 0x436 counter
        self.cache = {}

    def new_slot(self, state, on_ms, off_ms):
        # once per 100 ms slot before its frames: on_ms after the session's start,
        # off_ms after its end (-1 while it runs)
        self.state = state
        self.on_ms = on_ms
        self.off_ms = off_ms
        self.status = status_b1(state, on_ms, off_ms)
        self.online = self.status & 0x40 == 0
        life = LIFE[state]
        after_e0 = off_ms - OFF_TO_E0_MS[state] if off_ms >= 0 else -1_000_000
        self.alive = [on_ms >= a and after_e0 < b for a, b in life]
        if state != DRIVE:
            self.alive[DRIVETRAIN] = False
        if state == TOPUP:
            self.alive[DASH] = False
        self.bms_ms = on_ms - life[BMS][0]  # since the BMS joined the bus
        self.valid = on_ms >= VALID_AFTER_MS[state] and after_e0 < 0  # 0x155 b3 0x54
        self.group_ok = self.bms_ms >= 1000  # its first burst is all 0xFF
        self.cache = {}
        self.cells = None

    def frame(self, can_id):
        c = self.cache.get(can_id)
        if c is not None:
            return c
        d = self._build(can_id)
        if can_id in (0x155, 0x196, 0x19F, 0x080):
            self.cache[can_id] = d
        return d

    def _cells(self):
        if self.cells is None:
            self.cells = self.m.cells_raw()
        return self.cells

    def _build(self, i):
        m = self.m
        st = self.state
        if i == 0x155:
            p = 2000 - m.current_q()
            if self.bms_ms < 55:
                b0 = 0xFF
            elif st == CHARGE:
                b0 = (-m.current_ma * 7 + 16500) // 33000 if m.charging else 1
            else:
                b0 = 7
            s = m.soc_raw()
            return bytes(
                (
                    b0,
                    0x90 | (p >> 8),
                    p & 0xFF,
                    0x54 if self.valid else 0x94,
                    s >> 8,
                    s & 0xFF,
                    0x00,
                    0x73,
                )
            )
        if i == 0x196:
            return bytes((0, 0xFF, 0xE7, 0x7F, 0x70, t40(m.motor_c), 0x0B, 0))
        if i == 0x19F:
            u = m.motor_rpm() // 10 + 2000
            go = 0x40 if self.on_ms >= 1825 and self.off_ms < 0 else 0
            return bytes((0xFF, 0xFF, u >> 4, ((u & 0x0F) << 4) | 0x0F, 0x38, 0xFF, go, 0xFE))
        if i == 0x080:
            return b""
        if i == 0x597:
            b3 = (0x41, 0xB1, 0x91)[st] if self.online else (0xD1 if self.off_ms >= 0 else 0xA1)
            return bytes(
                (
                    0x20 if m.plugged else 0,
                    self.status,
                    m.dcdc_da // 2,
                    b3,
                    0x2F,
                    0,
                    1,
                    t40(m.charger_c),
                )
            )
        if i == 0x599:
            km = m.odo_mm // 1_000_000
            rng = 0xFF if st == DRIVE and self.on_ms < 400 else m.range_km
            sp = m.speed_c if self.online and st == DRIVE else 0xFFFF
            return bytes(
                (km >> 24, (km >> 16) & 0xFF, (km >> 8) & 0xFF, km & 0xFF, 0xFF, rng) + _be16(sp)
            )
        if i == 0x5D7:
            raw = (m.odo_mm // 10000) << 4 | (m.odo_mm % 10000) * 16 // 10000
            sp = m.speed_c if self.online and st == DRIVE else 0xFFFF
            return bytes(
                _be16(sp) + (raw >> 24, (raw >> 16) & 0xFF, (raw >> 8) & 0xFF, raw & 0xFF, 0)
            )
        if i == 0x59E:
            d = (m.trip_mm // 10000) & 0xFFFF
            return bytes(_be16(d) + (0x0C, 0xA1, 0xD5, t40(m.inverter_c), 0, 0))
        if i == 0x59B:
            gear = {"D": 0x80, "R": 0x08}.get(m.gear, 0x20)
            b1 = (0x01 if m.gear != "N" and self.online else 0) | (0x08 if m.accel < -0.5 else 0)
            pedal = int(m.accel * 120) if m.accel > 0 else 0
            return bytes((gear, b1, 0x64, pedal if pedal < 253 else 253, 0x40, 0x38, 0, 0x90))
        if i == 0x424:
            if self.bms_ms < 100:
                return bytes.fromhex("00FFFFFF7F7F007F")
            t = m.temps_raw()
            return bytes((0x11, 0x40, 0x04, 0x24, min(t), self.soh, 0, max(t)))
        if i == 0x425:
            if self.bms_ms < 100:
                return bytes.fromhex("1DFF4CFFFFFE01FF")
            return bytes(((0x2A, 0x0A, 0x24)[st], 0x38, 0x44, 0xFF, 0xFE, 0x6C, 0x01, 0x35))
        if i == 0x423:
            ramp = self.on_ms // 7 if self.off_ms < 0 else 0xE0 - self.off_ms // 70
            ramp = 0 if ramp < 0 else (0xE6 if ramp > 0xE6 else ramp)
            b1 = (0x36, 0x26, 0x30)[st] if self.online else 0
            return bytes((0x03 if self.online else 0, b1, 0xFF, 0xFF, 0, 0xE0, 0, ramp))
        if i == 0x426:
            if st == TOPUP:
                return bytes((0, 0x78 if self.online else 0x18, 1, 0, 0, 0, 0))
            km = (m.odo_mm // 1_000_000) & 0xFFFF
            b1 = (0x78, 0x38, 0x78)[st] if self.online else 0x18
            return bytes((0, b1, 1 if self.online else 2) + _be16(km) + (0x18 if st else 0xDF, 0))
        if i == 0x436:
            n = self.minutes + m.t_ms // 60000
            return bytes((n >> 24, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF, 0, 0))
        if i == 0x556:
            if not self.group_ok:
                return FF_GROUP[0x556]
            return bytes(_cells5(self._cells(), 0, 0x0A))
        if i in (0x554, 0x557, 0x55E, 0x55F):
            if not self.group_ok:
                return FF_GROUP[i]
            return self._group(i)
        if i in (0x627, 0x628, 0x629):
            return b"\x00\x00\x00"
        if i == 0x659:
            return b"\xff\xff\xff\xff"
        if i == 0x69F:
            v = [ord(ch) - 48 for ch in m.vin]  # VIN = n7 n6 .. n1
            n = [0xF, v[6], v[5], v[4], v[3], v[2], v[1], v[0]]
            return bytes([(n[2 * k] << 4) | n[2 * k + 1] for k in range(4)])
        if i == 0x701:
            return b"\x05" if self.on_ms >= 2064 else b"\x00"
        raise ValueError("no payload for 0x%03X" % i)

    def _group(self, i):
        m = self.m
        if i == 0x554:
            return bytes(m.temps_raw() + [0])
        c = self._cells()
        if i == 0x557:
            return bytes(_cells5(c, 5, 0x00))
        if i == 0x55E:
            b = _cells5(c, 10, None)
            b[6], b[7] = (
                (0x10, 0x7C)
                if self.state == DRIVE
                else ((0x0C, 0x1C) if self.state == CHARGE else (0, 0))
            )
            return bytes(b)
        # 0x55F: two readings of the pack voltage, 1/10 V
        v = m.pack_dv()
        v2 = v + (m.bus_ms // 1000) % 2  # the second reading is often 0.1 V higher
        return bytes((0xFF, 0xFF, 0x73, 0, 0, v >> 4, ((v & 0x0F) << 4) | (v2 >> 8), v2 & 0xFF))
