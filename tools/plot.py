# Pictures of the car's life from the server history (PNG, matplotlib Agg):
#
#   python3 -m tools.ovms_client 32 > HISTORY.csv      (every record type)
#   python3 -m tools.plot HISTORY.csv [--out DIR]
#
# charge_curve.png     SOC and battery current over time (+ = into the battery)
# cell_deviation.png   each cell's voltage minus the pack's cell average, over
#                      days; the cell that drifts most is drawn in red
# energy_sections.png  Wh used / recovered per speed section (constant,
#                      accelerating, decelerating) and level section (up, down)
# range_vs_soc.png     estimated and ideal range against SOC
# A chart whose records are missing is skipped with a note on stderr.
# Exit status: 0 at least one chart written, 1 none, 2 the file is unreadable.
# Licence: MIT (this project). CPython only.
#
# Decision D83 (the history exports; the GPX part is in tools/gpx.py):
# - no record carries the battery current. It is derived from two
#   consecutive RT-PWR-UsageStats records: the power counters count every
#   0x155 frame (10 ms) in units of 16 W, so the mean power between them is
#   16 x (delta used - delta recovered) / delta frames, divided by the pack
#   voltage of the latest RT-PWR-BattPack. A counter that went down (reset at
#   switch-on and charge start) ends a series: that interval is not drawn.
# - cell deviation = cell mV - mean of the cells logged in the same
#   minute; "drifting" = the largest mean |deviation| over the last 24 h.
# - the energy of several trips is the sum of each trip's last record (the
#   counters restart at every switch-on and charge start). A series that
#   recovered more than it used is a charge (the charged energy counts as
#   "recovered, constant speed"): it is left out of the energy chart.

import sys

from tools import history

SECTIONS = ("const", "accel", "decel", "up", "down")
LABELS = ("constant", "accelerating", "decelerating", "uphill", "downhill")
HIGHLIGHT = "#d62728"  # the drifting cell


# ---- the numbers -----------------------------------------------------------------------
def soc_series(records):
    # [(t, SOC %)] from RT-PWR-BattPack, else from S records
    out = []
    for r in history.of_type(records, "RT-PWR-BattPack"):
        try:
            out.append((r.t, r.num("soc_c") / 100.0))
        except ValueError:
            pass
    if not out:
        for r in history.of_type(records, "S"):
            try:
                out.append((r.t, r.num("soc")))
            except ValueError:
                pass
    return out


def _pack_volts(records):
    out = []
    for r in history.of_type(records, "RT-PWR-BattPack"):
        try:
            v = r.num("volt_act_cv") / 100.0
        except ValueError:
            continue
        if v > 0:
            out.append((r.t, v))
    return out


def _usage(r):
    names = history.FIELDS["RT-PWR-UsageStats"]
    return [float(r.text(n)) for n in names]


def current_series(records):
    # [(t, A)] mean battery current between consecutive UsageStats, + = charging (D83)
    volts = _pack_volts(records)
    prev = None
    out = []
    for r in history.of_type(records, "RT-PWR-UsageStats"):
        try:
            cur = _usage(r)
        except (ValueError, IndexError):
            continue
        if prev is not None:
            d = [cur[i] - prev[1][i] for i in range(9)]
            frames = d[0] + d[3] + d[6]
            if min(d) >= 0 and frames > 0:
                v = [x[1] for x in volts if x[0] <= r.t]
                if v:
                    watts = 16.0 * ((d[1] + d[4] + d[7]) - (d[2] + d[5] + d[8])) / frames
                    out.append(((prev[0] + r.t) / 2.0, -watts / v[-1]))
        prev = (r.t, cur)
    return out


def last_charge(cur, min_a=1.0, gap_s=900):
    # (start, end) of the last run of charging current samples (> min_a, no
    # gap over gap_s between them); None if the history holds no charge
    end = None
    start = None
    for t, a in reversed(cur):
        if a <= min_a:
            if end is not None:
                break
            continue
        if end is None:
            end = t
        elif start - t > gap_s:
            break
        start = t
    return None if end is None else (start, end)


