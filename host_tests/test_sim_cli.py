# The simulation's command line (tools/sim_args.py, tools/sim.py run()): every option,
# the old positional form, and every bad value a one-line error with exit status 2 (no
# traceback). Both runtimes. Licence: MIT (this project).

from tools import sim, sim_args
from tools.sim_args import UNPACED, UsageError, parse


def _bad(argv, words, env=None):
    try:
        parse(argv, env or {})
    except UsageError as e:
        text = str(e)
        assert "\n" not in text
        for w in words:
            assert w in text, (argv, text)
        return text
    raise AssertionError("accepted: %r" % (argv,))


def test_defaults_and_positional_form():
    a = parse([], {})
    assert a.scenario == "day" and a.seed == 1 and a.speed == 1 and a.seconds == 120
    assert a.from_s == 7 * 3600 + 29 * 60 + 50  # 10 s before the day's key on
    assert a.server is None and a.traces is None
    # make sim's "SECONDS SPEED": wall seconds at SPEED -> simulated SECONDS x SPEED
    a = parse(["20", "4"], {})
    assert a.seconds == 80 and a.speed == 4 and a.wall_seconds() == 20
    a = parse(["20"], {})
    assert a.seconds == 20 and a.speed == 1


def test_every_option():
    a = parse(
        [
            "--scenario",
            "charge",
            "--seed",
            "7",
            "--from",
            "00:10",
            "--seconds",
            "30",
            "--speed=1.5",
            "--server",
            "127.0.0.1:6867",
            "--vehicle",
            "TWIZY42",
            "--netpass",
            "NETPASS42",
            "--paranoid",
        ],
        {},
    )
    assert a.scenario == "charge" and a.seed == 7 and a.from_s == 600
    assert a.seconds == 30 and a.speed == 1.5 and a.wall_seconds() == 20
    assert a.server == ("127.0.0.1", 6867)
    assert a.vehicle == "TWIZY42" and a.netpass == "NETPASS42" and a.paranoid
    assert parse(["--from", "3600"], {}).from_s == 3600
    assert parse(["--from", "07:30:05"], {}).from_s == 27005
    assert parse(["--help"], {}).help
    # speed 0: as fast as the machine goes (the clock paced at a speed it never reaches)
    a = parse(["--speed", "0", "--seconds", "86400"], {})
    assert a.speed == 0 and a.clock_speed() == UNPACED and a.wall_seconds() * UNPACED == 86400


def test_sim_traces_environment():
    a = parse([], {"SIM_TRACES": "bundled"})
    assert a.scenario is None and len(a.traces) == 4 and a.from_s is None
    a = parse([], {"SIM_TRACES": sim_args.BUNDLED_TRACES[0]})
    assert a.traces == (sim_args.BUNDLED_TRACES[0],)
    _bad([], ["SIM_TRACES", "no such file", "nope.log"], {"SIM_TRACES": "nope.log"})
    _bad(["--scenario", "day"], ["exclude"], {"SIM_TRACES": "bundled"})
    _bad(["--from", "10"], ["--from", "scenario"], {"SIM_TRACES": "bundled"})


