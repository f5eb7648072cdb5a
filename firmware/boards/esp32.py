# Board: ESP32 (WROOM or WROVER) with the on-chip TWAI CAN controller and a SIM800/SIM808.
# No logic. Licence: MIT (this project).
#
# CAN: the TWAI controller through machine.CAN, which is not in a MicroPython release yet:
# PR #19461 (micropython/micropython, open since 2026-07) adds it to the esp32 port, opt-in
# per board. A 3.3 V transceiver (SN65HVD230 or similar) on two GPIOs; listen-only (the
# transceiver's TX line stays recessive). FILTERS_MAX = 4: the adapter merges the Twizy's
# 11 IDs into 4 masks (firmware/hal/can.plan_filters). UNTESTED ON HARDWARE.
#
# Build recipe (UNTESTED ON HARDWARE; the PR may still change names):
#   git clone https://github.com/micropython/micropython && cd micropython
#   git fetch origin pull/19461/head:esp32-can && git checkout esp32-can
#   make -C mpy-cross
#   cd ports/esp32 && . $IDF_PATH/export.sh     # the ESP-IDF version the port's README names
#   make BOARD=ESP32_GENERIC submodules
#   # enable machine.CAN for the board (the PR's opt-in switch, as its T-2CAN board does),
#   # e.g. in boards/ESP32_GENERIC/mpconfigboard.h: #define MICROPY_PY_MACHINE_CAN (1)
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/this/repo/manifest.py
#   make BOARD=ESP32_GENERIC deploy PORT=/dev/ttyUSB0
# Check on the board: `from machine import CAN; CAN.FILTERS_MAX` -> 4.
# The pin keywords of the CAN constructor (tx=, rx=) follow the PR's draft: check them
# against the build (machine.CAN(0, 500_000, mode=CAN.MODE_SILENT, tx=21, rx=22)).
#
# Pins, checked against the ESP32 datasheet / ESP-IDF GPIO notes:
#   GPIO 6-11   SPI flash: never used
#   GPIO 16/17  the PSRAM on WROVER modules: not used (UART2's default pins are NOT used)
#   GPIO 0/2/5/12/15  strapping pins: only GPIO 0 (the BOOT button) as the safe-mode input
#   GPIO 34-39  input only: fine for RX lines
#   CAN  TX GPIO 21, RX GPIO 22
#   SIM800  UART2 TX GPIO 27, RX GPIO 26, RST GPIO 25
#   GPS (optional NMEA)  UART1 TX GPIO 33, RX GPIO 35 (UART1's default 9/10 are flash)
# No MCP2515 option: a pure-Python MCP2515 driver cannot read the Twizy's battery group
# (4 frames within about 0.5 ms) out of its 2 receive buffers: the battery monitor would
# silently starve.

NAME = "esp32"
HARDWARE = "ESP32"
CAN_DRIVER = "machine"  # TWAI via machine.CAN (custom build, see above)
CAN_ID = 0
CAN_TX = 21
CAN_RX = 22
CAN_BITRATE = 500_000
MODEM = "uart"
MODEM_UART = 2
MODEM_BAUD = 115_200
MODEM_TX = 27
MODEM_RX = 26
MODEM_RXBUF = 2048
MODEM_RESET_PIN = 25
GNSS = True  # SIM808: GNSS through the modem
GPS_UART = None  # or (1, 9600, 512) with GPS_TX / GPS_RX below: a standalone NMEA GPS
GPS_TX = 33
GPS_RX = 35
CONSOLE = "stdin"  # the DIAG console on the USB-serial REPL stream (UART0)
CFG_PATH = "/ovms.cfg"
OUTBOX_PATH = "/outbox"  # durable outbox journals (lib/ovms/outbox.py)
OUTBOX_BYTES = 262_144  # per channel: LittleFS on a 4 MB flash has ~2 MB
BOOT_LOG_PATH = "/boot.json"
SAFE_PIN = (0, 0)  # the BOOT button on GPIO 0: pull-up, reads 0 pressed
WDT_MS = 30_000
TICK_MS = 1000
STRICT = False
DATA_PROFILE = "economy"  # an empty parameter 16 means this (ovms.datause, D70)
# NAT_TIMEOUT_S = 900  # the carrier's idle TCP timeout, if known to be shorter (D72)
# ---- low power (issue 13; firmware/power.py, lib/ovms/powermodel.py) ---------------------
# Pins: SIM800 DTR (GPIO 32, output), RI (GPIO 34, input only, an RTC GPIO: wakes light
# sleep through Pin.irq(wake=machine.SLEEP)), the SN65HVD230's Rs pin (GPIO 23: high =
# standby, low = high speed), the CAN RX line as a wake source (GPIO 22). UNTESTED ON
# HARDWARE.
MODEM_DTR_PIN = 32
MODEM_RI_PIN = 34
CAN_STANDBY_PIN = 23
CAN_WAKE_PIN = 22
GPS_ENABLE_PIN = None  # the SIM808's GNSS: AT+CGNSPWR
SLEEP_MAX_MS = 60_000  # the minute timer (D89: the ESP32 task watchdog sleeps with the CPU)
WAKE_MS = 200  # modelled MCU run time per wake (60 catch-up ticks, dispatch, pump)
# Supply voltages (mV) and currents (uA), each from its datasheet (see pyboard.py for
# "recalled"):
POWER_MV = {"mcu": 3300, "modem": 4000, "can": 3300, "gnss": 3300}
POWER_UA = {
    # ESP32 Series Datasheet v3.5 Table 6: modem-sleep (CPU on, radio off), 160 MHz,
    # dual-core 27-44 mA: the upper figure (MicroPython's default clock is 160 MHz)
    "mcu_run": 44_000,
    # ESP32 (ESP-WROOM-32 manual Table 5): light-sleep 0.8 mA
    "mcu_sleep": 800,
    # SIM800H/SIM800L Hardware Design V2.02 Table 49, as in pyboard.py
    "modem_idle": 17_380,
    "modem_sleep": 1_140,
    "modem_tx": 249_850,
    "modem_sms": 238_440,
    # SN65HVD230 (SLOS346): recessive 10 mA typ, standby (Rs at VCC) 370 uA typ
    "can_normal": 10_000,
    "can_standby": 370,
    # SIM808 GNSS, as in pyboard.py (u-blox 6 class, ~40 mA with a fix)
    "gnss_on": 40_000,
    "gnss_off": 0,
    # the same 12 V buck and 3.3 V rail as pyboard.py (a bare WROOM module: no USB-serial
    # chip or power LED on the 12 V path)
    "conv_quiescent": 25,
}
POWER_EFF_PCT = 80
