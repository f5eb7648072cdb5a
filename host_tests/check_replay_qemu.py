# `python3 -m tools.replay --runtime qemu` prints exactly what `--runtime cpython` prints,
# for each of the six bundled real traces: the core frozen in the emulated Cortex-M image
# (31-bit small ints, board-sized heap, logs read over the serial mount) agrees with
# CPython byte for byte. Run by `make test-qemu` (it needs the image `make qemu` builds),
# not by the plain pytest stage.
import io
import os
import subprocess
import sys

import pytest

from tools import qemu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRACES = ("Init-Drv", "End-Drv", "Init-Trc", "End-Trc", "Init-Chg", "End-Chg")


@pytest.fixture(scope="module")
def compiled():
    qemu.compile_tests()


@pytest.mark.parametrize("name", TRACES)
def test_replay_on_qemu_equals_cpython(compiled, name):
    path = os.path.join(
        ROOT, "host_tests/fixtures/traces/Twizy-Virtual-BMS__Protocol.%s.candump.log" % name
    )
    args = ["--records", "--alerts", "--state", "--sms", "STAT", path]
    want = subprocess.run(
        [sys.executable, "-m", "tools.replay"] + args,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert want.returncode == 0, want.stderr
    out = io.StringIO()
    rc = qemu.run_replay(args, out=out, compile=False, timeout_s=600)
    assert rc == 0, out.getvalue()[-2000:]
    assert out.getvalue() == want.stdout
    assert len(want.stdout) > 200