def cell_deviations(records):
    # {cell: [(t, mV deviation from the mean of its minute)]} (D83)
    groups = {}
    for r in history.of_type(records, "RT-PWR-BattCell"):
        try:
            mv = r.num("mv_act")
        except ValueError:
            continue
        groups.setdefault(r.t // 60, []).append((r.recno, r.t, mv))
    out = {}
    for key in sorted(groups):
        g = groups[key]
        if len(g) < 2:
            continue
        mean = sum(x[2] for x in g) / len(g)
        for cell, t, mv in g:
            out.setdefault(cell, []).append((t, mv - mean))
    return out


def drifting_cell(devs, window_s=86400):
    # (cell, mean deviation mV) with the largest mean |deviation| in the last window
    if not devs:
        return None, 0.0
    end = max(p[0] for pts in devs.values() for p in pts)
    best = (None, 0.0)
    for cell in sorted(devs):
        recent = [d for t, d in devs[cell] if t > end - window_s]
        if recent:
            m = sum(recent) / len(recent)
            if best[0] is None or abs(m) > abs(best[1]):
                best = (cell, m)
    return best


def section_energy(records):
    # {section: (Wh used, Wh recovered, time s)} summed over trips (D83)
    rows = []
    for r in history.of_type(records, "RT-PWR-UsageStats"):
        try:
            rows.append(_usage(r))
        except (ValueError, IndexError):
            continue
    ends = []
    for i, row in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        # the last record of a series, where a charge recovered more than it used
        last = nxt is None or any(nxt[k] < row[k] for k in range(15))
        if last and row[1] + row[4] + row[7] >= row[2] + row[5] + row[8]:
            ends.append(row)
    out = {}
    for j, s in enumerate(SECTIONS):
        use = sum(e[j * 3 + 1] for e in ends) / history.WH
        rec = sum(e[j * 3 + 2] for e in ends) / history.WH
        t = sum(e[j * 3] for e in ends) / 100.0 if j < 3 else 0.0
        out[s] = (use, rec, t)
    return out


def range_points(records):
    # [(SOC %, estimated, ideal)] and the distance unit, from S records
    pts = []
    unit = "km"
    for r in history.of_type(records, "S"):
        try:
            pts.append((r.num("soc"), r.num("est_range"), r.num("ideal_range")))
            unit = "mi" if r.text("units") == "M" else "km"
        except ValueError:
            pass
    return pts, unit


# ---- the pictures ----------------------------------------------------------------------
def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6), dpi=100)
    return plt, fig, ax


def _dates(ts):
    import datetime

    return [datetime.datetime.fromtimestamp(t, datetime.timezone.utc) for t in ts]


def _save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def charge_curve(records, path):
    soc = soc_series(records)
    if not soc:
        return "no RT-PWR-BattPack or S records"
    cur = current_series(records)
    title = "Charge curve: SOC and battery current"
    span = last_charge(cur)
    if span is not None:
        # the last charge, with half an hour either side
        lo, hi = span[0] - 1800, span[1] + 1800
        soc = [p for p in soc if lo <= p[0] <= hi] or soc
        cur = [p for p in cur if lo <= p[0] <= hi]
        title = "Last charge (%s UTC): SOC and battery current" % _dates([span[0]])[0].strftime(
            "%Y-%m-%d %H:%M"
        )
    plt, fig, ax = _figure()
    ax.plot(_dates([p[0] for p in soc]), [p[1] for p in soc], color="tab:blue", label="SOC")
    ax.set_ylabel("SOC (%)", color="tab:blue")
    ax.set_ylim(0, 105)
    ax.set_xlabel("time (UTC)")
    ax.grid(True, alpha=0.3)
    if cur:
        ax2 = ax.twinx()
        ax2.plot(_dates([p[0] for p in cur]), [p[1] for p in cur], color="tab:orange")
        ax2.set_ylabel("battery current (A, + = charging)", color="tab:orange")
        top = max(1.0, max(p[1] for p in cur))
        ax2.set_ylim(min(0.0, min(p[1] for p in cur)) * 1.1, top * 1.15)
    ax.set_title(title)
    fig.autofmt_xdate()
    _save(plt, fig, path)
    return None


