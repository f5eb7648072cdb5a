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
