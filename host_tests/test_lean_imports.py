# Each runtime imports only the code it runs (issue 7, D101, D102): a frozen module still
# costs heap once imported (its globals, functions and classes), so the host never
# imports the board's sleep and a board never the host's, the SIM800 path never the
# native-socket stream, and the power model and texts are loaded for a report only.
# Checked by what lands in sys.modules. Both runtimes. Licence: MIT (this project).
import sys

import ovms
from firmware.hal.stream import StreamBase
from firmware.power import build
from firmware.simclock import VirtualClock
from ovms import lazy

_HOST_SLEEP = "firmware.hal.sleep_host"
_BOARD_SLEEP = "firmware.hal.sleep_machine"
_NETSTREAM = "firmware.hal.netstream"
_MODEL = "ovms.powermodel"


def _loaded(name):
    dot = name.rfind(".")
    parent = sys.modules.get(name[:dot])
    return name in sys.modules or (parent is not None and hasattr(parent, name[dot + 1 :]))


def _fresh(names, fn):
    # run fn with the modules `names` forgotten (imported anew if fn needs them), then
    # put back the ones that were loaded before (other tests hold their classes)
    saved = {n: sys.modules.get(n) for n in names}
    for n in names:
        lazy.unload(n)
    try:
        return fn()
    finally:
        for n in names:
            lazy.unload(n)
            m = saved[n]
            if m is not None:
                sys.modules[n] = m
                dot = n.rfind(".")
                setattr(sys.modules[n[:dot]], n[dot + 1 :], m)


class _Host:
    import firmware.boards.pyboard as _p

    NAME = "host"
    POWER = True
    POWER_MV = _p.POWER_MV
    POWER_UA = _p.POWER_UA
    POWER_EFF_PCT = _p.POWER_EFF_PCT
    CAN_STANDBY_PIN = "emu"


class _Pyboard(_Host):
    NAME = "pyboard"
    CAN_STANDBY_PIN = "X6"
    GPS_ENABLE_PIN = None
    MODEM_RI_PIN = "X5"
    CAN_WAKE_PIN = "Y3"


class _St:
    status = 0


class _Vehicle:
    st = _St()


class _App:
    def __init__(self, board, clock):
        self.board = board
        self.clock = clock
        self.vehicle = _Vehicle()
        self.can = self.emu = self.modem = self.uplink = self.ticker = self.wdt = None


class _Pin:
    IN = 0
    OUT = 1
    PULL_UP = 2
    IRQ_FALLING = 3
    WAKE_LOW = 4
    made = []

    def __init__(self, pin_id, mode=0, pull=None, value=None):
        self.pin_id = pin_id
        self.mode = mode
        self.v = value
        self.handler = None
        _Pin.made.append(self)

    def value(self, v=None):
        self.v = v

    def irq(self, handler=None, trigger=None, wake=None):
        self.handler = handler


class _Machine:
    Pin = _Pin
    SLEEP = 2


def _host_pm():
    return build(_App(_Host, VirtualClock(speed=0)))


def test_the_host_power_task_never_imports_the_board_sleep():
    def go():
        pm = _host_pm()
        assert type(pm.sleeper).__name__ == "HostSleep"
        assert _loaded(_HOST_SLEEP) and not _loaded(_BOARD_SLEEP)

    _fresh((_HOST_SLEEP, _BOARD_SLEEP), go)


def test_the_board_power_task_never_imports_the_host_sleep():
    def go():
        _Pin.made[:] = []
        pm = build(_App(_Pyboard, None))
        assert type(pm.sleeper).__name__ == "BoardSleep" and pm.sleeper.m is _Machine
        ri = [p for p in _Pin.made if p.pin_id == "X5"]
        assert len(ri) == 1 and ri[0].handler == pm.sleeper.ring  # RI armed as a wake line
        assert pm.pins["can_standby"].pin_id == "X6"
        assert _loaded(_BOARD_SLEEP) and not _loaded(_HOST_SLEEP)

    saved = sys.modules.get("machine")
    sys.modules["machine"] = _Machine
    try:
        _fresh((_HOST_SLEEP, _BOARD_SLEEP), go)
    finally:
        if saved is None:
            del sys.modules["machine"]
        else:
            sys.modules["machine"] = saved