def test_bad_values_are_one_line_errors():
    _bad(["--speed", "-1"], ["--speed", ">= 0", "-1"])
    _bad(["--speed", "fast"], ["--speed", "number", "fast"])
    _bad(["--speed", "nan"], ["--speed", "finite"])
    _bad(["--speed", "inf"], ["--speed", "finite"])
    _bad(["--speed", "1e9"], ["--speed", "<="])
    _bad(["--seconds", "0"], ["--seconds", "> 0"])
    _bad(["--seconds", "-5"], ["--seconds", ">= 0"])
    _bad(["--seconds", "1e12"], ["--seconds", "<="])
    _bad(["--seconds"], ["--seconds", "needs a value"])
    _bad(["--seconds", "5", "--seconds", "6"], ["twice"])
    _bad(["0"], ["SECONDS", "> 0"])
    _bad(["x"], ["SECONDS", "number"])
    _bad(["20", "-3"], ["SPEED", ">= 0"])
    _bad(["1", "2", "3"], ["positional"])
    _bad(["20", "--speed", "2"], ["not both"])
    _bad(["--scenario", "holiday"], ["holiday", "day, charge, drive, parked"])
    _bad(["--seed", "1.5"], ["--seed", "whole"])
    _bad(["--from", "25:61"], ["--from", "HH:MM"])
    _bad(["--from", "a:b"], ["--from"])
    _bad(["--server", "nohost"], ["--server", "HOST:PORT"])
    _bad(["--server", "127.0.0.1:0"], ["port", ">= 1"])
    _bad(["--server", "127.0.0.1:99999"], ["port", "<= 65535"])
    _bad(["--server", "127.0.0.1:http"], ["port", "number"])
    _bad(["--server", "bad host:80"], ["--server host"])
    _bad(["--server", "127.0.0.1:6867", "--vehicle", "X" * 40], ["--vehicle"])
    _bad(["--server", "127.0.0.1:6867", "--netpass", ""], ["--netpass", "empty"])
    _bad(["--vehicle", "T"], ["--server"])
    _bad(["--paranoid"], ["--server"])
    _bad(["--bogus"], ["unknown option", "--bogus"])


def test_run_gives_status_2_and_no_traceback():
    # bad options end before anything starts: one line on stderr, exit status 2
    import sys

    class Err:
        def __init__(self):
            self.text = ""

        def write(self, s):
            self.text += s

    old = sys.stderr
    err = Err()
    try:
        sys.stderr = err
    except AttributeError:  # the unix port's sys.stderr is read-only: the status counts
        err = None
    if err is None:
        assert sim.run(["--speed", "-1"]) == 2 and sim.run(["abc", "1"]) == 2
    else:
        try:
            assert sim.run(["--speed", "-1"]) == 2
            assert sim.run(["abc", "1"]) == 2
        finally:
            sys.stderr = old
        assert "sim: --speed must be >= 0, not -1" in err.text and "usage:" in err.text
        assert "Traceback" not in err.text
    out = []
    sim.OUT = out.append
    try:
        assert sim.run(["--help"]) == 0
    finally:
        sim.OUT = print
    assert out[0].startswith("usage: python3 -m tools.sim")


def test_sim_runs_the_virtual_twizy_at_a_fractional_speed():
    # the whole firmware, 8 simulated seconds of the drive (key on at 00:01:00) at x1.5
    from support import rmtree, tmpdir

    d = tmpdir("simcli")
    out = []
    sim.OUT = out.append
    try:
        status = sim.run(
            ["--scenario", "drive", "--from", "58", "--seconds", "8", "--speed", "1.5"],
            CFG_PATH=d + "/ovms.cfg",
            BOOT_LOG_PATH=d + "/boot.json",
            SIM_SMS=(),
        )
    finally:
        sim.OUT = print
        rmtree(d)
    text = "\n".join(out)
    assert status == 0, text
    assert "scenario drive seed 1 from 00:00:58, speed x1.5" in text
    assert "car: key on (scenario 00:01:00)" in text
    line = [x for x in out if x.startswith("summary: ") and "frames decoded" in x][0]
    decoded = int(line.split()[1])
    filtered = int(line.split(", ")[1].split()[0])
    assert decoded > 500 and filtered > 500 and "task crashes 0" in line
    assert "summary: heap: " in text


def test_wire_bytes_model():
    # D64: 40 B IPv4+TCP per segment, one pure ACK per data segment the other way,
    # SYN/SYN-ACK/ACK and FIN+ACK each way; segments of at most 1460 B
    from tools.sim800emu.tcp import Wire

    w = Wire()
    w.connects += 1
    w.up(100)  # one CIPSEND
    w.up(1461)  # two segments
    w.down(50)
    w.closes += 1
    assert (w.segments_up, w.segments_down) == (3, 1)
    assert w.wire_up() == 1561 + 40 * (3 + 1 + 2 + 2)  # data, ACKs of theirs, SYN+ACK, FIN+ACK
    assert w.wire_down() == 50 + 40 * (1 + 3 + 1 + 2)  # data, ACKs of ours, SYN-ACK, FIN+ACK