def cell_deviation(records, path):
    devs = cell_deviations(records)
    if not devs:
        return "no RT-PWR-BattCell records"
    cell, mean = drifting_cell(devs)
    plt, fig, ax = _figure()
    for c in sorted(devs):
        if c != cell:
            pts = devs[c]
            ax.plot(_dates([p[0] for p in pts]), [p[1] for p in pts], color="0.65", lw=0.8)
    pts = devs[cell]
    ax.plot(_dates([p[0] for p in pts]), [p[1] for p in pts], color=HIGHLIGHT, lw=2.5,
            label="cell %d: %+.0f mV over the last day" % (cell, mean))  # fmt: skip
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("cell voltage - pack cell average (mV)")
    ax.set_xlabel("day (UTC)")
    ax.set_title("Cell deviation per cell (grey: the other %d cells)" % (len(devs) - 1))
    ax.legend(loc="best")
    ax.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    _save(plt, fig, path)
    return None


def energy_sections(records, path):
    e = section_energy(records)
    if not history.of_type(records, "RT-PWR-UsageStats"):
        return "no RT-PWR-UsageStats records"
    plt, fig, ax = _figure()
    x = list(range(len(SECTIONS)))
    use = [e[s][0] for s in SECTIONS]
    rec = [e[s][1] for s in SECTIONS]
    ax.bar([i - 0.2 for i in x], use, width=0.4, color="tab:purple", label="used (Wh)")
    ax.bar([i + 0.2 for i in x], rec, width=0.4, color="tab:green", label="recovered (Wh)")
    total_s = sum(e[s][2] for s in SECTIONS[:3])
    labels = list(LABELS)
    for j in range(3):
        if total_s > 0:
            labels[j] += "\n%d %% of the time" % round(100.0 * e[SECTIONS[j]][2] / total_s)
    ax.set_xticks(x)
    ax.set_xticklabels(labels)
    ax.set_ylabel("energy (Wh)")
    ax.set_title("Energy use per speed and level section")
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    _save(plt, fig, path)
    return None


def range_vs_soc(records, path):
    pts, unit = range_points(records)
    if not pts:
        return "no S records (a server with history of car messages)"
    plt, fig, ax = _figure()
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=12, color="tab:blue", label="estimated")
    ax.scatter([p[0] for p in pts], [p[2] for p in pts], s=12, color="tab:gray", label="ideal")
    ax.set_xlabel("SOC (%)")
    ax.set_ylabel("range (%s)" % unit)
    ax.set_xlim(0, 100)
    ax.set_title("Range against SOC")
    ax.legend()
    ax.grid(True, alpha=0.3)
    _save(plt, fig, path)
    return None


CHARTS = (
    ("charge_curve.png", charge_curve),
    ("cell_deviation.png", cell_deviation),
    ("energy_sections.png", energy_sections),
    ("range_vs_soc.png", range_vs_soc),
)


def main(argv=None):
    import argparse
    import os

    ap = argparse.ArgumentParser(prog="python3 -m tools.plot", description=__doc__)
    ap.add_argument("csv", help="history CSV from `python3 -m tools.ovms_client 32`")
    ap.add_argument("--out", default=".", help="folder for the PNG files (default: here)")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        records, skipped = history.read_csv(a.csv)
        os.makedirs(a.out, exist_ok=True)
    except (OSError, UnicodeError) as e:
        sys.stderr.write("plot: error: %s\n" % e)
        return 2
    if skipped:
        sys.stderr.write("plot: %d rows skipped (not type,timestamp,recno,...)\n" % skipped)
    written = 0
    for name, draw in CHARTS:
        path = os.path.join(a.out, name)
        why = draw(records, path)
        if why:
            sys.stderr.write("plot: %s not drawn: %s\n" % (name, why))
        else:
            sys.stdout.write(path + "\n")
            written += 1
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
