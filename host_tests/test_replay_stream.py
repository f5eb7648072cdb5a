# The replay tool's input side and its clock, through the Python API (both
# runtimes): logs are streamed, bad lines skipped and counted, idle time skipped
# in one step with the same output as ticking every second (D45, D47).
from support import rmtree, tmpdir, trace

from tools import replay
from tools.replay_io import MAX_LINE_BYTES, Stats, read_gps, read_log
from tools.replay_run import Replayer, snapshot

TRACES = ("Init-Drv", "End-Drv", "Init-Chg", "End-Chg", "Init-Trc", "End-Trc")
# 0x155 with SOC 4.00 % (S = 0x0640), car off: the critical-SOC alert, every 12 h
LOW_SOC = "(100.000000) can0 155#0797C75406400073\n"


class _Collect:
    def __init__(self, vehicle):
        self.vehicle = vehicle
        self.out = []

    def server_ready(self):
        return True

    def sms_ready(self):
        return True

    def send_server(self, lines):
        for line in lines:
            self.out.append("[t=%d] %s" % (self.vehicle.st.tick, line))

    def send_sms(self, text):
        self.out.append("[t=%d] SMS> %s" % (self.vehicle.st.tick, text))


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _run(args, skip_idle):
    # -> (output lines, final state JSON, ticks skipped)
    opts = replay.parse_args(args)
    vehicle = replay.build_vehicle(opts)
    link = _Collect(vehicle)
    rp = Replayer(vehicle, link, skip_idle=skip_idle)
    stats = Stats()
    for t, kind, _seq, a, b in replay.timeline(opts, stats):
        if kind == 1:
            rp.frame(t, a, b)
        else:
            rp.fix(t, a)
    rp.finish(opts["until"])
    return link.out, replay.state_json(vehicle, stats.skipped), rp.ticks_skipped


def _same_both_ways(args):
    out1, state1, skipped1 = _run(args, True)
    out2, state2, skipped2 = _run(args, False)
    assert skipped2 == 0
    assert out1 == out2, args
    assert state1 == state2, args
    return out1, state1, skipped1


def test_bad_lines_skipped_and_counted():
    d = tmpdir("replay")
    try:
        path = d + "/bad.log"
        lines = [
            b"# a comment with UTF-8: Z\xc3\xbcndung\n",
            b"(1.000000) can0 597#0095214129000135\n",
            b"(\xc2\xb2) can0 155#00\n",  # non-ASCII digit (D46)
            b"(1.01) can0 155#0797C7549798\n",
            b"\xff\xfe\x00\x01binary\x80\n",
            b"(" + b"9" * 5000 + b".0) can0 155#00\n",  # over-long line
            b"(" + b"9" * 200 + b".0) can0 155#00\n",  # 200-digit timestamp
            b"1.02 1R11 599 00 00 0D 80 FF 46 00 00\n",
            b"\x00" * 300 + b"\n",
            b"this is not a frame\n",
            b"\n",
            b"(1.03) can0 155#07\n",
            b"(1.04) can0 155#0797C754979800",  # no LF at the end: still a line
        ]
        _write(path, b"".join(lines))
        stats = Stats()
        frames = read_log(path, stats)
        assert not isinstance(frames, list)  # a stream
        got = list(frames)
        assert [f[1] for f in got] == [0x597, 0x155, 0x599, 0x155, 0x155]
        assert stats.frames == 5 and stats.skipped == 6
        _out, state, _ = _run(["--state", path], True)
        assert '"skipped_lines": 6' in state
        assert '"frames": 5' in state and '"short_dlc": 1' in state
    finally:
        rmtree(d)


