# The host DIAG console as a program (CPython only: subprocesses), commands on
# stdin, in both runtimes.
import os
import subprocess
import sys

from support import rmtree, tmpdir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWNER = "+4915100000000"

SCRIPT = (
    "# preconfigure a module\n"
    "AP - %s s3cret\n"
    "\n"
    "MODULE TWIZY42 K SMSIP RT\n"
    "VERSION\n"
    "RESET\n"
    "FEATURE 9 5\n"
    "HELP\n" % OWNER
)

HELP_1 = (
    "Commands: REGISTER? REGISTER PASS? PASS  GPS STAT PARAMS? PARAMS  AP  MODULE? "
    "MODULE  GPRS? GPRS  GSMLOCK? GSMLOCK SERVER? SERVER  DIAG FEATURES? FEATURE"
)
HELP_2 = (
    "HOMELINK  LOCK  UNLOCK  VALET  UNVALET  CHARGEMODE  CHARGESTART CHARGESTOP "
    "VERSION RESET HELP \r\nTwizy Commands: DEBUG STAT RANGE CA HELP BATT POWER"
)

WANT = (
    "Module:\r\n VehicleID:TWIZY42\r\n VehicleType:RT\r\n Units:K\r\n Notifications:SMSIP\n"
    "---\n"
    "OVMS Firmware version: 3.0.0/RT2.5/VHOST\n"
    "---\n"
    "Feature has been set.\n"
    "---\n" + HELP_1 + "\n---\n" + HELP_2 + "\n---\n"
)


def _run(args, stdin, runtime="cpython"):
    env = dict(os.environ)
    if runtime == "cpython":
        cmd = [sys.executable, "-m", "tools.console"] + args  # tools/ adds lib/
    else:
        cmd = [os.path.join(os.path.dirname(sys.executable), "micropython"), "-m", "tools.console"]
        cmd += args
        env["MICROPYPATH"] = ".frozen:%s/lib:%s" % (ROOT, ROOT)
    p = subprocess.run(
        cmd, check=False, input=stdin.encode(), capture_output=True, cwd=ROOT, env=env, timeout=60
    )
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def _both(fn):
    for runtime in ("cpython", "micropython"):
        fn(runtime)


def test_console_non_interactive_with_config():
    def check(runtime):
        d = tmpdir("conp")
        try:
            path = d + "/ovms.cfg"
            rc, out, err = _run(["--config", path], SCRIPT, runtime)
            assert rc == 0, err
            assert out == WANT, runtime
            # saved: a second run sees the settings; as a stranger: denied
            rc, out, err = _run(["--config", path], "REGISTER?\nPASS?\n", runtime)
            assert out == "Registered number: %s\n---\nModule password: s3cret\n---\n" % OWNER
            rc, out, err = _run(
                ["--config", path, "--sender", "+4917099999999"], "STAT\n", runtime
            )
            assert out == "Permission denied\n---\n"
            rc, out, err = _run(["--config", path, "--sender", OWNER], "FEATURES?\n", runtime)
            assert out == "Features:\r\n 9:5\n---\n"
        finally:
            rmtree(d)

    _both(check)


def test_console_without_config_and_usage():
    def check(runtime):
        rc, out, err = _run([], "PARAMS?\nhello\n", runtime)
        assert rc == 0
        assert out == "Params:\n0:NOPHONE\n2:K\n---\n"  # no factory password (D35)
        rc, out, err = _run(["--bogus"], "", runtime)
        assert rc == 2 and "usage:" in err

    _both(check)
