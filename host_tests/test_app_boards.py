# Every board wires every part (issue 9 §4), checked on the host with stand-ins for the
# device modules (machine, pyb): the CAN controller listen-only from its construction with
# the vehicle's IDs, the watchdog, the safe-mode pin, the reset cause, the DIAG console
# and GPS declared. Both runtimes. Licence: MIT (this project).
import sys

from test_can_adapters import FakeMachineCAN, FakePybCAN

from firmware import bootlog, parts
from firmware.boards import esp32, host, pyboard
from ovms.twizy.frames import USED_IDS

BOARDS = (host, pyboard, esp32)
NEEDED = [
    "NAME",
    "HARDWARE",
    "CAN_DRIVER",
    "CAN_BITRATE",
    "MODEM",
    "GNSS",
    "GPS_UART",
    "CONSOLE",
    "CFG_PATH",
    "BOOT_LOG_PATH",
    "SAFE_PIN",
    "WDT_MS",
    "TICK_MS",
    "STRICT",
]


class _Pin:
    IN = 0
    OUT = 1
    PULL_UP = 2
    level = 1
    made = []

    def __init__(self, name, mode=0, pull=None, value=None):
        self.name = name
        self.mode = mode
        self.pull = pull
        _Pin.made.append(self)

    def value(self, v=None):
        return _Pin.level


class _WDT:
    made = []

    def __init__(self, timeout=0):
        self.timeout = timeout
        self.fed = 0
        _WDT.made.append(self)

    def feed(self):
        self.fed += 1


class _Timer:
    PERIODIC = 1
    made = []

    def __init__(self, tid):
        self.tid = tid
        self.cb = None
        _Timer.made.append(self)

    def init(self, period=0, mode=0, callback=None):
        self.period = period
        self.mode = mode
        self.cb = callback


class _Machine:
    CAN = FakeMachineCAN
    Pin = _Pin
    WDT = _WDT
    Timer = _Timer
    PWRON_RESET = 1
    WDT_RESET = 3

    def reset_cause(self):
        return 3


class _Pyb:
    CAN = FakePybCAN


def _with_fakes(fn):
    saved = {k: sys.modules.get(k) for k in ("machine", "pyb")}
    sys.modules["machine"] = _Machine()
    sys.modules["pyb"] = _Pyb()
    try:
        return fn()
    finally:
        for k in saved:
            if saved[k] is None:
                del sys.modules[k]
            else:
                sys.modules[k] = saved[k]


def test_every_board_declares_every_part():
    for b in BOARDS:
        for k in NEEDED:
            assert hasattr(b, k), (b.NAME, k)
        assert (b is host) == b.STRICT  # development build on the host only
    for b in (pyboard, esp32):
        assert b.CONSOLE == "stdin" and b.WDT_MS and b.SAFE_PIN is not None
        assert b.CAN_DRIVER in ("machine", "pyb") and b.MODEM == "uart"
    assert pyboard.SAFE_PIN == ("B3", 0)  # the USR button (X17 / SW), pressed = 0
    assert esp32.SAFE_PIN == (0, 0)  # the BOOT button, GPIO 0
    # ESP32 pins: none of the flash (6-11) or WROVER PSRAM (16, 17) GPIOs
    used = (esp32.CAN_TX, esp32.CAN_RX, esp32.MODEM_TX, esp32.MODEM_RX, esp32.MODEM_RESET_PIN)
    used += (esp32.GPS_TX, esp32.GPS_RX)
    assert not [p for p in used if 6 <= p <= 11 or p in (16, 17)]
    assert len(set(used)) == len(used)
    assert not [p for p in (esp32.CAN_TX, esp32.MODEM_TX, esp32.GPS_TX) if p >= 34]


def test_device_can_built_silent_with_the_vehicles_ids():
    def go():
        FakeMachineCAN.made[:] = []
        a = parts.can(esp32, USED_IDS)
        hw = a.can
        assert hw.mode_log == [hw.MODE_SILENT] and hw.kw == {"tx": 21, "rx": 22}
        assert hw.can_id == 0 and hw.bitrate == 500_000 and a.ids == USED_IDS
        a.start()
        assert hw.mode_log == [hw.MODE_SILENT] and len(hw.filters) == len(USED_IDS)
        p = parts.can(pyboard, USED_IDS)
        assert p.can.modes == [p.can.SILENT] and p.can.bus_id == 1
        assert p.can.kw == {"baudrate": 500_000, "sample_point": 75}
        return True

    assert _with_fakes(go)


def test_watchdog_safe_pin_and_reset_cause():
    def go():
        w = parts.wdt(pyboard)
        assert isinstance(w, _WDT) and w.timeout == 20_000
        assert parts.wdt(esp32).timeout == 30_000 and parts.wdt(host) is None
        _Pin.made[:] = []
        _Pin.level = 1
        assert not bootlog.safe_pin_pressed(pyboard)
        _Pin.level = 0
        assert bootlog.safe_pin_pressed(pyboard) and bootlog.safe_pin_pressed(esp32)
        assert _Pin.made[0].name == "B3" and _Pin.made[0].pull == _Pin.PULL_UP
        assert not bootlog.safe_pin_pressed(host)
        assert bootlog.cause_name() == "TO"
        return True

    assert _with_fakes(go)


def test_unknown_can_driver_and_console_fail_clearly():
    class Bad:
        CAN_DRIVER = "mcp2515"
        CONSOLE = "telnet"

    for f in (lambda: parts.can(Bad, USED_IDS), lambda: parts.console_stream(Bad)):
        try:
            f()
            raise AssertionError("must fail")
        except ValueError as e:
            assert "mcp2515" in str(e) or "telnet" in str(e)
    assert parts.console_stream(host) is None and parts.gps_reader(pyboard) is None


def test_ctrl_c_gives_the_repl_with_the_watchdog_kept_fed():
    # Ctrl-C typed on the DIAG console while the firmware runs: KeyboardInterrupt leaves
    # main() (main.py then gives the REPL), and a timer feeds the watchdog from then on
    import asyncio

    from support import rmtree, tmpdir

    from firmware import app as app_mod
    from tools import sim

    class CtrlC:
        async def read(self, n):
            await asyncio.sleep(0.2)
            raise KeyboardInterrupt

        def write(self, data):
            pass

        async def drain(self):
            pass

    d = tmpdir("brd")
    board = sim.host_board(
        10,
        CFG_PATH=d + "/ovms.cfg",
        BOOT_LOG_PATH=d + "/boot.json",
        SIM_SMS=(),
        CONSOLE=CtrlC(),
        WDT_MS=20_000,
    )

    def go():
        _Timer.made[:] = []
        asyncio.new_event_loop()
        try:
            app_mod.main(board, 30)
            raise AssertionError("Ctrl-C must end main()")
        except KeyboardInterrupt:
            pass
        t = _Timer.made[-1]
        assert t.tid == -1 and t.period == 5000 and t.mode == _Timer.PERIODIC
        w = _WDT.made[-1]
        assert w.timeout == 20_000
        fed = w.fed
        t.cb(t)
        t.cb(t)
        assert w.fed == fed + 2
        return t

    try:
        sim.OUT = lambda x: None
        _with_fakes(go)
    finally:
        sim.OUT = print
        asyncio.new_event_loop()
        rmtree(d)
