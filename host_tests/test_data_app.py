# The data plan inside the whole application (firmware/app.py on the host board, the
# SIM800 emulator and the test server over loopback, tools/sim.py): every byte the
# uplink moves is in the month counter, the owner's DATA? is answered through the modem,
# the board's profile fills an empty parameter 16. Both runtimes (sockets: not on qemu).
import asyncio

from support import rmtree, tmpdir

from firmware import app as app_mod
from tools import sim

OWNER = "+4915100000000"


def _done(a):
    return (
        a.uplink is not None
        and a.uplink.logins >= 1
        and len(a.emu.sent) >= 1
        and a.server is not None
        and len(a.server.received) >= 6
    )


def test_app_counts_the_uplink_and_answers_data():
    d = tmpdir("data_app")
    lines = []
    sim.OUT = lines.append
    try:
        board = sim.host_board(
            10,
            CFG_PATH=d + "/ovms.cfg",
            BOOT_LOG_PATH=d + "/boot.json",
            SIM_SMS=((25, "DATA?"),),
            SIM_STAT_EVERY_S=60,
            DATA_PROFILE="economy",
        )
        asyncio.new_event_loop()
        a = app_mod.main(board, 3, _done)
    finally:
        sim.OUT = print
    try:
        assert _done(a), lines[-5:]
        du = a.fw.net.datause
        up = a.uplink
        assert a.cfg.params[16] == "economy" and a.vehicle.cadence.economy()
        # the counting stream saw exactly what the uplink wrote and read
        assert du.up == up.bytes_out and du.down == up.bytes_in and du.up > 300
        assert du.connects == up.connects >= 1
        assert du.total() >= du.up + du.down + 128 + 40 * 2
        replies = [t for n, t in a.emu.sent if t.startswith("DATA ")]
        assert len(replies) == 1 and "economy" in replies[0], a.emu.sent
        assert a.crashes == 0 and a.sup.failure is None
    finally:
        rmtree(d)
