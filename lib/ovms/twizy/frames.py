# CAN frame decoders: CAN ID -> state tables (spec §1). Runs once per frame.
# Licence: MIT (this project).
#
# Hot path: called ~155 times a second on the car and from every replayed log
# line. It allocates nothing: only small-int arithmetic and stores into tables
# built once by State. Frames shorter than the bytes read are dropped and
# counted (D15); battery group frames out of order are dropped and counted.
# Unknown IDs cost two comparisons.
#
# D129: the state's constants are read as state.NAME (D125), not imported one by one:
# each imported name is a slot of this module's globals table, 18 fewer names here
# take it from 37 slots to 23 (304 -> 192 bytes). A bad frame or a 0x155 looks up one
# name more; nothing is allocated.

from ovms.twizy import state

# acceptance filter list for the CAN controller (spec §1.1)
USED_IDS = (0x155, 0x554, 0x556, 0x557, 0x55E, 0x55F, 0x597, 0x599, 0x59E, 0x5D7, 0x69F)

_PHASE_VALID = const(0x54)  # 0x155 b3: data valid (0x94 = switch-on/-off phase)
_SPEED_STEP = const(10)  # 0.1 km/h per 100 ms: acceleration threshold


def decode(st, can_id, data, dlc):
    # data: bytes-like holding at least dlc bytes (a reused 8-byte slot)
    st.frames += 1
    if can_id == 0x155:
        _energy_155(st, data, dlc)
    elif can_id < 0x554 or can_id > 0x69F:
        return
    elif can_id == 0x597:
        _status_597(st, data, dlc)
    elif can_id == 0x599:
        _driving_599(st, data, dlc)
    elif can_id == 0x5D7:
        _odometer_5d7(st, data, dlc)
    elif can_id == 0x59E:
        _motor_59e(st, data, dlc)
    elif can_id == 0x556:
        _cells_556(st, data, dlc)
    elif can_id == 0x554:
        _temps_554(st, data, dlc)
    elif can_id == 0x557:
        _cells_557(st, data, dlc)
    elif can_id == 0x55E:
        _cells_55e(st, data, dlc)
    elif can_id == 0x55F:
        _pack_55f(st, data, dlc)
    elif can_id == 0x69F:
        _vin_69f(st, data, dlc)


# ---- 0x155 energy status, 100/s, DLC 8 (min 6) --------------------------------
# b1 lo nibble + b2: power raw P (12 bit), 2000 = zero, units of 16 W
# b3: phase, 0x54 valid / 0x94 switch-on/-off (whole frame ignored)
# b4 b5: SOC raw S, big-endian, S/400 = %
def _energy_155(st, data, dlc):
    if dlc < 6:
        st.dropped[state.DROP_SHORT] += 1
        return
    if data[3] != _PHASE_VALID:
        return
    s = (data[4] << 8) | data[5]
    if 0 < s <= 40000:
        soc = s >> 2
        st.soc = soc
        if soc > st.soc_max:
            st.soc_max = soc
        if soc < st.soc_min:
            st.soc_min = soc
            st.soc_min_range = st.range_km
    p = ((data[1] & 0x0F) << 8) | data[2]
    if 0 < p < 0x0F00:
        power = 2000 - p
        st.power = power
        # every valid reading counts into the current speed section (spec §6.2)
        sp = st.speedpwr
        i = st.speed_state * state.SLOTS
        sp[i + state.CNT] += 1
        if power > 0:
            sp[i + state.USE] += power
            st.level_use += power
        else:
            sp[i + state.REC] -= power
            st.level_rec -= power


# ---- 0x597 vehicle status, 10/s, DLC 8 -----------------------------------------
# b1: status flags 0x10 key on, 0x20 charging, 0x40 offline (stored whole)
# b7: PEM temperature degC+40 (community: charger temperature; kept as 2013)
def _status_597(st, data, dlc):
    if dlc < 8:
        st.dropped[state.DROP_SHORT] += 1
        return
    st.status = data[1]
    t = data[7]
    if 0 < t < 0xF0:
        st.car_tpem = t - 40


# ---- 0x599 driving data, 10/s, DLC 8 -------------------------------------------
# b5: range km (0xFF invalid; not updated by the car while charging)
# b6 b7: speed 1/100 km/h, 0xFFFF invalid
def _driving_599(st, data, dlc):
    if dlc < 8:
        st.dropped[state.DROP_SHORT] += 1
        return
    r = data[5]
    if st.status & state.STATUS_CHG_MASK == 0 and r != 0xFF and r > 0:  # online, not charging
        st.range_km = r
    v = (data[6] << 8) | data[7]
    if v != 0xFFFF:
        delta = v - st.speed
        if delta >= _SPEED_STEP:
            st.speed_state = state.ACCEL
        elif delta <= -_SPEED_STEP:
            st.speed_state = state.DECEL
        else:
            st.speed_state = state.CONST
        st.speed = v


# ---- 0x59E motor temperature, 10/s, DLC 8 (min 6) ------------------------------
# b5: degC+40 (community: inverter temperature; kept as 2013). <= 0 degC -> 0
def _motor_59e(st, data, dlc):
    if dlc < 6:
        st.dropped[state.DROP_SHORT] += 1
        return
    t = data[5]
    st.car_tmotor = t - 40 if 40 < t < 0xF0 else 0


