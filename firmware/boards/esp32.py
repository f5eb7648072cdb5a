# Board: ESP32 with a SIM800/SIM808 on UART 2. No logic.
# Licence: MIT (this project).
#
# No CAN adapter yet: mainline MicroPython has no machine.CAN on ESP32 (platform.md §6);
# an MCP2515 on SPI (pins below) is the planned adapter. Until then the app runs without
# CAN (SMS, GPS and the modem still work).

NAME = "esp32"
HARDWARE = "ESP32"
CAN_DRIVER = None  # future: "mcp2515"
CAN_BITRATE = 500_000
CAN_SPI = 2  # MCP2515: SPI2 (HSPI)
CAN_SPI_PINS = {"sck": 18, "mosi": 23, "miso": 19, "cs": 5, "int": 4}
MODEM = "uart"
MODEM_UART = 2
MODEM_BAUD = 115_200
MODEM_TX = 17
MODEM_RX = 16
MODEM_RXBUF = 2048
MODEM_RESET_PIN = 25
GNSS = True
CFG_PATH = "/ovms.cfg"
WDT_MS = 30_000
TICK_MS = 1000