def test_importing_the_power_task_loads_neither_sleep_nor_the_model():
    def go():
        lazy.load("firmware.power")
        assert not _loaded(_HOST_SLEEP) and not _loaded(_BOARD_SLEEP) and not _loaded(_MODEL)

    _fresh(("firmware.power", _HOST_SLEEP, _BOARD_SLEEP, _MODEL), go)


def test_the_modem_path_imports_no_native_stream():
    def go():
        sim800 = lazy.load("firmware.hal.sim800")
        gprs = sys.modules["firmware.hal.sim800_gprs"]
        assert issubclass(gprs.Sim800Stream, StreamBase) and hasattr(sim800, "Sim800")
        assert not _loaded(_NETSTREAM)

    _fresh(("firmware.hal.sim800", "firmware.hal.sim800_gprs", _NETSTREAM), go)
    # the native path still has its stream on the same base
    from firmware.hal.netstream import NetStream, open_tcp

    assert issubclass(NetStream, StreamBase) and callable(open_tcp)


def test_the_power_model_is_loaded_for_a_report_and_dropped_after_it():
    loads = []
    real = lazy.load

    def counting(name):
        loads.append(name)
        return real(name)

    pm = _host_pm()
    assert not _loaded(_MODEL)  # build checked the board's figures and dropped the model
    lazy.load = counting
    try:
        line = pm.text()
        assert not _loaded(_MODEL)
        s = pm.summary()
        assert not _loaded(_MODEL)
    finally:
        lazy.load = real
    assert loads == [_MODEL, _MODEL]
    assert line == "Power: PARKED-AWAKE, 24h avg 0.0 mA, 0.00 Wh/day"  # no time booked yet
    assert s["state"] == "PARKED-AWAKE" and s["share"].startswith("DRIVING 0h00m00s")
    assert (s["avg_ua"], s["mwh_day"]) == (0, 0)
    assert not hasattr(pm, "model")  # no model kept between reports


def test_the_power_line_without_room_for_the_model_still_names_the_state():
    pm = _host_pm()
    real = lazy.load

    def no_room(name):
        real(name)  # as an import that ran out of memory half way may leave it behind
        raise MemoryError

    lazy.load = no_room
    try:
        assert pm.text() == "Power: PARKED-AWAKE"
    finally:
        lazy.load = real
    assert not _loaded(_MODEL)


def test_a_board_with_incomplete_power_figures_fails_at_build():
    class Bad(_Host):
        POWER_EFF_PCT = 0

    try:
        build(_App(Bad, VirtualClock(speed=0)))
        raise AssertionError("must fail")
    except ValueError as e:
        assert "POWER_EFF_PCT" in str(e)
    assert not _loaded(_MODEL) and not hasattr(ovms, "powermodel")


def test_board_without_power_imports_no_power_code():
    # D102: a board without POWER (the shipped pyboard and esp32 files) keeps the power
    # manager's modules out of the heap: the app's boot does not even import them
    from firmware.wiring import _power_job

    class NoPower:
        NAME = "nopower"

    class Stub:  # the App attributes _power_job reads
        board = NoPower()
        power = None

    app = Stub()
    names = ("firmware.power", "ovms.powerledger", "ovms.powerstate", "firmware.hal.sleep")

    def job():
        _power_job(app)
        return [_loaded(n) for n in names]

    assert _fresh(names, job) == [False, False, False, False]
    assert app.power is None


def test_the_sim808_gnss_path_never_loads_the_nmea_parser_d132():
    # D132: the boards' GPS is the SIM808's (+CGNSINF); the NMEA sentence parser is for a
    # standalone receiver and loads with the first NMEA line only
    from ovms.config import Config
    from ovms.twizy.vehicle import Twizy

    def go():
        from ovms.gps import Feed

        f = Feed(Twizy(Config()))
        line = "+CGNSINF: 1,1,20260101120000.000,51.257704,7.160899,139.5,48.2,242.1,1,"
        assert f.cgnsinf(line) and f.fixes == 1
        assert not _loaded("ovms.nmea") and f.nmea is None
        f.nmea_bad()  # the reader task's too-long line: counted by the parser, loaded now
        assert f.nmea_line("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47")
        assert _loaded("ovms.nmea") and f.nmea.bad == 1 and f.fixes == 2

    _fresh(("ovms.gps", "ovms.nmea"), go)
