# DIAG console (device task with a fake stream, host tool core) and the replay
# tool's --sender/--config hooks (both runtimes).
from support import MICROPYTHON, rmtree, run_async, tmpdir, trace

from firmware.tasks.console import Console
from ovms import smsout
from ovms.config import Config
from ovms.sms import SmsInterpreter
from ovms.sms_table import HELP_TEXT, PERMISSION_DENIED
from ovms.store import Store
from ovms.twizy.vehicle import HELP_SUFFIX, Twizy
from tools import console as host_console
from tools import replay

OWNER = "+4915100000000"


class FakeStream:
    # an asyncio-style stream: read(n) and drain() coroutines, write(bytes)
    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.out = b""

    async def read(self, n):
        if not self.chunks:
            return b""  # EOF
        c = self.chunks.pop(0)
        if len(c) > n:
            self.chunks.insert(0, c[n:])
            c = c[:n]
        return c

    def write(self, data):
        self.out += data

    async def drain(self):
        pass


def _fw(params=None):
    p = {0: OWNER, 1: "OVMS"}  # no factory password any more (D35): set one
    if params:
        p.update(params)
    cfg = Config(p)
    return SmsInterpreter(cfg, Twizy(cfg))


def test_device_console_runs_commands():
    fw = _fw()
    s = FakeStream([b"VERS", b"ION\r", b"\nMODULE?\rFEATURE 9 5\n", b"HELP"])
    con = Console(s, fw, clock=lambda: 0)
    run_async(con.run())
    assert con.lines == 4
    cut = HELP_TEXT.index("  HOMELINK")  # split at the spaces before HOMELINK
    help_parts = [HELP_TEXT[:cut], HELP_TEXT[cut + 2 :] + HELP_SUFFIX]
    want = (
        "OVMS Firmware version: 3.0.0/RT2.5/VHOST\r\n---\r\n"
        "Module:\r\n VehicleID:\r\n VehicleType:\r\n Units:K\r\n Notifications:\r\n---\r\n"
        "Feature has been set.\r\n---\r\n"
        + help_parts[0]
        + "\r\n---\r\n"
        + help_parts[1]
        + "\r\n---\r\n"
    )
    assert s.out.decode() == want
    assert fw.cfg.features[9] == 5


def test_device_console_trusted_even_without_owner():
    fw = _fw({0: "NOPHONE", 1: ""})
    s = FakeStream([b"PASS newpass\nRESET\nnonsense\n"])
    run_async(Console(s, fw, eol="\n", clock=lambda: 0).run())
    assert s.out == b"Module password has been changed.\n---\n"  # no reply: nothing
    assert fw.cfg.params[1] == "newpass"


def test_device_console_as_a_sender():
    fw = _fw()
    s = FakeStream([b"STAT\nSTAT OVMS\n"])
    run_async(Console(s, fw, sender="+4917099999999", clock=lambda: 0).run())
    out = s.out.decode().split("\r\n---\r\n")
    assert out[0] == PERMISSION_DENIED
    assert out[1].startswith("Not charging\n Full charge: ")


def test_device_console_bad_bytes_and_long_lines():
    fw = _fw()
    s = FakeStream([b"\xff\xfeVERSION\n", b"PARAMS " + b"x" * 500 + b"\n", b"\xc3\xa4\n"])
    con = Console(s, fw, clock=lambda: 0, max_line=40)
    run_async(con.run())
    assert con.lines == 3
    # line cut at 40 bytes; a value over 31 characters is refused (D39), not clipped
    assert s.out == b"Error: parameter 2 is longer than 31 characters\r\n---\r\n"
    assert fw.cfg.params[2] == "K"


def test_device_console_shapes_replies():
    fw = _fw({5: "ap\u00b0n"})  # not GSM-7: replaced as in the SMS
    s = FakeStream([b"GPRS?\n"])
    run_async(Console(s, fw, eol="\n", clock=lambda: 0).run())
    assert s.out.decode().startswith("GPRS:\r\n APN:apdegn\r\n")


def test_device_console_loads_a_lines_code_per_line():
    # D121: only the reading loop is resident; each line's processing is loaded for the
    # line and dropped after it
    import sys

    from ovms import lazy

    name = "firmware.tasks.console_line"
    lazy.unload(name)
    seen = []
    real = lazy.load

    def load(n):
        m = real(n)
        seen.append(n)
        return m

    fw = _fw()
    s = FakeStream([b"VERSION\n", b"VERSION"])
    lazy.load = load
    try:
        run_async(Console(s, fw, clock=lambda: 0).run())
    finally:
        lazy.load = real
    assert seen.count(name) == 2
    assert name not in sys.modules
    assert s.out.count(b"OVMS Firmware version") == 2


def test_device_console_line_code_not_loaded_gets_a_reply():
    # D121: no room (or no module) for a line's code: ERR_NOT_LOADED, counted, nothing
    # ran, no traceback; what a half-done import left is unloaded; the next line works
    import sys

    from ovms import lazy
    from ovms.sms import ERR_NOT_LOADED

    name = "firmware.tasks.console_line"
    real = lazy.load
    fails = [MemoryError(), ImportError("no module")]

    def load(n):
        if n == name and fails:
            real(n)  # half done: loaded, then the error
            raise fails.pop(0)
        return real(n)

    fw = _fw()
    s = FakeStream([b"FEATURE 9 5\nVERSION\nVERSION\n"])
    con = Console(s, fw, eol="\n", clock=lambda: 0)
    lazy.load = load
    try:
        run_async(con.run())
    finally:
        lazy.load = real
    assert con.lines == 3 and con.not_loaded == 2
    err = (ERR_NOT_LOADED + "\n---\n").encode()
    assert s.out == err + err + b"OVMS Firmware version: 3.0.0/RT2.5/VHOST\n---\n"
    assert fw.cfg.features[9] != 5 and name not in sys.modules