def test_long_line_boundaries():
    d = tmpdir("replay")
    try:
        path = d + "/edge.log"
        good = b"(1.0) can0 155#0797C75497980073"
        pad = b" " * (MAX_LINE_BYTES - 1 - len(good))
        _write(
            path,
            good
            + pad
            + b"\n"  # exactly MAX_LINE_BYTES with its LF: kept
            + good
            + pad
            + b" \n"  # one byte more: skipped whole
            + b"x" * (3 * MAX_LINE_BYTES)
            + b"\n"
            + good
            + b"\n",
        )
        stats = Stats()
        got = list(read_log(path, stats))
        assert len(got) == 2 and stats.skipped == 2
    finally:
        rmtree(d)


def test_gps_bad_lines_counted():
    d = tmpdir("replay")
    try:
        path = d + "/track.csv"
        _write(
            path,
            b"# t,lat,lon,alt,speed\n"
            b"10.5,51.257704,7.160899,139,30\n"
            b"\xc2\xb2,51.2,7.1,1,1\n"
            b"11.5,51.2,7.1,1\n"
            b"12.5,5" + b"1" * 5000 + b",7.1,1,1\n"
            b"13.5,51.2,7.1,1,1,\x1f90\n"
            b"14.5,-51.2,-7.1,-1,1,90\n",
        )
        stats = Stats()
        fixes = read_gps(path, stats)
        assert fixes == [
            (10500000, 51257704, 7160899, 139, 30, 0),
            (14500000, -51200000, -7100000, -1, 1, 90),
        ]
        assert stats.skipped == 4
    finally:
        rmtree(d)


def test_until_accepts_exponents_and_refuses_nonsense():
    assert replay.parse_until("130") == 130000000
    assert replay.parse_until("1e8") == 10**14
    assert replay.parse_until("2.5E3") == 2500000000
    assert replay.parse_until("1e12") == 10**18
    for bad in ("1e13", "1e", "e8", "1e\u00b2", "\u00b2", "1e999999", "9" * 5000, "-1"):
        try:
            replay.parse_until(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_idle_skip_same_output_on_every_trace():
    for name in TRACES:
        out, _state, skipped = _same_both_ways(["--until", "7200", trace(name)])
        assert out, name
        assert skipped > 6000, (name, skipped)


def test_idle_skip_same_output_across_gaps_and_critical_soc_repeats():
    d = tmpdir("replay")
    try:
        low = d + "/low.log"
        _write(low, LOW_SOC.encode())
        out, state, skipped = _same_both_ways(["--until", "100000", low])
        crit = [x for x in out if "CRITICAL SOC" in x]
        # every 12 h (43,200 s) on both channels, at the minute tick
        assert [x[: x.index("]") + 1] for x in crit] == [
            "[t=60]",
            "[t=60]",
            "[t=43260]",
            "[t=43260]",
            "[t=86460]",
            "[t=86460]",
        ]
        assert '"ticks": 100000' in state and skipped > 99000
        # two logs with a long gap inside the second and GPS fixes around it
        gap = d + "/gap.log"
        _write(
            gap,
            b"(5.0) can0 597#0095214129000135\n"
            b"(5.5) can0 155#0797C75497980073\n"
            b"(30005.0) can0 597#0085214129000135\n",
        )
        gps = d + "/track.csv"
        _write(gps, b"6.5,51.2,7.1,100,0\n40000.25,51.3,7.2,120,0\n")
        args = ["--gps", gps, "--until", "50000", trace("End-Drv"), gap]
        out, state, skipped = _same_both_ways(args)
        assert skipped > 40000
    finally:
        rmtree(d)


def test_until_1e8_ends():
    # 10^8 ticks one by one would take hours; idle minutes are skipped
    out, state, skipped = _run(["--until", "1e8", trace("End-Chg")], True)
    assert '"ticks": 100000000' in state
    assert skipped > 100000000 - 1000


def test_snapshot_sees_every_table():
    opts = replay.parse_args([trace("End-Chg")])
    v = replay.build_vehicle(opts)
    a = snapshot(v)
    v.st.tick += 5
    assert snapshot(v) == a  # the tick counter is not state
    v.st.cell_act[3] += 1
    assert snapshot(v) != a
    v.st.cell_act[3] -= 1
    v.net.apps = 1
    assert snapshot(v) != a
