# make data-report's promise (issue 10 §4): the economy profile stays within 0.5 MB a
# month on the reference month (1 h drive + 1 charge a day), measured on the virtual
# Twizy's day 2 (tools/data_report.py), while rt25 (the 2013 cadence) needs megabytes.
# CPython only: two simulated days of ~2.9 M frames each (about a minute).
import io
import sys

from tools import data_report


def _run(argv):
    out = io.StringIO()
    old = sys.stdout
    sys.stdout = out
    try:
        status = data_report.main(argv)
    finally:
        sys.stdout = old
    return status, out.getvalue().splitlines()


def test_economy_within_half_a_megabyte_a_month():
    status, lines = _run(["--quiet", "--seed", "1"])
    assert status == 0
    last = lines[-1]
    assert last.startswith("data-report: rt25 ") and last.endswith(" MB/month"), last
    parts = last.replace(",", "").split()
    rt25 = float(parts[2])
    economy = float(parts[5])
    assert economy <= 0.5, last
    assert rt25 > 5, last  # the 2013 cadence: ~12 MB (the issue measured ~8.4 on less)


def test_bad_options_are_one_line_errors():
    for argv in (["--seed", "x"], ["--scenario", "nope"], ["--budget", "-1"], ["--bogus"]):
        status, lines = _run(argv)
        assert status == 2 and len(lines) == 1, (argv, lines)
