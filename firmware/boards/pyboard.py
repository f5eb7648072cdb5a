# Board: pyboard v1.1 (STM32F405) with a SIM800/SIM808 on UART 4 and CAN1. No logic.
# Licence: MIT (this project).

NAME = "pyboard"
HARDWARE = "PYBV11"
CAN_DRIVER = "pyb"  # "machine" on firmware >= 1.28 built with machine.CAN
CAN_ID = 1  # CAN1: Y3 = PB8 (RX) / Y4 = PB9 (TX) to the transceiver
CAN_BITRATE = 500_000
MODEM = "uart"
MODEM_UART = 4  # UART4: X1 = PA0 (TX) / X2 = PA1 (RX)
MODEM_BAUD = 115_200
MODEM_RXBUF = 2048  # STM32 default is 64 bytes (platform.md §7)
MODEM_RESET_PIN = "X3"  # SIM800 RST, active low
GNSS = True  # SIM808: GNSS through the modem (AT+CGNSINF)
GPS_UART = None  # or (uart id, baud, rxbuf): a standalone NMEA GPS, e.g. (6, 9600, 512)
#                  for UART6 on Y1 (TX) / Y2 (RX)
CONSOLE = "stdin"  # the DIAG console on the USB VCP (the REPL's stream: Ctrl-C still
#                    stops the firmware and gives the REPL to mpremote)
CFG_PATH = "/flash/ovms.cfg"
OUTBOX_PATH = "/flash/outbox"  # durable outbox journals (lib/ovms/outbox.py)
OUTBOX_BYTES = 24_576  # per channel; the internal flash FAT has about 100 KB in all
BOOT_LOG_PATH = "/flash/boot.json"
SAFE_PIN = ("B3", 0)  # the USR button (board pin names X17 / SW = PB3; pull-up,
#                       reads 0 pressed: MICROPY_HW_USRSW_PRESSED 0 in PYBV11's board file)
WDT_MS = 20_000  # STM32 maximum is about 32 s
TICK_MS = 1000
STRICT = False  # production: log, count, restart (firmware/supervisor.py)
DATA_PROFILE = "economy"  # an empty parameter 16 means this (ovms.datause, D70)
# NAT_TIMEOUT_S = 900  # the carrier's idle TCP timeout, if known to be shorter (D72)
# ---- low power (issue 13; firmware/power.py, lib/ovms/powermodel.py) ---------------------
# Pins: SIM800 DTR (high = may sleep, AT+CSCLK=1) and RI (low 120 ms per SMS), the CAN
# transceiver's standby input (an MCP2562: STBY high = standby), the GNSS enable (a
# standalone GPS's power switch; the SIM808's GNSS is switched by AT+CGNSPWR instead).
# Wake from Stop mode (machine.lightsleep): EXTI on RI (X5 = PA4, line 4) and on the CAN
# RX pin (Y3 = PB8, line 8), and the RTC wake-up timer. UNTESTED ON HARDWARE.
MODEM_DTR_PIN = "X4"
MODEM_RI_PIN = "X5"
CAN_STANDBY_PIN = "X6"
CAN_WAKE_PIN = "Y3"  # the CAN RX line: the first dominant bit of a frame wakes the MCU
GPS_ENABLE_PIN = None  # the SIM808's GNSS: AT+CGNSPWR
# D89: the STM32's independent watchdog keeps counting in Stop mode (and machine.WDT
# cannot be stopped), so the MCU wakes at least every SLEEP_MAX_MS to feed it.
SLEEP_MAX_MS = 15_000
WAKE_MS = 200  # modelled MCU run time per wake (60 catch-up ticks, dispatch, pump)
# Supply voltages (mV) and currents (uA) of the parts, each from its datasheet; "typ"
# values at 25 C. Read from the datasheet pages found with the search tool unless
# marked "recalled" (from the datasheet, not re-read here: check before building).
POWER_MV = {"mcu": 3300, "modem": 4000, "can": 5000, "gnss": 3300}
POWER_UA = {
    # STM32F405 (DS8626, recalled): run 168 MHz from flash, peripherals disabled ~40 mA
    # typ (Table 20); MicroPython idles in WFI between events, so this is an upper bound
    "mcu_run": 40_000,
    # STM32F405 Stop mode, low-power regulator, flash in deep power-down: ~0.31 mA typ
    # (DS8626 Table 24, recalled)
    "mcu_sleep": 310,
    # SIM800H/SIM800L Hardware Design V2.02 Table 49 (VBAT 3.8 V): idle AT+CFUN=1
    # 17.38 mA; sleep BS-PA-MFRMS=5 1.14 mA; GPRS (4Rx,1Tx) EGSM900 249.85 mA; an SMS
    # taken as the voice-call TX current EGSM900 PCL5 238.44 mA (no SMS figure given)
    "modem_idle": 17_380,
    "modem_sleep": 1_140,
    "modem_tx": 249_850,
    "modem_sms": 238_440,
    # MCP2562 (DS20005167C): standby 5 uA typ (front page); normal recessive ~5 mA typ
    # (recalled, IDD recessive)
    "can_normal": 5_000,
    "can_standby": 5,
    # SIM808 GNSS on, tracking: taken as a u-blox 6 receiver with a fix, ~40 mA (UKHAS
    # wiki "Ublox 6 power saving modes"); off: AT+CGNSPWR=0, 0
    "gnss_on": 40_000,
    "gnss_off": 0,
    # 12 V -> 4.0 V synchronous buck with PFM (TI TPS62933 class: 12 uA typ quiescent,
    # recalled) plus a 3.3 V rail from it (TPS62125: 13 uA typ, ti.com product page)
    "conv_quiescent": 25,
}
POWER_EFF_PCT = 80  # buck efficiency at a few mA in PFM (assumed from the class)
