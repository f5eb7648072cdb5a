# Board: the MicroPython unix port (or CPython) as a simulated module. No logic.
# Licence: MIT (this project).
#
# CAN comes from FakeCan replaying candump traces (CAN_TRACES: the paths are given by
# the simulation or the test, tools/sim.py; this board names none), or (CAN_DRIVER
# "board", set by tools/sim.py) from the virtual Twizy's stream (tools/vtwizy); the
# SIM800 is the in-process emulator (tools/sim800emu) on loopback TCP, the GPS its NMEA
# port (fed from the virtual Twizy's route when it drives).
# Time: a virtual clock (firmware/simclock.py) drives the fake CAN, the ticker and the
# housekeeping, so the result does not depend on the machine's speed. `make sim` runs
# tools/sim.py.

NAME = "host"
HARDWARE = "HOST"
CAN_DRIVER = "fake"  # "board": the simulation's own controller (tools/sim.py open_can)
CAN_BITRATE = 500_000
CAN_TRACES = ()  # set by tools/sim.py (or a test)
CAN_FIFO = 32  # frames the fake controller buffers
CLOCK = "virtual"  # firmware/simclock.VirtualClock, SPEED x the wall clock
CLOCK_STEP_MS = 10
SPEED = 1  # simulated seconds per wall second
MODEM = "emu"  # SIM800 emulator in-process on 127.0.0.1
MODEM_TIMING = None  # the driver's real timeouts
GNSS = False
GPS_UART = "emu"  # the emulator's NMEA port (a standalone GPS)
CONSOLE = None  # `python3 -m tools.console` is the host's DIAG console; a test may put a
#                 stream object here
CFG_PATH = "build/sim/ovms.cfg"
BOOT_LOG_PATH = "build/sim/boot.json"
SAFE_PIN = None
NET = "modem"  # the OVMS v2 server over the (emulated) SIM800's GPRS
SERVER = "fake"  # an in-process OVMS v2 server (tools/ovms_v2_server.py) on loopback
# settings written when the store holds none yet: owner, notifications by SMS and
# IP, the in-process server (parameters 4 server, 5 APN, 8 vehicle id, 9 password)
DEFAULT_PARAMS = {
    0: "+4915100000000",
    3: "SMS,IP",
    4: "127.0.0.1",
    5: "internet",
    8: "TWIZYSIM",
    9: "SIMPASS",
}
WDT_MS = 0  # no watchdog on the host
TICK_MS = 1000
STRICT = True  # development build: the first unexpected exception stops the run
# the simulation script (tools/sim.py): SMS from the owner, at sim seconds
SIM_SMS = ((4, "STAT"),)
SIM_STAT_EVERY_S = 5  # print the STAT text every this many ticks
# low power (issue 13): the host simulates the pyboard's parts; the emulator's DTR and RI
# are the pins (tools/sim.py hands them to the driver), the virtual clock is the sleep
from firmware.boards.pyboard import POWER_EFF_PCT, POWER_MV, POWER_UA  # noqa: E402,F401

MODEM_DTR_PIN = "emu"
MODEM_RI_PIN = "emu"
CAN_STANDBY_PIN = "emu"  # recorded, not switched (FakeCan has no transceiver)
GPS_ENABLE_PIN = None
SLEEP_MAX_MS = 60_000
WAKE_MS = 200
POWER = True  # the power manager runs (firmware/power.py); False: always awake
