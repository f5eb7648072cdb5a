# The power states as a state machine, the ledger and the power model (issue 13):
# lib/ovms/powerstate.py, powerledger.py and powermodel.py, core only (no hardware, time as ms).
# Both runtimes, and the emulated Cortex-M.
# Licence: MIT (this project).
from ovms.powerledger import COL_WAKE_MS, COL_WAKES, EV_SMS, EV_TCP_BYTES, HOUR_MS, Ledger
from ovms.powermodel import PowerModel, fixed, share_text, text
from ovms.powerstate import (
    CHARGING,
    DRIVING,
    NAMES,
    PARKED_ASLEEP,
    PARKED_AWAKE,
    PowerRules,
)

Q = 300_000  # quiet window
L = 10_000  # linger

# (now_ms, car_on, charging, last_can_ms, busy) -> (state, reason), applied in order to
# ONE machine: the rules table, with the history each row depends on
TABLE = (
    (0, False, False, 0, True, PARKED_AWAKE, "can"),  # boot: the bus just spoke
    (1_000, True, False, 1_000, False, DRIVING, "car on"),
    (2_000, True, True, 2_000, True, DRIVING, "car on"),  # on beats charging and work
    (3_000, False, True, 3_000, False, CHARGING, "charging"),
    (4_000, False, False, 4_000, False, PARKED_AWAKE, "can"),  # key off, bus still on
    (4_000 + Q - 1, False, False, 4_000, False, PARKED_AWAKE, "can"),
    (4_000 + Q, False, False, 4_000, False, PARKED_ASLEEP, "quiet"),
    (400_000, False, False, 4_000, True, PARKED_AWAKE, "work"),  # an SMS (RI)
    (401_000, False, False, 4_000, True, PARKED_AWAKE, "work"),
    (402_000, False, False, 4_000, False, PARKED_AWAKE, "linger"),  # work done
    (402_000 + L - 1, False, False, 4_000, False, PARKED_AWAKE, "linger"),
    (402_000 + L, False, False, 4_000, False, PARKED_ASLEEP, "quiet"),
    (500_000, False, False, 500_000, False, PARKED_AWAKE, "can"),  # key-on: first frame
    (500_100, True, False, 500_100, False, DRIVING, "car on"),  # 0x597 says on
    (900_000, False, False, 900_000, False, PARKED_AWAKE, "can"),
    (900_000 + Q, False, False, 900_000, False, PARKED_ASLEEP, "quiet"),
)


def test_rules_table():
    r = PowerRules(quiet_ms=Q, linger_ms=L)
    for i, (now, on, chg, can, busy, want, reason) in enumerate(TABLE):
        got = r.update(now, on, chg, can, busy)
        assert (got, r.reason) == (want, reason), (i, NAMES[got], r.reason)
    # every state change counted once, per state
    assert r.entered[DRIVING] == 2 and r.entered[CHARGING] == 1
    assert r.entered[PARKED_ASLEEP] == 3 and r.changes == 10
    assert r.since_ms == 900_000 + Q and r.name() == "PARKED-ASLEEP"


def test_no_frame_yet_is_quiet_and_work_holds_awake():
    r = PowerRules(quiet_ms=Q, linger_ms=L)
    assert r.update(0, False, False, None, True) == PARKED_AWAKE
    assert r.update(5, False, False, None, False) == PARKED_AWAKE  # linger
    assert r.update(5 + L, False, False, None, False) == PARKED_ASLEEP
    # the sleep may start as early as asleep_in_ms says, not before
    r2 = PowerRules(quiet_ms=Q, linger_ms=L)
    r2.update(0, False, False, 0, True)
    r2.update(1_000, False, False, 0, False)  # work ended at 1 s
    assert r2.asleep_in_ms(1_000, 0) == Q - 1_000
    assert r2.asleep_in_ms(Q, 0) == 0
    assert r2.update(Q, False, False, 0, False) == PARKED_ASLEEP


