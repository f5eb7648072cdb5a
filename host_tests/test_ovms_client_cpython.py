# The owner's client (tools/ovms_client.py) end to end: the firmware's own
# uplink (firmware/tasks/uplink.py) as the car -> the test server
# (tools/ovms_v2_server.py) over loopback TCP -> the client as a separate
# process, exactly as an owner runs it. Errors: one line, exit status 2, no
# traceback. CPython only (threads, subprocess). Licence: MIT (this project).
import asyncio
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET

import support
from twizy_helpers import fresh

from firmware.hal.netstream import open_tcp
from firmware.tasks.uplink import Timing, Uplink
from ovms.sms import SmsInterpreter
from ovms.v2.handler import Handler
from tools import plot
from tools.ovms_v2_server import FakeServer

VID = "TWIZY42"
NETPASS = "NETPASS42"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_GPS = 150
NO_FIX = (49, 99, 149)  # records logged without a GPS fix


def gps_line(k):
    return "MP-0 HRT-GPS-Log,%d,86400,%.6f,%.6f,46,90,30,%d,120,17" % (
        43190 + k,
        52.520008 + k * 0.0001,
        13.404954 + k * 0.0002,
        0 if k in NO_FIX else 1,
    )


class Rig:
    # the server (and the firmware car) on an event loop in a thread
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.srv = self.call(self._server())
        self.up = None
        self.ussd_s = 0.3
        self.params = {}

    def call(self, coro, timeout=60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _server(self):
        srv = FakeServer({VID: NETPASS})
        await srv.start()
        return srv

    async def _ussd(self, code):
        await asyncio.sleep(self.ussd_s)
        return "Balance: 5,00 EUR\nvalid until 2027-01-31"

    async def _car(self):
        params = {0: "+4917012345", 4: "127.0.0.1", 8: VID, 9: NETPASS}
        params.update(self.params)
        v = fresh(params=params)
        fw = SmsInterpreter(v.cfg, v)
        h = Handler(v.cfg, v, fw, randbytes=os.urandom, send_ussd=self._ussd)
        t = Timing(port=self.srv.port, tick_ms=20, login_timeout_ms=2000, backoff_min_ms=40,
                   backoff_max_ms=160, window=16)  # fmt: skip
        self.up = Uplink(open_tcp, v.cfg, v, fw, randbytes=os.urandom, handler=h, timing=t)
        self.task = asyncio.create_task(self.up.run())
        assert await self.srv.wait_for(lambda: self.srv.logged_in() and self.up.logged_in, 10000)

    def start_car(self):
        self.call(self._car())

    async def _records(self, lines):
        # through the firmware's outbox: acknowledged h records (in batches
        # the RAM outbox holds)
        for i in range(0, len(lines), 40):
            for line in lines[i : i + 40]:
                self.up.outbox.put("R", line)
            assert await self.srv.wait_for(lambda: self.up.outbox.queued() == 0, 30000)

    def records(self, lines):
        self.call(self._records(lines))

    async def _stop(self):
        if self.up is not None:
            self.up.stop()
            await asyncio.sleep(0.05)
            self.task.cancel()
        await self.srv.close()

    def stop(self):
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


def client(port, *args, password=NETPASS, vehicle=VID, server=True):
    cmd = [sys.executable, "-m", "tools.ovms_client"]
    if server:
        cmd += ["--server", "127.0.0.1:%d" % port]
    if vehicle is not None:
        cmd += ["--vehicle", vehicle]
    if password is not None:
        cmd += ["--password", password]
    p = subprocess.run(cmd + list(args), cwd=ROOT, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def _one_error_line(err):
    lines = err.strip().split("\n")
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("ovms_client: error: "), err
    return lines[0]


def test_history_and_commands_from_the_firmware_car():
    rig = Rig()
    tmp = support.tmpdir("client")
    try:
        rig.start_car()
        rig.records([gps_line(k) for k in range(N_GPS)])
        port = rig.srv.port
        # 31: what the server holds (the firmware's crash record and the GPS log)
        rc, out, err = client(port, "--header", "31")
        assert rc == 0, err
        rows = out.strip().split("\n")
        assert rows[0] == "type,recnos,records,bytes,oldest,newest"
        assert [r.split(",")[:3] for r in rows[1:]] == [
            ["*-OVM-DebugCrash", "1", "1"],
            ["RT-GPS-Log", "150", "150"],
        ]
        # 32 RT-GPS-Log: one CSV row per record, progress on stderr, and a GPX
        gpx_path = tmp + "/track.gpx"
        rc, out, err = client(port, "--gpx", gpx_path, "32", "RT-GPS-Log")
        assert rc == 0, err
        rows = out.strip().split("\n")
        assert len(rows) == N_GPS
        f = rows[0].split(",")
        assert f[0] == "RT-GPS-Log" and len(f[1]) == 19 and f[1][10] == " "
        assert f[2:] == ["43190", "52.520008", "13.404954", "46", "90", "30", "1", "120", "17"]
        assert rows[-1].split(",")[2:4] == ["43339", "52.534908"]
        progress = [x for x in err.split("\n") if x.startswith("RT-GPS-Log: ")]
        assert 10 <= len(progress) <= 12 and progress[-1] == "RT-GPS-Log: 150/150 records", err
        assert "%s: 147 track points" % gpx_path in err
        pts = ET.parse(gpx_path).getroot().findall(".//{http://www.topografix.com/GPX/1/1}trkpt")
        assert len(pts) == N_GPS - len(NO_FIX)
        assert pts[0].get("lat") == "52.520008" and pts[0].get("lon") == "13.404954"
        # 32 without a type: every type in one CSV
        rc, out, err = client(port, "--quiet", "32")
        assert rc == 0 and err == "", err
        types = [r.split(",")[0] for r in out.strip().split("\n")]
        assert types.count("RT-GPS-Log") == N_GPS and types.count("*-OVM-DebugCrash") == 1
        # car commands: USSD (one reply, commas made dots by the car), 203, 1, 99
        rc, out, err = client(port, "41", "*100#")
        assert (rc, out) == (0, "Balance: 5.00 EUR\nvalid until 2027-01-31\n"), err
        rc, out, err = client(port, "204", "30", "60")
        assert (rc, out) == (0, "30,60,0,19,124\n"), err
        rc, out, err = client(port, "1")
        assert rc == 0 and out.split("\n")[:2] == ["0,0", "1,0"] and len(out.split("\n")) == 17
        rc, out, err = client(port, "99")
        assert rc == 1 and err == "ovms_client: command 99 is not implemented by the car\n"
        rc, out, err = client(port, "32", "NOPE")
        assert rc == 1 and err == "ovms_client: server: No historical data available\n"
        # command 6: the PA alert and one c6 (the one-reply rule), nothing to print
        rc, out, err = client(port, "6")
        assert (rc, out, err) == (0, "", "")
        assert rig.srv.lines("PA") and rig.srv.lines("c6") == ["MP-0 c6,0"]
        # the firmware kept the one-reply-per-command rule all along
        side = rig.srv.app_side
        assert (side.mismatched, side.stray_replies, side.orphan_replies) == (0, 0, 0)
        assert side.forwarded == 5 and side.queue == []  # 41, 204, 1, 99, 6
    finally:
        rig.stop()
        support.rmtree(tmp)


def test_a_month_of_history_to_pictures():
    # car (h records stamped in the past) -> server -> client (32: every
    # type, one CSV) -> tools.plot
    from tools import history, history_demo

    rows = history_demo.month_of_history()
    lines = history_demo.car_lines(rows)
    rig = Rig()
    tmp = support.tmpdir("chain")
    try:
        w = rig.call(history_demo.send_as_car(rig.srv.port, lines, VID, NETPASS))
        assert rig.call(rig.srv.wait_for(lambda: len(rig.srv.history) == len(lines), 60000))
        w.close()
        rc, out, err = client(rig.srv.port, "32")
        assert rc == 0, err
        assert "RT-PWR-BattCell: 1680/1680 records" in err
        with open(tmp + "/HISTORY.csv", "w") as f:
            f.write(out)
        got = history.read_csv(tmp + "/HISTORY.csv")[0]
        assert len(got) == len(rows)
        cmd = [sys.executable, "-m", "tools.plot", tmp + "/HISTORY.csv", "--out", tmp]
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and p.stderr == "", p.stderr
        assert len(p.stdout.split()) == 4
        # the same numbers as from the generated file: nothing lost on the way
        cell, mean = plot.drifting_cell(plot.cell_deviations(got))
        assert cell == history_demo.DRIFT_CELL
    finally:
        rig.stop()
        support.rmtree(tmp)


def test_two_owners_at_once_each_get_their_own_reply():
    # the slow USSD answer is in front of the queue; the second command's
    # answer must not reach the first client, nor the other way round (§8.6)
    rig = Rig()
    rig.ussd_s = 1.0
    try:
        rig.start_car()
        port = rig.srv.port
        base = [sys.executable, "-m", "tools.ovms_client", "--server", "127.0.0.1:%d" % port,
                "--vehicle", VID, "--password", NETPASS]  # fmt: skip
        kw = dict(cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        a = subprocess.Popen(base + ["41", "*100#"], **kw)
        assert rig.call(rig.srv.wait_for(lambda: rig.srv.app_side.forwarded == 1, 30000))
        b = subprocess.Popen(base + ["203"], **kw)
        out_a, err_a = a.communicate(timeout=120)
        out_b, err_b = b.communicate(timeout=120)
        assert (a.returncode, out_a) == (0, "Balance: 5.00 EUR\nvalid until 2027-01-31\n"), err_a
        assert b.returncode == 0 and out_b.startswith("0,0,0,"), err_b
        assert rig.srv.app_side.stray_replies == 0
    finally:
        rig.stop()


def test_config_file_like_the_seed_client():
    rig = Rig()
    tmp = support.tmpdir("client")
    try:
        rig.start_car()
        conf = tmp + "/ovms_client.conf"
        with open(conf, "w") as f:
            f.write("[client]\nvehicle_id=twizy42\nserver_password=%s\n" % NETPASS)
            f.write("module_password=OVMS\nserver_ip=127.0.0.1\nserver_port=%d\n" % rig.srv.port)
        args = ("--config", conf, "201")
        rc, out, err = client(0, *args, password=None, vehicle=None, server=False)
        assert (rc, out) == (0, "0\n"), err
        # the command line wins over the file
        rc, out, err = client(0, *args, password="WRONG", vehicle=None, server=False)
        assert rc == 2 and "refused the login" in _one_error_line(err)
    finally:
        rig.stop()
        support.rmtree(tmp)


def test_errors_are_one_line_exit_2():
    rig = Rig()
    try:
        port = rig.srv.port
        # no car connected: history still works (no data yet), car commands fail at once
        rc, out, err = client(port, "31")
        assert (rc, out) == (
            1,
            "",
        ) and err == "ovms_client: server: No historical data available\n"
        rc, out, err = client(port, "41", "*100#")
        assert rc == 2 and "the car is not connected" in _one_error_line(err)
        assert rig.srv.app_side.dropped_commands == 0  # never sent
        rc, out, err = client(port, "31", password="WRONG")
        line = _one_error_line(err)
        assert rc == 2 and "unknown vehicle TWIZY42 or wrong server password" in line
        rc, out, err = client(port, "31", vehicle="NOSUCH")
        assert rc == 2 and "unknown vehicle NOSUCH" in _one_error_line(err)
        assert rig.srv.app_side.auth_failures == 2
        rc, out, err = client(port, "STAT")
        assert rc == 2 and "must be a number" in _one_error_line(err)
        rc, out, err = client(port, "31", password=None)
        assert rc == 2 and "no server password" in _one_error_line(err)
    finally:
        rig.stop()
    # server down: the port of the stopped server
    rc, out, err = client(port, "31")
    assert rc == 2 and "cannot reach the OVMS server 127.0.0.1:%d" % port in _one_error_line(err)
    rc, out, err = client(port, "--config", "/nonexistent/ovms_client.conf", "31")
    assert rc == 2 and "cannot read the config file" in _one_error_line(err)


def test_no_reply_times_out_with_a_clear_error():
    # a car that never answers (its USSD hangs): the client gives up after
    # --timeout, one line, exit 2 (the timeout only bounds the wait)
    rig = Rig()
    rig.ussd_s = 3600
    try:
        rig.start_car()
        rc, out, err = client(rig.srv.port, "--timeout", "1", "41", "*100#")
        assert rc == 2 and "no reply to command 41 within 1 s" in _one_error_line(err)
    finally:
        rig.stop()


def test_paranoid_car_needs_the_module_password():
    # §9: the car wraps its replies with the module password the server does
    # not know; the client unwraps them, or says clearly why it cannot
    rig = Rig()
    rig.params = {1: "MODPASS1", 10: "P"}
    try:
        rig.start_car()
        assert rig.call(rig.srv.wait_for(lambda: rig.srv.lines("ET"), 10000))
        port = rig.srv.port
        rc, out, err = client(port, "--module-password", "MODPASS1", "204", "30", "60")
        assert (rc, out) == (0, "30,60,0,19,124\n"), err
        assert rig.srv.lines("EMc")  # it really went wrapped through the server
        rc, out, err = client(port, "203")
        assert rc == 2 and "paranoid mode (give --module-password)" in _one_error_line(err)
        rc, out, err = client(port, "--module-password", "WRONG", "203")
        assert rc == 2 and "the module password is wrong" in _one_error_line(err)
    finally:
        rig.stop()


def test_a_server_that_is_not_an_ovms_server():
    # silent after the login line, or a welcome that proves nothing: one line, exit 2
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # the kernel accepts; nobody ever answers
    talker = socket.socket()
    talker.bind(("127.0.0.1", 0))
    talker.listen(4)

    def fake_welcome():
        conn, _ = talker.accept()
        conn.recv(200)
        conn.sendall(b"MP-S 0 AAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA==\r\n")
        conn.recv(200)
        conn.close()

    th = threading.Thread(target=fake_welcome, daemon=True)
    th.start()
    try:
        rc, out, err = client(silent.getsockname()[1], "--timeout", "1", "31")
        assert rc == 2 and "did not answer the login" in _one_error_line(err)
        rc, out, err = client(talker.getsockname()[1], "31")
        assert rc == 2 and "failed its login check (server digest wrong)" in _one_error_line(err)
    finally:
        silent.close()
        talker.close()
        th.join(10)
