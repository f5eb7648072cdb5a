# Board: the MicroPython unix port (or CPython) as a simulated module. No logic.
# Licence: MIT (this project).
#
# CAN comes from FakeCan replaying the bundled real Twizy recordings back to back
# (key on, drive end, charge start, charge end), looping; the SIM800 is the in-process
# emulator (tools/sim800emu.py) on loopback TCP. `make sim` runs firmware/sim.py.

NAME = "host"
HARDWARE = "HOST"
CAN_DRIVER = "fake"
CAN_BITRATE = 500_000
_T = "host_tests/fixtures/traces/Twizy-Virtual-BMS__Protocol."
CAN_TRACES = (
    _T + "Init-Drv.candump.log",
    _T + "End-Drv.candump.log",
    _T + "Init-Chg.candump.log",
    _T + "End-Chg.candump.log",
)
CAN_FIFO = 32  # frames the fake controller buffers
SPEED = 1  # replay speed factor; the tick period is 1000 // SPEED ms
MODEM = "emu"  # SIM800 emulator in-process on 127.0.0.1
MODEM_TIMING = None  # the driver's real timeouts
GNSS = False
CFG_PATH = "build/sim/ovms.cfg"
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
# the simulation script (firmware/sim.py): SMS from the owner, at sim seconds
SIM_SMS = ((4, "STAT"),)
SIM_STAT_EVERY_S = 5  # print the STAT text every this many ticks
