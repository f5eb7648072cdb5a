# The replay tool as a user runs it: CLI in both runtimes, byte-identical output.
# CPython only (starts subprocesses).
import os
import subprocess
import sys
import tempfile
import time

from support import ROOT, trace

TRACES = ("Init-Drv", "End-Drv", "Init-Chg", "End-Chg", "Init-Trc", "End-Trc")
ROOT_ABS = os.path.abspath(ROOT)


def _run(args, runtime="cpython", timeout=120):
    # the timeout only bounds a hang
    cmd = [sys.executable, "-m", "tools.replay", "--runtime", runtime] + args
    p = subprocess.run(cmd, cwd=ROOT_ABS, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_all_traces_identical_in_both_runtimes():
    for name in TRACES:
        args = [
            "--records",
            "--alerts",
            "--state",
            "--until",
            "130",
            "--sms",
            "STAT",
            "--sms",
            "BATT V",
            "--sms",
            "BATT TD",
            "--sms",
            "POWER",
            "--sms",
            "CA?",
            trace(name),
        ]
        rc1, out1, err1 = _run(args)
        rc2, out2, err2 = _run(args, "micropython")
        assert rc1 == 0 and rc2 == 0, (name, err1, err2)
        assert out1 == out2, name
        assert err1 == "" and err2 == "", (err1, err2)
        assert '"frames": ' in out1


def test_back_to_back_charge_identical():
    # the replay says what the module says (owner decisions, D69): "Charging Done" 3 s
    # after the charge ended (D67, so --until ticks past the recording), no Range line
    # (the car never reported one while charging, D65); --exact: the 2013 module
    args = ["--records", "--state", "--until", "20", "--sms", "STAT"]
    args += [trace("Init-Chg"), trace("End-Chg")]
    rc1, out1, _ = _run(args)
    rc2, out2, _ = _run(args, "micropython")
    assert rc1 == rc2 == 0
    assert out1 == out2
    assert "[t=15] MP-0 PACharging Done\\r CHG: 4 Wh\\r SOC: 100.00% (98.10%..100.00%)\\r" in out1
    assert "Charging Done\n CHG: 4 Wh\n SOC: 100.00% (98.10%..100.00%)" in out1
    rc1, out1, _ = _run(["--exact"] + args)
    rc2, out2, _ = _run(["--exact"] + args, "micropython")
    assert rc1 == rc2 == 0
    assert out1 == out2
    assert "[t=12] MP-0 PACharging Done\\r CHG: 4 Wh\\r Range: 50 - 50 km\\r" in out1
    assert "Charging Done\n CHG: 4 Wh\n Range: 50 - 50 km\n SOC: 100.00% (98.10%..100.00%)" in out1


def test_malformed_lines_warned_with_line_number():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mixed.log")
        with open(path, "w") as f:
            f.write("# a comment\n\n")
            f.write("(1.000000) can0 597#0095214129000135\n")
            f.write("(1.010000) can0 155#0797C7549798\n")  # DLC 6: valid
            f.write("this is not a frame\n")
            f.write("1.020000 1R11 599 00 00 0D 80 FF 46 00 00\n")  # CRTD line
            f.write("(1.030000) can0 155#07\n")  # too short: dropped and counted
        for runtime in ("cpython", "micropython"):
            rc, out, err = _run(["--state", path], runtime)
            assert rc == 0
            assert "mixed.log:5:" in err and "line skipped" in err
            assert '"soc": 9702' in out and '"range_km": 70' in out
            assert '"short_dlc": 1' in out


def test_gps_feeds_records():
    with tempfile.TemporaryDirectory() as d:
        gps = os.path.join(d, "track.csv")
        with open(gps, "w") as f:
            f.write("# t,lat,lon,alt,speed_kph\n")
            for k in range(0, 130, 5):
                f.write("%d.5,51.%06d,7.160899,%d,30\n" % (10 + k, 257704 + k, 139 + k // 10))
        args = ["--records", "--until", "125", "--gps", gps, trace("Init-Drv")]
        rc1, out1, _ = _run(args)
        rc2, out2, _ = _run(args, "micropython")
        assert rc1 == rc2 == 0 and out1 == out2
        logs = [x for x in out1.splitlines() if "RT-GPS-Log" in x]
        assert logs[0].startswith("[t=60] MP-0 HRT-GPS-Log,263798,86400,51.2577")
        assert ",1,11" in logs[0]  # fix, stale counter counting down from 120


def test_usage_errors():
    rc, out, err = _run([])
    assert rc == 2 and "no LOG given" in err
    rc, out, err = _run(["--units", "X", trace("End-Chg")])
    assert rc == 2 and "--units" in err
    rc, out, err = _run(["/nonexistent.log"])
    assert rc == 1 and "replay:" in err


def test_bad_input_same_in_both_runtimes():
    # "(²)" raised on CPython and was skipped on MicroPython; 5,000-digit numbers
    # and binary lines: skipped and counted alike, never a traceback
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bad.log")
        with open(path, "wb") as f:
            f.write(b"(1.000000) can0 597#0095214129000135\n")
            f.write(b"(\xc2\xb2) can0 155#00\n")
            f.write("(1.0) can0 1\u0665\u0665#00\n".encode())
            f.write(b"1.0 \xc2\xb2R11 599 00\n")
            f.write(b"(" + b"9" * 5000 + b".0) can0 155#00\n")
            f.write(b"(1." + b"9" * 5000 + b") can0 155#00\n")
            f.write(bytes(range(256)) + b"\n")  # holds an LF: two lines
            f.write(b"(1.01) can0 155#0797C7549798\n")
        outs = []
        for runtime in ("cpython", "micropython"):
            rc, out, err = _run(["--state", "--records", path], runtime)
            assert rc == 0, err
            assert "Traceback" not in err and "Error" not in err, err
            assert '"skipped_lines": 7' in out and '"frames": 2' in out
            outs.append(out)
        assert outs[0] == outs[1]


def test_until_1e8_and_a_huge_gap_end():
    # 10^8 simulated seconds: idle minutes are skipped in one step (D47)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "gap.log")
        with open(path, "w") as f:
            f.write("(5.0) can0 597#0095214129000135\n")
            f.write("(100000005.0) can0 597#0085214129000135\n")
        for runtime in ("cpython", "micropython"):
            rc, out, err = _run(["--state", "--until", "1e8", trace("End-Chg")], runtime)
            assert rc == 0 and '"ticks": 100000000' in out, err
            rc, out, err = _run(["--state", path], runtime)
            assert rc == 0 and '"ticks": 100000001' in out, err


# a big log: the six traces repeated on a running clock, one garbage line every
# 1,000 lines. `make test` runs 30,000 frames (the whole-file replay died above
# about 11,000 in the unix port's 16 MB heap); REPLAY_BIG_FRAMES=1000000 is the
# `make replay-big` run.
BIG_FRAMES = int(os.environ.get("REPLAY_BIG_FRAMES", "30000"))


def _big_log(path, n):
    from ovms.canlog import parse_line

    frames = []
    for name in TRACES:
        with open(trace(name)) as f:
            for line in f:
                r = parse_line(line)
                if r is not None:
                    frames.append((r[1], r[2].hex().upper()))
    garbage = 0
    t_us = 1700000000000000
    with open(path, "w") as f:
        for k in range(n):
            can_id, data = frames[k % len(frames)]
            t_us += 6452  # 155 frames/s, as the real bus
            f.write("(%d.%06d) can0 %03X#%s\n" % (t_us // 1000000, t_us % 1000000, can_id, data))
            if k % 1000 == 999:
                f.write("(\u00b2) can0 155#%s\n" % ("9" * (k % 7000)))
                garbage += 1
    return garbage


def test_big_log_streams_in_both_runtimes():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "big.log")
        garbage = _big_log(path, BIG_FRAMES)
        outs = []
        for runtime in ("micropython", "cpython"):
            t0 = time.monotonic()
            rc, out, err = _run(["--state", "--records", path], runtime, timeout=3600)
            sys.stderr.write(
                "replay %d frames, %s: %.1f s\n" % (BIG_FRAMES, runtime, time.monotonic() - t0)
            )
            assert rc == 0, err[-2000:]
            assert '"frames": %d,' % BIG_FRAMES in out
            assert '"skipped_lines": %d}' % garbage in out
            # warnings capped: 10 lines and one summary (D45)
            assert len(err.splitlines()) == min(garbage, 10) + (garbage > 10), err
            outs.append(out)
        assert outs[0] == outs[1]