def test_ledger_rows_hours_and_totals():
    led = Ledger()
    led.add_ms(1_000, DRIVING, 1_000)
    led.add_ms(HOUR_MS + 5, PARKED_ASLEEP, 60_000, False)
    led.add_ms(HOUR_MS + 10, PARKED_ASLEEP, 200, True)  # the minute's work
    led.add_event(HOUR_MS + 10, COL_WAKES)
    led.add_event(HOUR_MS + 10, EV_SMS, 2)
    led.add_event(HOUR_MS + 10, EV_TCP_BYTES, 1500)
    w = led.window(24)
    assert w[DRIVING] == 1_000 and w[PARKED_ASLEEP] == 60_200 and w[COL_WAKE_MS] == 200
    assert w[COL_WAKES] == 1 and w[EV_SMS] == 2 and w[EV_TCP_BYTES] == 1500
    assert led.window(1, HOUR_MS + 10)[DRIVING] == 0  # the last hour only
    # 25 hours later the first hours' rows are reused: the window forgets them
    led.add_ms(26 * HOUR_MS, CHARGING, 5_000)
    w = led.window(24, 26 * HOUR_MS)
    assert w[DRIVING] == 0 and w[PARKED_ASLEEP] == 0 and w[CHARGING] == 5_000
    t = led.totals()  # all time keeps everything, to the ms
    assert t[DRIVING] == 1_000 and t[PARKED_ASLEEP] == 60_200 and t[CHARGING] == 5_000
    assert t[COL_WAKE_MS] == 200 and t[EV_SMS] == 2
    led.add_ms(27 * HOUR_MS, DRIVING, 0)  # nothing booked
    led.add_ms(27 * HOUR_MS, DRIVING, -5)
    assert led.totals()[DRIVING] == 1_000


def _pyboard():
    import firmware.boards.pyboard as b

    return b


def _esp32():
    import firmware.boards.esp32 as b

    return b


def _model(b, standby=True):
    return PowerModel(b.POWER_MV, b.POWER_UA, b.POWER_EFF_PCT, standby=standby)


def _day(state, mcu_awake=False):
    led = Ledger()
    led.add_ms(24 * HOUR_MS - 1, state, 24 * HOUR_MS, mcu_awake)
    return led.window(24)


def test_model_numbers_for_both_boards():
    # asleep all day: well under 2 Wh/day on both boards (the bound)
    ua, mwh = _model(_pyboard()).report(_day(PARKED_ASLEEP))
    assert (ua, mwh) == (609, 175)
    ua, mwh = _model(_esp32()).report(_day(PARKED_ASLEEP))
    assert (ua, mwh) == (902, 259)
    # awake all day would be far over it: the sleep is what makes the bound
    ua, mwh = _model(_pyboard()).report(_day(PARKED_AWAKE))
    assert ua > 20_000 and mwh > 6_000
    # the MCU running inside PARKED-ASLEEP costs the run current
    assert _model(_pyboard()).report(_day(PARKED_ASLEEP, True))[0] > 10_000
    # without a standby pin the transceiver stays at its recessive current
    assert _model(_pyboard(), standby=False).state_ua(PARKED_ASLEEP) > 2_000
    # DRIVING adds the GNSS; CHARGING does not (D87)
    m = _model(_esp32())
    assert m.state_ua(DRIVING) > m.state_ua(CHARGING) == m.state_ua(PARKED_AWAKE)


def test_model_radio_events():
    m = _model(_pyboard())
    row = _day(PARKED_ASLEEP)
    base = m.energy_nj(row)
    row[EV_SMS] = 10  # 10 SMS a day: 3 s each at the SMS current
    with_sms = m.energy_nj(row)
    # (238.44 - 17.38) mA x 4.0 V / 0.80 x 30 s = 3.316 J
    assert with_sms - base == (238_440 - 17_380) * 4000 * 100 // 80 * 30_000 // 1000
    row[EV_TCP_BYTES] = 150_000  # 100 s of GPRS at 1.5 kB/s
    assert m.energy_nj(row) - with_sms == (249_850 - 17_380) * 4000 * 100 // 80 * 100_000 // 1000


def test_model_rejects_incomplete_boards():
    b = _pyboard()
    ua = dict(b.POWER_UA)
    del ua["modem_sleep"]
    for args in (
        (b.POWER_MV, ua, 80),
        ({"mcu": 3300}, b.POWER_UA, 80),
        (b.POWER_MV, b.POWER_UA, 0),
        (b.POWER_MV, b.POWER_UA, 101),
    ):
        try:
            PowerModel(*args)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % (args,))


def test_texts_are_fixed_point():
    assert (
        fixed(1234) == "1.23" and fixed(5, 1000, 2) == "0.00" and fixed(-1500, 1000, 1) == "-1.5"
    )
    assert fixed(609, 1000, 1) == "0.6" and fixed(7, 1, 0) == "7"
    m = _model(_pyboard())
    row = _day(PARKED_ASLEEP)
    assert text(m, row, "PARKED-ASLEEP") == "Power: PARKED-ASLEEP, 24h avg 0.6 mA, 0.17 Wh/day"
    assert share_text(row).endswith("PARKED-ASLEEP 24h00m00s")
    assert text(m, [0] * len(row), "PARKED-AWAKE").endswith("avg 0.0 mA, 0.00 Wh/day")
