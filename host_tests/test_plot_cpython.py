# tools.plot (PNG charts of the history) and tools.gpx (GPX track) on a
# generated month of history: the numbers behind each chart, the PNG files
# opened again (size, drawn content, the drifting cell in red) and the GPX
# parsed back. CPython only (matplotlib). Licence: MIT (this project).
import csv
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import support

from tools import gpx, history, plot
from tools.history_demo import (
    CHG_W,
    DAY,
    DRIFT_CELL,
    PACK_V,
    T0,
    TRIP_WH,
    month_of_history,
)

GPX_NS = "{http://www.topografix.com/GPX/1/1}"


def _ts(t):
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def _write(rows, path):
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_the_numbers_behind_the_charts():
    recs = history.parse_rows(month_of_history())
    cell, mean = plot.drifting_cell(plot.cell_deviations(recs))
    assert cell == DRIFT_CELL and -62 < mean < -52, (cell, mean)
    cur = plot.current_series(recs)
    charge = [a for t, a in cur if t > T0 + 29 * DAY + 3 * 3600]
    assert len(charge) == 180  # 181 records, nothing across the reset
    cc = [a for a in charge if a > CHG_W / PACK_V - 0.01]
    assert len(cc) > 120 and all(abs(a - CHG_W / PACK_V) < 0.01 for a in cc), charge[:3]
    assert charge[-1] < 0.5 * CHG_W / PACK_V  # the CV tail
    driving = [a for t, a in cur if t < T0 + 29 * DAY + 3 * 3600]
    assert len(driving) == 3 * 19 and all(a < 0 for a in driving)  # drawn from the battery
    span = plot.last_charge(cur)
    assert span[1] - span[0] > 2 * 3600 and span[0] > T0 + 29 * DAY + 3 * 3600, span
    e = plot.section_energy(recs)  # the charge is left out
    for j, s in enumerate(("const", "accel", "decel")):
        assert abs(e[s][0] - sum(trip[2 * j] for trip in TRIP_WH)) < 0.01, s
        assert abs(e[s][1] - sum(trip[2 * j + 1] for trip in TRIP_WH)) < 0.01, s
    assert abs(e["const"][2] - 3 * 600.0) < 1e-9  # 60,000 frames of 10 ms per trip
    pts, unit = plot.range_points(recs)
    assert len(pts) == 50 and unit == "km" and pts[0] == (20.0, 16.0, 18.0)


def _png(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image

    img = matplotlib.image.imread(path)
    h, w = img.shape[0], img.shape[1]
    px = img[:, :, :3].reshape(-1, 3)
    drawn = (px.sum(axis=1) < 2.9).mean()  # share of pixels that are not white
    red = ((abs(px[:, 0] - 214 / 255.0) < 0.03) & (abs(px[:, 1] - 39 / 255.0) < 0.03)
           & (abs(px[:, 2] - 40 / 255.0) < 0.03)).sum()  # fmt: skip
    return w, h, drawn, red


def test_pngs_drawn_and_the_drifting_cell_stands_out():
    tmp = support.tmpdir("plot")
    try:
        src = tmp + "/HISTORY.csv"
        _write(month_of_history() + [["type", "timestamp", "recno"], ["garbage"]], src)
        cmd = [sys.executable, "-m", "tools.plot", src, "--out", tmp + "/png"]
        p = subprocess.run(cmd, cwd=support.ROOT, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        assert p.stderr == "plot: 1 rows skipped (not type,timestamp,recno,...)\n", p.stderr
        names = sorted(os.path.basename(x) for x in p.stdout.split())
        assert names == ["cell_deviation.png", "charge_curve.png", "energy_sections.png",
                         "range_vs_soc.png"]  # fmt: skip
        for n in names:
            path = tmp + "/png/" + n
            assert os.path.getsize(path) > 10000, n
            w, h, drawn, red = _png(path)
            assert (w, h) == (1000, 600), n
            assert 0.02 < drawn < 0.6, (n, drawn)
            if n == "cell_deviation.png":
                assert red > 1000, red  # the drifting cell's thick red line
            else:
                assert red == 0, (n, red)
    finally:
        support.rmtree(tmp + "/png")
        support.rmtree(tmp)


def test_missing_records_and_bad_files():
    tmp = support.tmpdir("plot")
    try:
        src = tmp + "/gps.csv"
        _write([["RT-GPS-Log", _ts(T0), "43190", "52.5", "13.4", "46", "90", "30", "1", "120",
                 "17"]], src)  # fmt: skip
        assert plot.main([src, "--out", tmp]) == 1
        assert [n for n in os.listdir(tmp) if n.endswith(".png")] == []
        assert plot.main([tmp + "/nonexistent.csv", "--out", tmp]) == 2
    finally:
        support.rmtree(tmp)


def test_gpx_track_parses_back():
    rows = []
    for k in range(30):
        t = T0 + k * 60 + (1800 if k >= 20 else 0)  # a 30-minute stop after 20 points
        fix = "0" if k == 5 else "1"
        lat, lon = ("0.000000", "0.000000") if k == 6 else ("%.6f" % (52.52 + k * 0.001), "13.4")
        rows.append(["RT-GPS-Log", _ts(t), str(43190 + k), lat, lon, str(40 + k), "90", "30",
                     fix, "120", "17"])  # fmt: skip
    tmp = support.tmpdir("gpx")
    try:
        src, out = tmp + "/gps.csv", tmp + "/track.gpx"
        _write([history.header("RT-GPS-Log")] + rows, src)
        assert gpx.main([src, "--out", out]) == 0
        root = ET.parse(out).getroot()
        assert root.tag == GPX_NS + "gpx" and root.get("version") == "1.1"
        segs = root.findall("%strk/%strkseg" % (GPX_NS, GPX_NS))
        assert [len(s.findall(GPX_NS + "trkpt")) for s in segs] == [18, 10]
        first = segs[0].find(GPX_NS + "trkpt")
        assert (first.get("lat"), first.get("lon")) == ("52.520000", "13.400000")
        assert first.find(GPX_NS + "ele").text == "40"
        assert first.find(GPX_NS + "time").text == "2026-11-02T00:00:00Z"
        last = segs[1].findall(GPX_NS + "trkpt")[-1]
        assert last.find(GPX_NS + "time").text == "2026-11-02T00:59:00Z"
        # no point with a fix: exit 1, no file written
        _write([rows[5]], src)
        assert gpx.main([src, "--out", tmp + "/none.gpx"]) == 1
        assert not os.path.exists(tmp + "/none.gpx")
    finally:
        support.rmtree(tmp)
