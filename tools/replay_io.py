# Replay input: CAN logs and GPS tracks read as streams, merged on one clock.
# Runs under CPython and inside the MicroPython unix port. Licence: MIT (this project).
#
# Nothing here loads a whole log: a log is read line by line (at most
# MAX_LINE_BYTES per read, in binary so no decoder can raise), each frame is
# handed on and forgotten. A million-frame log replays in the unix port's heap.
#
# Every line that is not a frame, a blank line or a comment is skipped and
# counted (Stats.skipped, the --state "skipped_lines"). Decision D45: the first
# WARN_LINES skipped lines of each file are warned on stderr with their line
# number; the rest are only counted, and one summary line per file says how
# many were not shown (a binary file would otherwise print a warning per line).

import sys

from ovms.canlog import WS, LogLineError, parse_line, parse_time_us, printable
from ovms.gnss import dec_scaled

GAP_US = 100000  # later logs start 0.1 s after the previous one ended
MAX_LINE_BYTES = 256  # a longer line is skipped whole (a frame line is < 80 bytes)
WARN_LINES = 10


class Stats:
    # what the inputs held: frame lines used and lines skipped
    def __init__(self):
        self.frames = 0
        self.fixes = 0
        self.skipped = 0


def warn(msg):
    sys.stderr.write("replay: warning: %s\n" % msg)


class _Skips:
    # skipped-line counting and capped warnings for one file
    def __init__(self, path, stats):
        self.path = path
        self.stats = stats
        self.count = 0

    def skip(self, lineno, why):
        self.count += 1
        if self.stats is not None:
            self.stats.skipped += 1
        if self.count <= WARN_LINES:
            warn("%s:%d: %s; line skipped" % (self.path, lineno, why))

    def done(self):
        if self.count > WARN_LINES:
            warn(
                "%s: %d more malformed lines skipped (not shown)"
                % (self.path, self.count - WARN_LINES)
            )


# bytes per read(): on the emulated Cortex-M a file on mpremote's mount costs a serial
# round trip per read() (and its files take no readline size), so lines are split here
# from chunks; on MicroPython 1 KB (a fresh 4 KB block could not be placed in the 143 KB
# heap once the firmware image and a test's vehicles were in it), 4 KB on CPython
READ_CHUNK = 1024 if sys.implementation.name == "micropython" else 4096


def _raw_lines(f):
    # -> (raw line with its b"\n" if any, too_long) per line; memory stays bounded by
    # MAX_LINE_BYTES + READ_CHUNK whatever the file holds
    tail = b""
    dropping = False  # inside an over-long line: skip to its end
    while True:
        chunk = f.read(READ_CHUNK)
        if not chunk:
            break
        data = tail + chunk if tail else chunk
        start = 0
        while True:
            i = data.find(b"\n", start)
            if i < 0:
                break
            line = data[start : i + 1]
            start = i + 1
            if dropping:
                dropping = False
                yield b"", True
            elif len(line) > MAX_LINE_BYTES:
                yield b"", True
            else:
                yield line, False
        tail = data[start:]
        if len(tail) > MAX_LINE_BYTES:
            tail = b""
            dropping = True
    if dropping or len(tail) >= MAX_LINE_BYTES:
        yield b"", True
    elif tail:
        yield tail, False


def text_lines(path, skips):
    # -> (lineno, str) per line of a file, streamed. Over-long lines and lines
    # with bytes outside ASCII are skipped and counted, except comments ("#").
    with open(path, "rb") as f:
        lineno = 0
        for raw, too_long in _raw_lines(f):
            lineno += 1
            if too_long:
                skips.skip(lineno, "line longer than %d bytes" % MAX_LINE_BYTES)
                continue
            if max(raw) > 0x7E:
                if raw.lstrip()[:1] != b"#":
                    skips.skip(lineno, "byte outside printable ASCII")
                continue
            yield lineno, raw.decode()


def read_log(path, stats=None):
    # -> (t_us, can_id, data) per frame line, in file order, streamed
    skips = _Skips(path, stats)
    for lineno, line in text_lines(path, skips):
        try:
            rec = parse_line(line)
        except LogLineError as e:
            skips.skip(lineno, e.args[0])
            continue
        if rec is not None:
            if stats is not None:
                stats.frames += 1
            yield rec
    skips.done()


def _decimal(text, places):
    # "51.2577049", 6 -> 51257704 (truncated toward zero); ValueError if not a number
    v = dec_scaled(text, places)
    if v is None:
        raise ValueError("bad number %r" % text.strip()[:40])
    return v


def read_gps(path, stats=None):
    # -> list of (t_us, lat_e6, lon_e6, alt_m, speed_kph, direction), file order.
    # A track is small (one fix per second: 3,600 per hour), so it is a list.
    out = []
    skips = _Skips(path, stats)
    for lineno, line in text_lines(path, skips):
        line = line.strip(WS)
        if not line or line[0] == "#":
            continue
        cols = line.split(",")
        try:
            if not printable(line):
                raise ValueError("not printable ASCII")
            if len(cols) not in (5, 6):
                raise ValueError("expected t,lat,lon,alt,speed_kph[,direction]")
            t = parse_time_us(cols[0].strip(WS))
            direction = _decimal(cols[5], 0) if len(cols) == 6 else 0
            fix = (
                t,
                _decimal(cols[1], 6),
                _decimal(cols[2], 6),
                _decimal(cols[3], 0),
                _decimal(cols[4], 0),
                direction,
            )
        except ValueError as e:
            skips.skip(lineno, e.args[0] if e.args else "bad line")
            continue
        out.append(fix)
    skips.done()
    return out


def frames(paths, stats=None):
    # -> (t_us, can_id, data) of all logs on one clock, in file order (the order
    # is the truth: a frame stamped earlier than its predecessor just runs no
    # tick); each later log starts GAP_US after the previous one's last frame
    prev_end = None
    for path in paths:
        shift = None
        for t, can_id, data in read_log(path, stats):
            if shift is None:
                shift = 0 if prev_end is None else prev_end + GAP_US - t
            t += shift
            prev_end = t
            yield t, can_id, data


def _sorted_by_time(items):
    return all(items[i][0] >= items[i - 1][0] for i in range(1, len(items)))


def timeline(opts, stats=None):
    # -> (t_us, kind, seq, a, b) events: kind 1 = frame (a = CAN id, b = data),
    # kind 0 = GPS fix (a = the fix tuple). A fix goes before a frame of the
    # same time. Streamed: the frames are never held in a list.
    fixes = read_gps(opts["gps"], stats) if opts["gps"] else []
    if not _sorted_by_time(fixes):
        # MicroPython's sort calls the key on every comparison: only when needed
        fixes.sort(key=lambda f: f[0])
    if stats is not None:
        stats.fixes = len(fixes)
    seq = 0
    j = 0
    n = len(fixes)
    for t, can_id, data in frames(opts["logs"], stats):
        while j < n and fixes[j][0] <= t:
            yield fixes[j][0], 0, seq, fixes[j], None
            seq += 1
            j += 1
        yield t, 1, seq, can_id, data
        seq += 1
    while j < n:
        yield fixes[j][0], 0, seq, fixes[j], None
        seq += 1
        j += 1
