# GPX 1.1 export of the car's RT-GPS-Log history (a track any map program
# opens). Licence: MIT (this project). CPython only.
#
#   python3 -m tools.ovms_client 32 RT-GPS-Log > gpslog.csv
#   python3 -m tools.gpx gpslog.csv [--out track.gpx]     (default: stdout)
#   python3 -m tools.ovms_client --gpx track.gpx 32 RT-GPS-Log
#
# Decision D83 (the history exports; the charts part is in tools/plot.py):
# a point is kept only with a GPS fix (field gps_fix 1) and
# coordinates inside -90..90 / -180..180 other than 0,0 (the module's value
# before the first fix); the others are counted and reported, never guessed.
# A gap of more than 10 minutes starts a new track segment (the car logs a
# point at least once a minute while it is on, so a gap is a parked car).
# Speed and GSM signal go into each point's <desc>: GPX 1.1 has no speed.

import sys
import time
from xml.sax.saxutils import escape

from tools import history

GAP_S = 600
NS = "http://www.topografix.com/GPX/1/1"


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def track_points(records, dropped=None):
    # RT-GPS-Log records -> [(t, lat, lon, altitude_m, desc)] in time order
    out = []
    for r in history.of_type(records, "RT-GPS-Log"):
        try:
            lat, lon = r.num("lat"), r.num("lon")
            fix = r.num("gps_fix")
            alt = r.num("altitude_m")
        except (ValueError, IndexError):
            fix, lat, lon, alt = 0, 0.0, 0.0, 0.0
        ok = fix == 1 and -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0.0, 0.0)
        if not ok:
            if dropped is not None:
                dropped[0] += 1
            continue
        desc = "speed %s, odometer %.1f mi, GSM %s" % (
            r.text("speed"),
            r.recno / 10.0,
            r.text("gsm_signal"),
        )
        out.append((r.t, lat, lon, alt, desc))
    return out


def segments(points, gap_s=GAP_S):
    segs = []
    for p in points:
        if not segs or p[0] - segs[-1][-1][0] > gap_s:
            segs.append([])
        segs[-1].append(p)
    return segs


def to_gpx(points, name="Twizy track"):
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx version="1.1" creator="twizy-ovms tools.gpx" xmlns="%s">' % NS,
        "  <metadata><name>%s</name></metadata>" % escape(name),
        "  <trk>",
        "    <name>%s</name>" % escape(name),
    ]
    for seg in segments(points):
        lines.append("    <trkseg>")
        for t, lat, lon, alt, desc in seg:
            lines.append(
                '      <trkpt lat="%.6f" lon="%.6f"><ele>%d</ele><time>%s</time>'
                "<desc>%s</desc></trkpt>" % (lat, lon, alt, _iso(t), escape(desc))
            )
        lines.append("    </trkseg>")
    lines += ["  </trk>", "</gpx>", ""]
    return "\n".join(lines)


def write_file(path, records, dropped=None):
    # -> number of track points written
    pts = track_points(records, dropped)
    name = "Twizy track"
    if pts:
        name += " " + _iso(pts[0][0])[:10]
    with open(path, "w") as f:
        f.write(to_gpx(pts, name))
    return len(pts)


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="python3 -m tools.gpx", description="RT-GPS-Log CSV -> GPX")
    ap.add_argument("csv", help="CSV from `python3 -m tools.ovms_client 32 RT-GPS-Log`")
    ap.add_argument("--out", help="GPX file (default: standard output)")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        records, skipped = history.read_csv(a.csv)
    except (OSError, UnicodeError) as e:
        sys.stderr.write("gpx: error: cannot read %s: %s\n" % (a.csv, e))
        return 2
    dropped = [0]
    pts = track_points(records, dropped)
    if not pts:
        sys.stderr.write("gpx: error: no RT-GPS-Log point with a GPS fix in %s\n" % a.csv)
        return 1
    text = to_gpx(pts, "Twizy track " + _iso(pts[0][0])[:10])
    try:
        if a.out:
            with open(a.out, "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
    except OSError as e:
        sys.stderr.write("gpx: error: cannot write %s: %s\n" % (a.out, e))
        return 2
    sys.stderr.write(
        "gpx: %d points in %d segments; %d without fix skipped, %d bad rows\n"
        % (len(pts), len(segments(pts)), dropped[0], skipped)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
