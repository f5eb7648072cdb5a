# Board: pyboard v1.1 (STM32F405) with a SIM800/SIM808 on UART 4 and CAN1. No logic.
# Licence: MIT (this project).

NAME = "pyboard"
HARDWARE = "PYBV11"
CAN_DRIVER = "pyb"  # "machine" on firmware >= 1.28 built with machine.CAN
CAN_ID = 1  # CAN1: PB8 (RX) / PB9 (TX) to the transceiver
CAN_BITRATE = 500_000
MODEM = "uart"
MODEM_UART = 4  # UART4: PA0 (TX) / PA1 (RX)
MODEM_BAUD = 115_200
MODEM_RXBUF = 2048  # STM32 default is 64 bytes (platform.md §7)
MODEM_RESET_PIN = "X3"  # SIM800 RST, active low
GNSS = True  # SIM808
CFG_PATH = "/flash/ovms.cfg"
WDT_MS = 20_000  # STM32 maximum is about 32 s
TICK_MS = 1000
