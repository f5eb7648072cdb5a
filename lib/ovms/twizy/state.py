# The one object that owns every Twizy table (spec §0.2, §5.1, §6.1).
# Licence: MIT (this project).
#
# Built once at start-up. After that every table is only updated in place:
# the CAN frame path (frames.py) and the per-second tick allocate nothing.
# Wire units are kept (cells 1/200 V, temperatures degC+40, pack 1/10 V) and
# converted only when text is formatted.
#
# D129: this module's globals are the Twizy core's constants (read as state.NAME): 47
# names at most (47 slots, 384 bytes; 48 take 59 slots, 480 bytes; host_tests/
# test_globals_budget.py). What only this module reads is folded (_NAME = const(...)),
# `array` is imported where the tables are made.

from ovms.car import (  # noqa: F401 (the car's generic codes, re-exported)
    CHG_CHARGING,
    CHG_DONE,
    CHG_STOPPED,
    CHG_TOPOFF,
    DOORS1_CARON,
    DOORS1_CHARGING,
    DOORS1_PORT,
)

N_CELLS = const(14)
N_MODULES = const(7)

# speed_state / power statistics sections
CONST = const(0)
ACCEL = const(1)
DECEL = const(2)
_N_SPEED = const(3)  # speed sections CONST, ACCEL, DECEL
# offsets inside one section of State.speedpwr ([cnt, use, rec] x _N_SPEED) and of
# State.levelpwr ([hsum, use, rec] x _N_LEVEL): section k, slot j = k * SLOTS + j
CNT = const(0)  # speedpwr: valid 0x155 frames counted in the section
HSUM = const(0)  # levelpwr: metres climbed (UP) or descended (DOWN)
USE = const(1)  # energy drawn from the battery, 0.16 Ws units (power.WH per Wh)
REC = const(2)  # energy recovered into the battery, same units
SLOTS = const(3)  # slots per section
# level sections in State.levelpwr
UP = const(0)
DOWN = const(1)
_N_LEVEL = const(2)

# 0x597 b1 status flags (spec §1.4; stored whole in State.status)
STATUS_KEYON = const(0x10)  # key on (switched on)
STATUS_CHARGING = const(0x20)  # charger active
_STATUS_OFFLINE = const(0x40)  # no valid car data (power-on value)
_STATUS_ALWAYS = const(0x80)  # the car always sets it (0x40 alone: no 0x597 yet)
# charging only when charging and not offline: status & STATUS_CHG_MASK == STATUS_CHARGING
STATUS_CHG_MASK = const(STATUS_CHARGING | _STATUS_OFFLINE)  # 0x60
# 0x597 seen and in its switch-on/-off phase: status & STATUS_PHASE == STATUS_PHASE
STATUS_PHASE = const(_STATUS_ALWAYS | _STATUS_OFFLINE)  # 0xC0

# battery sensor group consistency state (spec §1.9)
SENSORS_START = const(0)
SENSORS_GOT554 = const(1)
SENSORS_GOT556 = const(2)
SENSORS_GOT557 = const(3)
SENSORS_GOT55E = const(4)
SENSORS_READY = const(5)

# module notification flags (spec §3.7, DEBUG bit values)
NTF_BATTERY_ALERT = const(0x01)
NTF_POWER = const(0x02)
NTF_DATA_UPDATE = const(0x04)
NTF_STREAM_UPDATE = const(0x08)
NTF_BATTERY_STATS = const(0x10)

# framework notification requests (spec §3.4, §3.6)
REQ_CHARGE = const(0x01)  # charge alert text on every channel
REQ_STAT = const(0x02)  # server S record if changed
REQ_CRITICAL_SOC = const(0x04)  # "ALERT!!! CRITICAL SOC LEVEL APPROACHED"

# car_doors1 bits and charge states: the framework's (ovms/car.py), imported above

# dropped-frame counters, index into State.dropped
DROP_SHORT = const(0)  # DLC shorter than the bytes the decoder reads (D15)
DROP_GROUP_INVALID = const(1)  # battery group frame with b0 == 0xFF
DROP_GROUP_ORDER = const(2)  # battery group frame out of the 554..55F order
DROP_COUNTERS = ("short_dlc", "group_invalid", "group_order")


# D67: a charge state change (charging <-> stopped/done) alerts only after it has
# held this many ticks (seconds); a stop that is undone sooner was a flicker. Well
# under a minute: the replay's idle-minute skip (tools/replay_run.py D47) stays exact.
CHG_HOLD_S = const(3)


