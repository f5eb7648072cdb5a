# Hypothesis fuzz of the CAN log line parser (ovms.canlog), CPython only.
# Any text: a frame tuple in range (which, written back, reads the same), None,
# or LogLineError, nothing else; every well-formed frame line (both formats,
# any spacing) gives back its frame; and
# the unix port parses a batch of the same lines to the same results (D46).
# FUZZ_EXAMPLES sets the number of examples (see fuzzing.py).
import os
import subprocess
import sys

from fuzzing import EXAMPLES, fuzz
from hypothesis import given
from hypothesis import strategies as st

from ovms.canlog import LogLineError, parse_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_HEX = "0123456789abcdefABCDEF"
_CHARS = "()#.# \t0123456789ABCDEFabcdefRTC" + "\u00b2\u0663\u00a0\x00\x1f\x85\u2003e_+-"
# text that looks like a log line: parts of real lines, separators, digits
_pieces = st.sampled_from(
    ["(", ")", "#", ".", " ", "\t", "can0", "1R11", "2T29", "CXX", "155", "597#", "00", "FF"]
)
linelike = st.lists(st.one_of(_pieces, st.text(alphabet=_CHARS, max_size=6)), max_size=14).map(
    "".join
)
anytext = st.one_of(st.text(max_size=80), linelike)


def _ok_result(r):
    if r is None:
        return True
    t, can_id, data = r
    return (
        isinstance(t, int)
        and 0 <= t < 10**18
        and isinstance(can_id, int)
        and 0 <= can_id <= 0x1FFFFFFF
        and isinstance(data, bytes)
        and len(data) <= 8
    )


def _parse(line):
    try:
        return parse_line(line)
    except LogLineError:
        return "ERR"


@fuzz()
@given(anytext)
def test_fuzz_any_text(line):
    r = _parse(line)
    assert r == "ERR" or _ok_result(r), (line, r)
    assert _parse(line) == r  # no state between lines
    if r not in ("ERR", None):
        # what was read is a frame: written back in either format, the same frame
        t, can_id, data = r
        hx = data.hex().upper()
        ext = can_id > 0x7FF
        back = "(%d.%06d) can0 %03X#%s" % (t // 1000000, t % 1000000, can_id, hx)
        crtd = "%d.%06d 1R%s %03X%s" % (
            t // 1000000,
            t % 1000000,
            "29" if ext else "11",
            can_id,
            "".join([" " + hx[i : i + 2] for i in range(0, len(hx), 2)]),
        )
        assert parse_line(back) == r, (line, back)
        assert parse_line(crtd) == r, (line, crtd)


frames = st.tuples(
    st.integers(0, 10**12 - 1),  # whole seconds
    st.integers(0, 999999),  # microseconds
    st.one_of(st.integers(0, 0x7FF), st.integers(0, 0x1FFFFFFF)),
    st.binary(max_size=8),
)
spaces = st.sampled_from([" ", "  ", "\t", " \t "])


@fuzz()
@given(frames, spaces, spaces, st.booleans(), st.sampled_from(["", "\n", "\r\n", "  \n"]))
def test_fuzz_well_formed_lines_round_trip(frame, sp1, sp2, lower, end):
    s, us, can_id, data = frame
    hx = data.hex() if lower else data.hex().upper()
    ident = "%x" % can_id if lower else "%03X" % can_id
    candump = "(%d.%06d)%scan0%s%s#%s%s" % (s, us, sp1, sp2, ident, hx, end)
    crtd = "%d.%06d%s1R%s%s%s%s%s" % (
        s,
        us,
        sp1,
        "29" if can_id > 0x7FF else "11",
        sp2,
        ident,
        "".join([" " + hx[i : i + 2] for i in range(0, len(hx), 2)]),
        end,
    )
    want = (s * 1000000 + us, can_id, data)
    assert parse_line(candump) == want, candump
    assert parse_line(crtd) == want, crtd


@fuzz()
@given(frames, st.integers(0, 60), st.text(alphabet=_CHARS, min_size=1, max_size=3))
def test_fuzz_damaged_lines(frame, pos, junk):
    # a real line with junk inserted: still a valid frame, or LogLineError
    s, us, can_id, data = frame
    line = "(%d.%06d) can0 %03X#%s" % (s, us, can_id, data.hex().upper())
    pos = min(pos, len(line))
    r = _parse(line[:pos] + junk + line[pos:])
    assert r == "ERR" or _ok_result(r)


_MP_SCRIPT = """
import sys
from ovms.canlog import LogLineError, parse_line
f = open(sys.argv[1], "rb")
out = open(sys.argv[2], "w")
for raw in f:
    line = raw[:-1].decode()
    try:
        r = parse_line(line)
        out.write("None\\n" if r is None else "%d %d %s\\n" % (r[0], r[1], r[2].hex()))
    except LogLineError:
        out.write("ERR\\n")
"""


def _fmt(r):
    if r == "ERR":
        return "ERR"
    if r is None:
        return "None"
    return "%d %d %s" % (r[0], r[1], r[2].hex())


def test_fuzz_runtimes_agree(tmp_path):
    # one batch of hypothesis-drawn lines parsed by both runtimes (D46)
    from hypothesis import settings

    lines = []

    @settings(
        max_examples=max(EXAMPLES, 200),
        deadline=None,
        derandomize=True,
        database=None,
    )
    @given(
        st.one_of(
            anytext, frames.map(lambda f: "(%d.%06d) can0 %X#%s" % (f[0], f[1], f[2], f[3].hex()))
        )
    )
    def collect(line):
        line = line.replace("\n", " ").replace("\r", " ")
        lines.append(line)

    collect()
    src = tmp_path / "lines.txt"
    src.write_bytes(b"".join([x.encode("utf-8", "surrogatepass") + b"\n" for x in lines]))
    script = tmp_path / "parse.py"
    script.write_text(_MP_SCRIPT)
    out = tmp_path / "out.txt"
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    env = dict(os.environ, MICROPYPATH=".frozen:lib")
    p = subprocess.run(
        [mp, "-X", "heapsize=8M", str(script), str(src), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    got = out.read_text().splitlines()
    assert len(got) == len(lines)
    for line, mp_result in zip(lines, got, strict=True):
        assert _fmt(_parse(line)) == mp_result, repr(line)
