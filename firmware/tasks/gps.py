# NMEA reader task for boards with a standalone GPS on its own UART.
# Licence: MIT (this project).
#
# reader: an asyncio StreamReader (machine.UART wrapped on the device, a TCP
# connection to tools/sim800emu.py's NMEA port on the host). Every line goes to
# ovms.gps.Feed.nmea_line(), which checks it and feeds vehicle.gps_fix().
# Lines longer than MAX_LINE (no LF from a broken receiver) are dropped.

MAX_LINE = 120  # NMEA allows 82 characters


async def nmea_task(reader, feed):
    # runs until the stream ends (never on a UART); returns the line count
    n = 0
    while True:
        line = await reader.readline()
        if not line:
            return n
        n += 1
        if len(line) <= MAX_LINE:
            feed.nmea_line(line)
        else:
            feed.nmea_bad()