if MICROPYTHON:
    import io

    class RawStream(io.IOBase):
        # a raw MicroPython stream (like a UART) for asyncio.StreamReader
        def __init__(self, data):
            self.data = data
            self.out = b""

        def read(self, n=-1):
            c = self.data[:n] if n > 0 else self.data
            self.data = self.data[len(c) :]
            return c

        def readinto(self, buf):
            c = self.read(len(buf))
            buf[: len(c)] = c
            return len(c)

        def readline(self):
            i = self.data.find(b"\n") + 1 or len(self.data)
            return self.read(i)

        def write(self, buf):
            self.out += bytes(buf)
            return len(buf)

        def ioctl(self, req, arg):
            if req == 3:  # poll: always readable (EOF reads b"") and writable
                return arg & 5
            return -1

    def test_device_console_wraps_a_raw_stream():
        fw = _fw()
        raw = RawStream(b"VERSION\r\n")
        run_async(Console(raw, fw, clock=lambda: 0).run())
        assert raw.out == b"OVMS Firmware version: 3.0.0/RT2.5/VHOST\r\n---\r\n"


def test_host_console_core():
    d = tmpdir("con")
    try:
        path = d + "/ovms.cfg"
        fw = host_console.build({"config": path, "sender": None, "units": None})
        assert host_console.run_line(fw, "AP - " + OWNER, None, 0) == []
        assert host_console.run_line(fw, "MODULE TWIZY42 K SMSIP RT", None, 0) == [
            "Module:\r\n VehicleID:TWIZY42\r\n VehicleType:RT\r\n Units:K\r\n Notifications:SMSIP"
        ]
        # as an SMS sender
        assert host_console.run_line(fw, "STAT", "+4917099999999", 0) == [PERMISSION_DENIED]
        # a console without a car: the owner view says so (D68)
        assert host_console.run_line(fw, "STAT", OWNER, 0)[0].startswith("No data from the car")
        # the settings are in the store
        cfg = Store(path).load()
        assert cfg.params[0] == OWNER and cfg.params[14] == "RT"
        fw2 = host_console.build({"config": path, "sender": None, "units": "m"})
        assert fw2.cfg.params[2] == "M"
        assert host_console.run_line(fw2, "HELP")[1].endswith(HELP_SUFFIX)
    finally:
        rmtree(d)


def test_host_console_args():
    assert host_console.parse_args([]) == {"config": None, "sender": None, "units": None}
    opts = host_console.parse_args(["--config", "f", "--sender", "+49"])
    assert opts["config"] == "f" and opts["sender"] == "+49"
    for bad in (["--config"], ["--units", "X"], ["x"]):
        try:
            host_console.parse_args(bad)
            raise AssertionError(bad)
        except host_console.UsageError:
            pass


# ---- replay tool: --sender, --config, --sms through the interpreter ---------------------


def _replay_vehicle(args):
    # -> ((vehicle, framework, sender), opts)
    opts = replay.parse_args(args + [trace("Init-Drv")])
    return replay.build(opts), opts


def _sms(ctx, command):
    # what `replay --sms COMMAND` prints, as a list of SMS parts
    vehicle, framework, sender = ctx
    return smsout.shape(framework.handle(sender, command, 0))


def test_replay_sms_as_default_owner():
    v, opts = _replay_vehicle([])
    assert opts["sender"] is None and opts["config"] is None
    assert v[0].cfg.params[0] == replay.REPLAY_OWNER == OWNER
    assert v[0].cfg.params[3] == "SMS,IP"
    # no frames replayed: the owner view says so (D68; --exact gives the 2013 text)
    assert _sms(v, "STAT")[0].startswith("No data from the car yet")
    parts = _sms(v, "HELP")
    assert len(parts) == 2 and parts[1].endswith("BATT POWER")
    assert _sms(v, "hello") == []
    assert _sms(v, "LOCK 1") == ["Not supported by this vehicle (Renault Twizy)"]


def test_replay_sms_as_a_sender():
    v, _opts = _replay_vehicle(["--sender", "+4917099999999"])
    assert _sms(v, "STAT") == [PERMISSION_DENIED]
    assert _sms(v, "STAT OVMS") == [PERMISSION_DENIED]  # no factory password (D35)


def test_replay_config_file_is_read_only_and_overridable():
    d = tmpdir("replay")
    try:
        path = d + "/ovms.cfg"
        st = Store(path)
        cfg = st.load()
        cfg.set_param(0, "+4916012345678", save=False)
        cfg.set_param(2, "M", save=False)
        cfg.set_feature(12, "80")
        v, _opts = _replay_vehicle(["--config", path])
        assert v[0].cfg.params[0] == "+4916012345678"
        assert v[0].cfg.units() == "M"
        assert v[0].cfg.features[12] == 80
        assert _sms(v, "RANGE?") == ["Max ideal range: 80 mi"]
        assert _sms(v, "RANGE 50") == ["Max ideal range: 50 mi"]
        assert Store(path).load().features[12] == 80  # file untouched
        v2, _ = _replay_vehicle(["--config", path, "--units", "K", "--feature", "12=60"])
        assert _sms(v2, "RANGE?") == ["Max ideal range: 60 km"]
        v3, _ = _replay_vehicle(["--config", path, "--sender", OWNER])
        assert _sms(v3, "RANGE?") == [PERMISSION_DENIED]
    finally:
        rmtree(d)
