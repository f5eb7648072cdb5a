# tools/fuzz_run.py, the fast path of the big recorded fuzz runs: hypothesis'
# fuzz_one_input really runs each test body with its assertions (a planted
# failing assertion is caught, a parser made to break its contract fails its
# fuzz body, a crash the NMEA parser swallows still fails), every drawn example
# runs the body once, the same seed draws the same examples, the exit status
# tells a failure, and CI=true derandomises the hypothesis engine runs.
# CPython only (hypothesis). Few examples: fast.
# Licence: MIT (this project).
import io
import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from ovms import at, nmea
from tools import fuzz_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@settings(database=None)
@given(st.integers(0, 255))
def _planted(x):
    assert x < 200, "planted"  # fails for about a fifth of the draws


def test_planted_failing_assertion_is_caught():
    out = io.StringIO()
    res = fuzz_run.run_test(_planted, 300, seed=1, name="planted", out=out, max_failures=1000)
    assert res.examples == 300 and res.invalid == 0
    assert 20 < len(res.failures) < 120, len(res.failures)
    for index, exc, args in res.failures:
        assert exc.startswith("AssertionError: planted")
        assert args.startswith("x=") and int(args[2:]) >= 200  # the failing draw
        # the seed and index rebuild that example: it fails again
        try:
            _planted.hypothesis.fuzz_one_input(fuzz_run.buffer(1, index))
        except AssertionError:
            pass
        else:
            raise AssertionError("index %d did not fail again" % index)
    text = out.getvalue()
    assert text.count("FAILURE planted seed=1 index=") == len(res.failures)
    assert "--replay %d" % res.failures[0][0] in text


def test_max_failures_stops_the_run():
    res = fuzz_run.run_test(_planted, 300, seed=1, out=io.StringIO(), max_failures=3)
    assert len(res.failures) == 3 and res.examples < 300


def test_every_example_runs_the_body_once():
    calls = []

    @settings(database=None)
    @given(st.binary(max_size=50), st.text(max_size=20))
    def body(b, t):
        calls.append((b, t))

    res = fuzz_run.run_test(body, 500, seed=2, out=io.StringIO())
    assert res.examples == 500 and len(calls) == 500 and not res.failures
    first = list(calls)
    del calls[:]
    fuzz_run.run_test(body, 500, seed=2, out=io.StringIO())
    assert calls == first  # the same seed: the same examples
    del calls[:]
    fuzz_run.run_test(body, 500, seed=3, out=io.StringIO())
    assert calls != first


def test_a_parser_breaking_its_contract_fails_the_real_fuzz_body(monkeypatch):
    # the AT fuzz body (test_fuzz_classify) asserts +CSQ's range: 100 is not one
    monkeypatch.setattr(at, "parse_csq", lambda line: 100)
    test, cleanup = fuzz_run.load("at")
    try:
        res = fuzz_run.run_test(test, 20, seed=4, out=io.StringIO(), max_failures=100)
    finally:
        cleanup()
    assert res.examples == 20 and len(res.failures) == 20
    assert all(f[1].startswith("AssertionError") for f in res.failures)


def test_a_swallowed_nmea_crash_fails_the_real_fuzz_body(monkeypatch):
    # NMEA.feed catches every exception (wire data never raises) and counts it
    # in .bugs: the fuzz body fails on it, it is not "bad input"
    real = nmea.parse_gga

    def crashing(f, fix):
        if f[1] != "101010.00":  # not the sentence the body seeds its fix with
            raise ZeroDivisionError("planted")
        return real(f, fix)

    monkeypatch.setattr(nmea, "parse_gga", crashing)
    test, cleanup = fuzz_run.load("nmea")
    try:
        res = fuzz_run.run_test(test, 200, seed=5, out=io.StringIO(), max_failures=1000)
    finally:
        cleanup()
    assert res.failures  # every GGA drawn (2 kinds of 7): about 57 of 200
    for _index, exc, args in res.failures:
        assert exc.startswith("AssertionError") and "GGA" in args


def test_the_nine_parsers_run_clean():
    for name in fuzz_run.PARSERS:
        test, cleanup = fuzz_run.load(name)
        try:
            res = fuzz_run.run_test(test, 10, seed=6, name=name, out=io.StringIO())
        finally:
            cleanup()
        assert (res.examples, res.failures) == (10, []), (name, res.failures)
        assert res.invalid <= 10, name


def test_exit_status_and_table(monkeypatch):
    out = io.StringIO()
    argv = ["--examples", "5", "--seed", "1", "--only", "canlog", "--log"]
    assert fuzz_run.main(argv, out) == 0
    text = out.getvalue()
    assert fuzz_run.HEADER in text and "| log line parser (`test_fuzz_any_text`) | 5 | 0 |" in text
    monkeypatch.setattr(at, "parse_csq", lambda line: 100)
    out = io.StringIO()
    assert fuzz_run.main(["--examples", "5", "--seed", "1", "--only", "at", "--log"], out) == 1
    assert "FAILURE at seed=1 index=0" in out.getvalue()
    out = io.StringIO()
    replay = ["--only", "at", "--seed", "1", "--replay", "0", "--log"]
    assert fuzz_run.main(replay, out) == 1
    assert "AssertionError" in out.getvalue() and "arguments: " in out.getvalue()


def _derandomised(env):
    env = dict(os.environ, **env)
    for k in ("FUZZ_EXAMPLES", "CI"):
        if env.get(k) is None:
            env.pop(k, None)
    code = (
        "import sys; sys.path.insert(0, 'host_tests'); import fuzzing; print(fuzzing.DERANDOMIZE)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().strip()


def test_ci_derandomises_the_engine_runs():
    # make test (no FUZZ_EXAMPLES): derandomised; make fuzz: random unless CI is set
    assert _derandomised({"FUZZ_EXAMPLES": None, "CI": None}) == "True"
    assert _derandomised({"FUZZ_EXAMPLES": "200000", "CI": None}) == "False"
    assert _derandomised({"FUZZ_EXAMPLES": "200000", "CI": "true"}) == "True"
    assert _derandomised({"FUZZ_EXAMPLES": "200000", "CI": "false"}) == "False"
