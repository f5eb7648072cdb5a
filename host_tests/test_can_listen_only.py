# Listen-only from the first instruction and hardware filters, for the machine.CAN and
# pyb.CAN adapters (stand-ins from test_can_adapters.py): constructed silent, never a mode
# change, deinit on a start-up failure, masks when the controller has fewer filters than
# IDs (ESP32 TWAI: FILTERS_MAX 4), and drivers that know no vehicle.
# Both runtimes. Licence: MIT (this project).
from test_can_adapters import FakeMachineCAN, _machine, _pyb

from firmware.hal import can_machine, can_pyb
from firmware.hal.can import plan_filters
from firmware.hal.can_machine import CANMachine
from ovms.twizy.frames import USED_IDS


def test_machine_filters_max_four_uses_masks():
    # the ESP32 TWAI (PR #19461): FILTERS_MAX 4 -> masks covering every used ID
    class Twai(FakeMachineCAN):
        FILTERS_MAX = 4

    class Esp32Board:
        CAN_ID = 0
        CAN_TX = 21
        CAN_RX = 22
        CAN_BITRATE = 500_000

    a = can_machine.from_board(Esp32Board, USED_IDS, can_class=Twai)
    hw = a.can
    assert hw.kw == {"tx": 21, "rx": 22} and hw.mode_log == [hw.MODE_SILENT]
    a.start()
    assert len(hw.filters) == 4 and a.filters == plan_filters(USED_IDS, 4)
    for i in USED_IDS:
        assert [1 for f, m, fl in hw.filters if i & m == f & m], hex(i)
        hw.inject(i, b"\x01")
    buf = bytearray(8)
    got = []
    while True:
        r = a.recv(buf)
        if r < 0:
            break
        got.append(r)
    assert sorted(got) == sorted(USED_IDS)
    # the masks let few others through: 26 of the 2048 IDs (the decoder drops them)
    passing = [i for i in range(0x800) if [1 for f, m, fl in hw.filters if i & m == f & m]]
    assert len(passing) == 26


def test_plan_filters():
    assert plan_filters(USED_IDS, 11) == [(i, 0x7FF) for i in sorted(USED_IDS)]
    for n in (1, 2, 3, 4, 8):
        f = plan_filters(USED_IDS, n)
        assert len(f) <= n
        for i in USED_IDS:
            assert [1 for a, m in f if i & m == a & m]
    try:
        plan_filters(USED_IDS, 0)
        raise AssertionError("0 filters")
    except ValueError:
        pass


def test_start_failure_deinits():
    for make in (_machine, _pyb):
        a, hw = make()
        hw.fail_filters = True
        try:
            a.start()
            raise AssertionError("start must fail")
        except (ValueError, OSError):
            pass
        assert hw.deinits == 1 and not a.started


def test_machine_refuses_a_controller_not_silent():
    # a controller found in normal mode (built elsewhere) is never switched on the fly:
    # deinit and an error
    hw = FakeMachineCAN(1, 500_000, mode=FakeMachineCAN.MODE_NORMAL)
    a = CANMachine(hw, ids=USED_IDS)
    try:
        a.start()
        raise AssertionError("must refuse")
    except OSError:
        pass
    assert hw.deinits == 1 and hw.filters is None and hw.mode_log == [0, None]


def test_driver_knows_no_vehicle():
    # the app passes the vehicle's IDs; no adapter imports the Twizy's
    import firmware.hal.can as c

    for m in (c, can_machine, can_pyb):
        with open(m.__file__) as f:
            src = f.read()
        assert "ovms.twizy" not in src and "USED_IDS" not in src, m.__name__
    a = CANMachine(FakeMachineCAN(1, 500_000, mode=3))
    assert a.ids is None
    a.start()
    assert a.can.filters == []  # None = accept all
