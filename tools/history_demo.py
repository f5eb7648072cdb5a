# The owner's history tools on a made-up month, end to end on this machine:
# a scripted car sends a month of records to the test OVMS v2 server on
# loopback, the client downloads them (HISTORY.csv and track.gpx), the plot
# tool draws the four charts. Also the generator the tests use.
# Licence: MIT (this project). CPython only.
#
#   python3 -m tools.history_demo [--out DIR]     (default build/history)
#
# The month: cell voltages 4 times a day for 30 days, cell 9 sinking 2 mV a
# day; three trips on day 30 (GPS track, power counters), then a charge
# (constant current to 94 %, then tapering); 50 status messages for range
# against SOC.

import asyncio
import os
import sys
import threading
import time

T0 = 1793577600  # 2026-11-02 00:00:00 UTC
DAY = 86400
DRIFT_CELL = 9
DRIFT_MV_PER_DAY = 2.0
CHG_W = 2000.0  # charging power of the generated charge
PACK_V = 55.0
WH = 22500  # power statistic units per Wh
# per trip: Wh used/recovered at constant speed, accelerating, decelerating
TRIP_WH = ((120, 15, 40, 9, 25, 6), (200, 30, 60, 11, 30, 9), (80, 10, 20, 5, 12, 3))
VID = "DEMO"
NETPASS = "DEMOPASS"


def _ts(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def _usage(t, vals):
    return ["RT-PWR-UsageStats", _ts(t), "0"] + ["%d" % v for v in vals]


def _pack(t, soc_c, volt_cv):
    return ["RT-PWR-BattPack", _ts(t), "1", "14", "1", "1", "1", str(soc_c), "2000",
            str(soc_c), str(volt_cv), str(volt_cv // 14), "5400", "385", "5600", "400",
            "18", "17", "19"]  # fmt: skip


def month_of_history():
    # -> CSV rows as the client prints them (type, timestamp, recno, fields...)
    rows = []
    for i in range(30 * 4):
        t = T0 + i * DAY // 4
        for c in range(1, 15):
            mv = 4050 + (c * 37 + i * 11) % 7 - 3
            if c == DRIFT_CELL:
                mv -= round(DRIFT_MV_PER_DAY * i / 4.0)
            rows.append(["RT-PWR-BattCell", _ts(t), str(c), "1", "1", "1", str(mv), str(mv),
                         str(mv), "0", "20", "20", "20", "0"])  # fmt: skip
    t = T0 + 29 * DAY
    odo = 43190
    for n, trip in enumerate(TRIP_WH):
        rows.append(_pack(t, 8000, 5600))
        for k in range(1, 21):
            f = k / 20.0
            cu, cr, au, ar, du, dr = [round(w * f * WH) for w in trip]
            vals = [k * 3000, cu, cr, k * 1000, au, ar, k * 1000, du, dr,
                    5 * k, cu // 2, 0, 4 * k, 0, cr // 2]  # fmt: skip
            rows.append(_usage(t, vals))
            odo += 5
            rows.append(["RT-GPS-Log", _ts(t), str(odo), "%.6f" % (52.52 + n * 0.01 + k * 0.0008),
                         "%.6f" % (13.40 + k * 0.0011), str(40 + k), "45", "30", "1", "120",
                         "17"])  # fmt: skip
            t += 60
        t += 3600
    rec = 0
    soc_c = 2000
    for k in range(0, 181):
        rows.append(_usage(t, [k * 6000, 0, rec] + [0] * 12))
        w = CHG_W if soc_c < 9400 else CHG_W * (10000 - soc_c) / 600.0
        rec += int(6000 * w / 16.0)
        if k:
            soc_c = min(10000, soc_c + int(44 * w / CHG_W))
        rows.append(_pack(t, soc_c, int(PACK_V * 100)))
        t += 60
    for k in range(50):
        soc = 20 + k * 1.5
        rows.append(["S", _ts(t + k * 600), "0", "%d" % soc, "K", "230", "10", "done",
                     "standard", "%d" % (soc * 0.9), "%d" % (soc * 0.8), "0", "0", "0", "0",
                     "0", "4", "0", "0", "0", "-1"])  # fmt: skip
    return rows


def car_lines(rows):
    # the rows as the car's h records, stamped in the past relative to the
    # last one (S too: what a server with "[log] history" keeps of a month)
    from tools import history

    recs = history.parse_rows(rows)
    end = recs[-1].t
    return ["MP-0 h%d,%d,%s,%d,86400,%s" % (k, r.t - end, r.type, r.recno, ",".join(r.fields))
            for k, r in enumerate(recs)]  # fmt: skip


async def send_as_car(port, lines, vid=VID, netpass=NETPASS):
    # log in as the car and send clear lines; returns the open writer
    from ovms.v2 import codec, login

    r, w = await asyncio.open_connection("127.0.0.1", port)
    ct = login.make_token(os.urandom)
    w.write((login.car_welcome(ct, netpass, vid) + "\r\n").encode())
    st = login.check_server_welcome((await r.readline()).decode().strip(), ct, netpass)
    sess = codec.Session(login.session_key(netpass, st, ct))
    for i in range(0, len(lines), 100):
        w.write(sess.encode_lines(lines[i : i + 100]))
        await w.drain()
    return w


def _client(port, out_path, *args):
    import subprocess

    cmd = [sys.executable, "-m", "tools.ovms_client", "--server", "127.0.0.1:%d" % port,
           "--vehicle", VID, "--password", NETPASS] + list(args)  # fmt: skip
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(out_path, "w") as f:
        return subprocess.run(cmd, cwd=root, stdout=f, timeout=300).returncode


def main(argv=None):
    import argparse

    from tools import plot
    from tools.ovms_v2_server import FakeServer

    ap = argparse.ArgumentParser(prog="python3 -m tools.history_demo")
    ap.add_argument("--out", default="build/history", help="output folder")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(a.out, exist_ok=True)
    loop = asyncio.new_event_loop()
    th = threading.Thread(target=loop.run_forever, daemon=True)
    th.start()

    def call(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(120)

    srv = FakeServer({VID: NETPASS})
    call(srv.start())
    try:
        lines = car_lines(month_of_history())
        w = call(send_as_car(srv.port, lines))
        if not call(srv.wait_for(lambda: len(srv.history) == len(lines), 120000)):
            sys.stderr.write(
                "history_demo: the server stored %d of %d\n" % (len(srv.history), len(lines))
            )
            return 1
        w.close()
        print("car -> server: %d records on 127.0.0.1:%d" % (len(lines), srv.port))
        hist = os.path.join(a.out, "HISTORY.csv")
        if _client(srv.port, os.path.join(a.out, "summary.csv"), "--header", "31"):
            return 1
        if _client(srv.port, hist, "32") or _client(
            srv.port, os.devnull, "--gpx", os.path.join(a.out, "track.gpx"), "32", "RT-GPS-Log"
        ):
            return 1
    finally:
        call(srv.close())
        loop.call_soon_threadsafe(loop.stop)
        th.join(10)
    return plot.main([hist, "--out", a.out])


if __name__ == "__main__":
    sys.exit(main())
