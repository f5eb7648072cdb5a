# One DIAG console line: run through the SMS interpreter, the reply written as the SMS
# would be sent. Licence: MIT (this project). Loaded by firmware/tasks/console.py for
# each line and dropped after it (D121): the console waits for a line most of its life.
#
# Every part after ovms.smsout.shape(), each followed by a line "---"; no reply: nothing
# is written. Part texts are written unchanged; `con.eol` ends the part and the "---".

import time

from ovms import smsout
from ovms.compat import text  # bytes -> str, never raising (D91)


async def run(con, s, raw):
    # con: the Console (fw, sender, eol, clock); s: its stream; raw: the line (bytes)
    fw = con.fw
    line = text(raw)
    now = con.clock() if con.clock is not None else int(time.time())
    if con.sender is None:  # DIAG: trusted (physical access passes every auth check)
        out = fw.handle(fw.cfg.params[0], line, now, trusted=True)
    else:  # exactly as an SMS from that number
        out = fw.handle(con.sender, line, now)
    eol = con.eol
    for p in smsout.shape(out):
        s.write((p + eol + "---" + eol).encode())
        await s.drain()
