# The replay tool as a user runs it: CLI in both runtimes, byte-identical output.
# CPython only (starts subprocesses).
import os
import subprocess
import sys
import tempfile

from support import ROOT, trace

TRACES = ("Init-Drv", "End-Drv", "Init-Chg", "End-Chg", "Init-Trc", "End-Trc")
ROOT_ABS = os.path.abspath(ROOT)


def _run(args, runtime="cpython"):
    cmd = [sys.executable, "-m", "tools.replay", "--runtime", runtime] + args
    p = subprocess.run(cmd, cwd=ROOT_ABS, capture_output=True, timeout=120)
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
    args = ["--records", "--state", "--sms", "STAT", trace("Init-Chg"), trace("End-Chg")]
    rc1, out1, _ = _run(args)
    rc2, out2, _ = _run(args, "micropython")
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
