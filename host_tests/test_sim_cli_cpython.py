# python3 -m tools.sim end to end (CPython: a server in a separate process): the
# virtual Twizy's day in the whole firmware, logged in to tools/ovms_v2_server.py started
# as its own process on 127.0.0.1 exactly as a car would (right and wrong password,
# paranoid mode), and the summary's counters (records by type, alerts by channel, SMS,
# GPRS bytes with TCP/IP overhead, task errors, heap). Simulated time runs on the
# virtual clock; the timeouts below only bound a hang. Licence: MIT (this project).

import os
import socket
import subprocess
import sys
import time

from support import rmtree, tmpdir

from tools import sim

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _server(port, vehicle, netpass):
    # one app watching (Z1 after each login): the car sends its status records at once
    p = subprocess.Popen(
        [sys.executable, "-u", "-m", "tools.ovms_v2_server", "--host", "127.0.0.1"]
        + ["--port", str(port), "--vehicle", vehicle, "--pass", netpass, "--apps", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = p.stdout.readline()  # "OVMS v2 test server on ..." once it listens
    assert "OVMS v2 test server on 127.0.0.1:%d" % port in first, first
    return p


def _stop(p):
    p.terminate()
    try:
        out, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out


def _sim(argv, d):
    lines = []
    sim.OUT = lines.append
    try:
        status = sim.run(
            argv, CFG_PATH=d + "/ovms.cfg", BOOT_LOG_PATH=d + "/boot.json", SIM_SMS=((4, "STAT"),)
        )
    finally:
        sim.OUT = print
    return status, lines


def _summary(lines, head):
    for line in lines:
        if line.startswith("summary: " + head):
            return line
    raise AssertionError("no summary line %r in:\n%s" % (head, "\n".join(lines[-20:])))


def test_sim_logs_in_to_a_server_process_as_a_car():
    port = _free_port()
    srv = _server(port, "SIMCAR1", "SIMPASS1")
    d = tmpdir("simsrv")
    try:
        t0 = time.time()
        status, lines = _sim(
            ["--scenario", "drive", "--from", "50", "--seconds", "80", "--speed", "10"]
            + ["--server", "127.0.0.1:%d" % port, "--vehicle", "SIMCAR1", "--netpass", "SIMPASS1"],
            d,
        )
        assert time.time() - t0 < 600  # bounds a hang only
    finally:
        out = _stop(srv)
        rmtree(d)
    text = "\n".join(lines)
    assert status == 0, text
    assert "server logged in (GPRS via the emulator)" in text
    assert "car: key on (scenario 00:01:00)" in text
    # the server process saw the car's records in clear after its own decryption
    got = out.split("\n")
    assert any(x.startswith("MP-0 H*-OVM-DebugCrash") for x in got), out[:2000]
    s_lines = [x for x in got if x.startswith("MP-0 S")]
    assert s_lines and not s_lines[0].startswith("MP-0 S50,"), s_lines  # no placeholder
    assert any(x.startswith("MP-0 h") and ",RT-GPS-Log," in x for x in got)
    # the summary's counters
    up = _summary(lines, "uplink:")
    assert "1 logins, 0 auth failures" in up
    rec = _summary(lines, "records sent by type:")
    assert " S 1" in rec or ", S " in rec and "h RT-GPS-Log" in rec
    n_srv = len([x for x in got if x.startswith("MP-0 ")])
    n_sim = int(rec[rec.rfind("(") + 1 : rec.rfind(" lines")])
    assert n_sim == n_srv, (n_sim, n_srv)  # every line counted arrived, and no more
    wire = _summary(lines, "GPRS bytes:")
    f = wire.replace("/", " ").split()
    pay_up, ip_up, pay_down, ip_down = int(f[4]), int(f[6]), int(f[11]), int(f[13])
    assert 0 < pay_up < ip_up and 0 < pay_down < ip_down
    assert "bytes out" in up and str(pay_up) in up  # the uplink wrote what the modem sent
    assert "alerts raised by channel: SMS" in text and "heap: " in text
    assert "SMS in 1 / out " in text and "task crashes 0" in text


def test_wrong_password_and_paranoid_mode():
    port = _free_port()
    srv = _server(port, "SIMCAR2", "RIGHTPW")
    d = tmpdir("simsrv2")
    try:
        status, lines = _sim(
            ["--scenario", "drive", "--from", "55", "--seconds", "40", "--speed", "10"]
            + ["--server", "127.0.0.1:%d" % port, "--vehicle", "SIMCAR2", "--netpass", "WRONG"],
            d,
        )
        # wrong password: refused, counted, retried with back-off; nothing crashes
        assert status == 0
        up = _summary(lines, "uplink:")
        assert up.startswith("summary: uplink: 0 logins, ") and " 0 auth failures" not in up
        # paranoid: the server stores only what it cannot read
        status, lines = _sim(
            ["--scenario", "drive", "--from", "55", "--seconds", "60", "--speed", "10"]
            + ["--server", "127.0.0.1:%d" % port, "--vehicle", "SIMCAR2", "--netpass", "RIGHTPW"]
            + ["--paranoid"],
            d,
        )
        assert status == 0
        assert "1 logins, 0 auth failures" in _summary(lines, "uplink:")
    finally:
        out = _stop(srv)
        rmtree(d)
    got = out.split("\n")
    assert any("login refused" in x for x in got)
    assert any(x.startswith("MP-0 EM") for x in got), out[:2000]
    assert not any(x.startswith("MP-0 S") for x in got)  # no status in clear


def test_real_traces_alerts_on_both_channels():
    # SIM_TRACES=bundled: the real recordings looped; End-Chg ends a charge: a charge
    # alert raised per loop on each channel (SMS to the owner, PA push; its text is made
    # when it goes out, by then the loop has moved on to the next key-on)
    d = tmpdir("simtr")
    os.environ["SIM_TRACES"] = "bundled"
    try:
        status, lines = _sim(["40", "10"], d)
    finally:
        del os.environ["SIM_TRACES"]
        rmtree(d)
    text = "\n".join(lines)
    assert status == 0, text
    assert "CAN frames from 4 trace(s)" in text
    al = _summary(lines, "alerts raised by channel:")
    f = al.replace(",", " ").split()
    sms, srv = int(f[6]), int(f[8])
    assert sms >= 1 and sms == srv, al
    out = [x for x in lines if "SMS out to" in x]
    assert 2 <= len(out) <= sms + 1  # the STAT reply and the alerts that went out
    assert "PA" in _summary(lines, "records sent by type:")