# ---- 0x5D7 odometer, 10/s, DLC 7 (min 6) ---------------------------------------
# b2..b5: 32-bit big-endian, >> 4 = 1/100 km
def _odometer_5d7(st, data, dlc):
    if dlc < 6:
        st.dropped[state.DROP_SHORT] += 1
        return
    st.odo = (data[2] << 20) | (data[3] << 12) | (data[4] << 4) | (data[5] >> 4)


# ---- 0x69F VIN serial, 1/s, DLC 4 ----------------------------------------------
# 8 nibbles n0..n7 (n0 = 0xF); VIN = n7 n6 .. n1 as characters. Decoded once.
def _vin_69f(st, data, dlc):
    if st.vin[0]:  # decoded: "0".."F" (D130)
        return
    if dlc < 4:
        st.dropped[state.DROP_SHORT] += 1
        return
    vin = st.vin
    for k in range(7):
        n = 7 - k  # nibble index
        b = data[n >> 1]
        v = (b & 0x0F) if n & 1 else (b >> 4)
        vin[k] = 48 + v if v < 10 else 55 + v  # D13: A-F for nibbles >= 10


# ---- battery sensor group (spec §1.9) ------------------------------------------
# Taken only in the order 554 -> 556 -> 557 -> 55E -> 55F, into staging tables;
# the complete set is committed to the *_act tables when 0x55F arrives (D6).


# 0x554, 1/s: b0..b6 module temperatures degC+40
def _temps_554(st, data, dlc):
    if dlc < 7:
        st.dropped[state.DROP_SHORT] += 1
        return
    if data[0] == 0xFF:
        st.dropped[state.DROP_GROUP_INVALID] += 1
        return
    if st.sensor_state == state.SENSORS_READY:
        st.dropped[state.DROP_GROUP_ORDER] += 1
        return
    t = st.temp_new
    for m in range(state.N_MODULES):
        t[m] = data[m]
    st.sensor_state = state.SENSORS_GOT554


# Five 12-bit cell values, big-endian, tightly packed from b0:
#   A = b0<<4 | hi(b1)   B = lo(b1)<<8 | b2   C = b3<<4 | hi(b4)
#   D = lo(b4)<<8 | b5   E = b6<<4 | hi(b7)       (unit 1/200 V = 5 mV)
def _cells(cells, first, data, count):
    cells[first] = (data[0] << 4) | (data[1] >> 4)
    cells[first + 1] = ((data[1] & 0x0F) << 8) | data[2]
    cells[first + 2] = (data[3] << 4) | (data[4] >> 4)
    cells[first + 3] = ((data[4] & 0x0F) << 8) | data[5]
    if count == 5:
        cells[first + 4] = (data[6] << 4) | (data[7] >> 4)


def _group_guard(st, data, dlc, min_dlc, want_state, marker=0):
    # True if this group frame may be taken in the current sensor state.
    # 0x556 repeats at 10 Hz and only the first one after a 0x554 counts: its
    # repeats are normal traffic, so a 0x556 out of turn is not counted.
    if dlc < min_dlc:
        st.dropped[state.DROP_SHORT] += 1
        return False
    if data[marker] == 0xFF:
        st.dropped[state.DROP_GROUP_INVALID] += 1
        return False
    if st.sensor_state != want_state:
        if want_state != state.SENSORS_GOT554:
            st.dropped[state.DROP_GROUP_ORDER] += 1
        return False
    return True


# 0x556, 10/s: cells 1-5
def _cells_556(st, data, dlc):
    if _group_guard(st, data, dlc, 8, state.SENSORS_GOT554):
        _cells(st.cell_new, 0, data, 5)
        st.sensor_state = state.SENSORS_GOT556


# 0x557, 1/s: cells 6-10
def _cells_557(st, data, dlc):
    if _group_guard(st, data, dlc, 8, state.SENSORS_GOT556):
        _cells(st.cell_new, 5, data, 5)
        st.sensor_state = state.SENSORS_GOT557


# 0x55E, 1/s: cells 11-14 in b0..b5
def _cells_55e(st, data, dlc):
    if _group_guard(st, data, dlc, 6, state.SENSORS_GOT557):
        _cells(st.cell_new, 10, data, 4)
        st.sensor_state = state.SENSORS_GOT55E


# 0x55F, 1/s: pack voltage, two 12-bit readings v1 = b5<<4 | hi(b6),
# v2 = lo(b6)<<8 | b7, 1/10 V; pack = (v1 + v2) >> 1. Completes the set.
# Decision D25: the "0xFF = invalid" marker is tested on b5, the first byte
# read. On the real car b0 b1 of 0x55F are always FF (see the traces, e.g.
# 55F#FFFF73000023D23D = 57.3 V), so the spec's b0 rule would never let a
# sensor set complete; during switch-on the car sends 55F#FFFF730000FFFFFF.
def _pack_55f(st, data, dlc):
    if not _group_guard(st, data, dlc, 8, state.SENSORS_GOT55E, 5):
        return
    v1 = (data[5] << 4) | (data[6] >> 4)
    v2 = ((data[6] & 0x0F) << 8) | data[7]
    # commit the complete set (D6); the pack value has no staging copy (D130)
    st.pack_act = (v1 + v2) >> 1
    new = st.cell_new
    act = st.cell_act
    for c in range(state.N_CELLS):
        act[c] = new[c]
    tnew = st.temp_new
    tact = st.temp_act
    for m in range(state.N_MODULES):
        tact[m] = tnew[m]
    st.sensor_sets += 1
    st.sensor_state = state.SENSORS_READY