# D130: a State's attributes are one hash table that grows in the same steps as a
# module's globals: 74..97 attributes take 97 slots (784 bytes), 73 take 73 (592 bytes).
# So nothing here is kept twice: the pack voltage is committed straight from 0x55F
# (its frame completes the set, there is no pack staging value) and "a VIN arrived" is
# vin[0] != 0 (a decoded VIN character is "0".."F", never NUL). 73 at most
# (host_tests/test_globals_budget.py).
class State:
    def __init__(self, exact=True):
        from array import array  # made once: no globals entry for it (D129)

        # D69: exact=True is the 2013 module to the byte, power-on placeholders and
        # charge flapping included (the spec's vectors); exact=False applies the
        # owner decisions D65-D68 (ovms.twizy.vehicle explains them).
        self.exact = exact
        # --- decoded from the bus (spec §0.2 power-on values) ---
        self.status = _STATUS_OFFLINE  # 0x597 b1
        self.soc = 5000  # 1/100 %
        self.soc_min = 10000
        self.soc_max = 0  # > 0 from the first valid SOC frame on (soc_known())
        # D65: with exact=False the range is 0 = "not reported yet", never the
        # 2013 placeholders 100 / 50 km: a charge is scaled from real values only
        self.soc_min_range = 100 if exact else 0  # km, range_km when soc_min was recorded
        self.range_km = 50 if exact else 0
        self.last_soc_pct = 0  # charge alert helpers
        self.last_ideal_mi = 0
        self.speed = 0  # 1/100 km/h
        self.speed_state = CONST
        self.power = 0  # units of 16 W, + = drawn from the battery
        self.odo = 0  # 1/100 km
        self.vin = bytearray(7)  # ASCII; all zero until the first 0x69F (D130)

        # --- generic car values (framework record fields) ---
        self.car_soc = 50  # whole %
        self.car_odometer = 0  # 1/10 mile
        self.car_speed = 0  # user units per hour
        self.car_estrange = 0  # miles
        self.car_idealrange = 0  # miles
        self.car_chargestate = CHG_DONE
        self.car_doors1 = 0
        self.car_tpem = 0  # degC
        self.car_tmotor = 0  # degC, never negative
        self.car_tbattery = 0  # degC
        self.car_stale_temps = -1
        self.v12_dv = 0  # 12 V line, 1/10 V (0 = not measured)

        # --- GPS and GSM inputs (set by the framework) ---
        self.lat_e6 = 0  # micro-degrees, negative = south
        self.lon_e6 = 0  # micro-degrees, negative = west
        self.altitude = 0  # whole metres
        self.direction = 0  # whole degrees
        self.gpslock = 0
        self.stale_gps = -1  # 120 on a fix, -1/s, -1 = never had one
        self.net_sq = 0  # GSM signal 0..31

        # --- per-second tick ---
        self.tick = 0
        self.notify = 0  # NTF_* module flags
        self.requests = 0  # REQ_* framework requests
        self.minsoc_notified = False
        self.critical_soc_tick = None  # tick of the last critical SOC alert
        # D67 (exact=False): charge alerts held while a charge state change is young
        self.chg_change_tick = -CHG_HOLD_S  # tick of the last charging <-> not change
        self.chg_hold_from = 0  # charging (1) or not (0) before the held changes
        self.chg_alert_keep = False  # a held REQ_CHARGE that is not a state change
        self.chg_state_before = CHG_DONE  # the state a stop ended (1 or 2)
        self.soc_announced = False  # D68: a tick saw a valid SOC, the car not offline

        # --- battery monitor (spec §5.1); 0 = unset for min/max ---
        self.sensor_state = SENSORS_START
        self.sensor_sets = 0  # complete sensor sets committed since power-on
        self.cell_new = array("H", [0] * N_CELLS)  # staging, raw 1/200 V
        self.cell_act = array("H", [0] * N_CELLS)
        self.cell_min = array("H", [0] * N_CELLS)
        self.cell_max = array("H", [0] * N_CELLS)
        self.cell_maxdev = array("h", [0] * N_CELLS)  # signed raw units
        self.temp_new = bytearray(N_MODULES)  # staging, raw degC + 40
        self.temp_act = bytearray(b"\x28" * N_MODULES)  # power-on 40 = 0 degC
        self.temp_min = bytearray(N_MODULES)
        self.temp_max = bytearray(N_MODULES)
        self.temp_maxdev = array("h", [0] * N_MODULES)  # signed degC
        self.pack_act = 0  # 1/10 V (no pack_new: 0x55F commits the set, D130)
        self.pack_min = 0
        self.pack_max = 0
        self.volt_alerts = 0  # bit c-1 per cell
        self.volt_watches = 0
        self.last_volt_alerts = 0
        self.temp_alerts = 0  # bit m-1 per module
        self.temp_watches = 0
        self.last_temp_alerts = 0

        # --- power statistics (spec §6.1) ---
        # array "l": a signed machine word (32 bit on the boards: 2^31 units =
        # 95 kWh, far above one trip or charge, as the 2013 32-bit counters).
        # Not "q": MicroPython boxes every 64-bit element it reads (allocates).
        # On a 32-bit board values above 2^30 are read as boxed ints (D21).
        # [cnt, use, rec] x CONST/ACCEL/DECEL (D21)
        self.speedpwr = array("l", [0] * (_N_SPEED * SLOTS))
        self.levelpwr = array("l", [0] * (_N_LEVEL * SLOTS))  # [hsum, use, rec] x UP/DOWN
        self.level_use = 0
        self.level_rec = 0
        self.level_ref = False  # a section reference is set
        self.ref_odo = 0
        self.ref_alt = 0

        # --- counters ---
        self.dropped = array("L", [0] * len(DROP_COUNTERS))
        self.frames = 0  # frames handed to the decoder

    def vin_text(self):
        if not self.vin[0]:  # no 0x69F yet (D130)
            return None
        return self.vin.decode()


def soc_known(st):
    # D68: a valid SOC frame arrived since power-on. frames.py raises soc_max from
    # its power-on 0 with the first one; nothing sets it back to 0 (a charge start
    # sets it to the current, valid soc).
    return st.soc_max > 0


def charging_phase(st):
    # 1 while a charge runs (states 1 and 2), else 0 (done, stopped)
    return 1 if st.car_chargestate <= CHG_TOPOFF else 0
