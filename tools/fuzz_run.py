# The big recorded fuzz runs, fast: each parser's fuzz test (the SAME test body,
# the SAME strategies as in make fuzz) driven through hypothesis' documented
# `test.hypothesis.fuzz_one_input(buffer)` with seeded random buffers: no
# shrinking, no example database, no engine bookkeeping per example. Host tool,
# CPython only. Licence: MIT (this project).
#
#   python -m tools.fuzz_run --examples 1000000 [--seed S] [--only NAME ...]
#   python -m tools.fuzz_run --only nmea --seed S --replay I    (one example again)
#
# Per parser it prints examples (bodies run), invalid buffers (the strategies
# refused them: a filter gave up), seconds, examples/s and failures. A failure
# prints its seed and index (they rebuild the buffer exactly), the exception
# and the drawn arguments; the exit status is then 1 (also for a run stopped by
# SIGTERM or Ctrl-C: it ends after the example in progress, its row marked
# "(stopped)"). make test checks the tool itself: test_fuzz_run_cpython.py.
# D55: example i of seed S is the buffer random.Random(S * 2**32 + i).randbytes(BUFFER)
#      (BUFFER = 8192 bytes, more than any of the nine strategies draws), so one
#      (seed, index) pair reproduces a failure without storing anything.
# D56: an invalid buffer (a .filter gave up, or the strategies wanted more bytes)
#      is not an example: the run draws buffers until N bodies have run, and
#      stops if invalid buffers outnumber N (a strategy that cannot be fuzzed
#      this way is an error, not a silent count).
# D57: the engine's health checks do not apply to fuzz_one_input (hypothesis
#      documents this): they run where they always run, in make test / make fuzz.
import argparse
import os
import random
import signal
import sys
import time
import traceback

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _d in ("lib", "host_tests", ""):
    _p = os.path.join(_ROOT, _d) if _d else _ROOT
    if _p not in sys.path:
        sys.path.append(_p)

BUFFER = 8192
PROGRESS_EVERY = 50000  # examples between progress lines
MAX_FAILURES = 20  # a parser's run stops after this many failures


def _sms_setup(mod):
    import support

    before = mod._Dir.path
    mod._Dir.path = support.tmpdir("fuzzrun")

    def cleanup():
        support.rmtree(mod._Dir.path)
        mod._Dir.path = before  # the module may be pytest's too (test_fuzz_run_cpython)

    return cleanup


# name -> (fuzz module, test in it, what it fuzzes, setup(mod) -> cleanup or None)
PARSERS = {
    "decoder": ("test_decoder_fuzz_cpython", "test_fuzz_decoder", "CAN decoder", None),
    "canlog": ("test_canlog_fuzz_cpython", "test_fuzz_any_text", "log line parser", None),
    "at": ("test_at_fuzz_cpython", "test_fuzz_classify", "AT classifier", None),
    "sim800": (
        "test_sim800_fuzz_cpython",
        "test_fuzz_idle_splitter",
        "SIM800 driver splitter",
        None,
    ),
    "nmea": ("test_nmea_fuzz_cpython", "test_fuzz_nmea_checksummed", "NMEA", None),
    "sms": ("test_sms_fuzz_cpython", "_check", "SMS interpreter", _sms_setup),
    "store": (
        "test_store_fuzz_cpython",
        "test_fuzz_load_any_files",
        "settings store loader",
        None,
    ),
    "v2codec": ("test_v2_codec_fuzz_cpython", "test_fuzz_session_garbage", "v2 codec", None),
    "v2handler": (
        "test_v2_handler_fuzz_cpython",
        "test_fuzz_handler_sequences",
        "v2 command handler",
        None,
    ),
}


def buffer(seed, index):
    # D55: the buffer of example `index` of run `seed`
    return random.Random(seed * 2**32 + index).randbytes(BUFFER)


class Result:
    def __init__(self, name):
        self.name = name
        self.examples = 0
        self.invalid = 0
        self.failures = []  # (index, exception text, arguments text)
        self.seconds = 0.0
        self.stopped = False  # interrupted (Ctrl-C, SIGTERM) before N examples

    def rate(self):
        return self.examples / self.seconds if self.seconds > 0 else 0.0


def _recording(test):
    # -> a cell holding the arguments of the example being run. Wraps the inner
    # test (hypothesis' documented plugin hook, as fuzzing.py's progress log
    # does) once per test, before its fuzz target is built (the target binds
    # the inner test when first asked for)
    handle = test.hypothesis
    last = getattr(handle, "fuzz_run_last", None)
    if last is None:
        inner = handle.inner_test
        last = [None]

        def recorded(*args, **kwargs):
            last[0] = (args, kwargs)
            return inner(*args, **kwargs)

        handle.inner_test = recorded
        handle.fuzz_run_last = last
    return last


def _args_text(last, limit=2000):
    if last[0] is None:
        return "(no arguments drawn)"
    args, kwargs = last[0]
    parts = [repr(a) for a in args] + ["%s=%r" % kv for kv in sorted(kwargs.items())]
    text = ", ".join(parts)
    return text if len(text) <= limit else text[:limit] + "... (%d chars)" % len(text)


def run_test(test, examples, seed=0, name="test", out=None, first=0, max_failures=MAX_FAILURES):
    # drive the @given `test` with `examples` seeded buffers -> Result
    # (`first`: the index of the first buffer; --replay runs one index)
    out = out or sys.stdout
    res = Result(name)
    last = _recording(test)
    target = test.hypothesis.fuzz_one_input
    index = first
    t0 = time.monotonic()
    try:
        while res.examples < examples:
            if STOP[0]:
                raise KeyboardInterrupt
            last[0] = None
            try:
                used = target(buffer(seed, index))
            except Exception as e:
                res.examples += 1
                res.failures.append((index, _exc_text(e), _args_text(last)))
                _report_failure(out, name, seed, index, e, last)
                if len(res.failures) >= max_failures:
                    out.write("%s: %d failures, run stopped\n" % (name, len(res.failures)))
                    break
            else:
                if used is None:
                    res.invalid += 1
                    if res.invalid > max(examples, 100):  # D56
                        raise RuntimeError(
                            "%s: %d invalid buffers for %d examples: the strategies "
                            "cannot be driven by random buffers"
                            % (name, res.invalid, res.examples)
                        )
                else:
                    res.examples += 1
                    if res.examples % PROGRESS_EVERY == 0:
                        out.write(
                            "%s: %d examples, %.0f s\n"
                            % (name, res.examples, time.monotonic() - t0)
                        )
                        out.flush()
            index += 1
    except KeyboardInterrupt:
        res.stopped = True
        out.write("%s: stopped after %d examples\n" % (name, res.examples))
    finally:
        res.seconds = time.monotonic() - t0
    return res


def _exc_text(e):
    return "%s: %s" % (type(e).__name__, str(e)[:500])


def _report_failure(out, name, seed, index, e, last):
    out.write(
        "FAILURE %s seed=%d index=%d (python -m tools.fuzz_run --only %s --seed %d "
        "--replay %d)\n  %s\n  arguments: %s\n"
        % (name, seed, index, name, seed, index, _exc_text(e), _args_text(last))
    )
    out.flush()


def load(name):
    # -> (the @given test of parser `name`, cleanup callable)
    import importlib

    modname, testname, _what, setup = PARSERS[name]
    shared = modname in sys.modules  # already imported (by pytest): not ours to tear down
    mod = importlib.import_module(modname)
    test = getattr(mod, testname)
    cleanups = []
    if setup is not None:
        cleanups.append(setup(mod))
    if hasattr(mod, "teardown_module") and not shared:
        # only a module this run imported: in the test suite pytest imported
        # test_store_fuzz_cpython first, and its teardown here removed the folder the
        # store fuzz tests used afterwards (FileNotFoundError in the whole-suite run)
        cleanups.append(mod.teardown_module)

    def cleanup():
        for c in cleanups:
            c()

    return test, cleanup


HEADER = "| parser (test) | examples | invalid | seconds | examples/s | failures |"


def row(name, res):
    _mod, testname, what, _setup = PARSERS[name]
    return "| %s (`%s`) | %s%s | %s | %s | %s | %d |" % (
        what,
        testname,
        f"{res.examples:,}",
        " (stopped)" if res.stopped else "",
        f"{res.invalid:,}",
        f"{round(res.seconds):,}",
        f"{round(res.rate()):,}",
        len(res.failures),
    )


def replay(name, seed, index, out):
    # one example again, with its full traceback -> 0 passed, 1 failed, 2 invalid
    test, cleanup = load(name)
    last = _recording(test)
    try:
        try:
            used = test.hypothesis.fuzz_one_input(buffer(seed, index))
        except Exception:
            traceback.print_exc(file=out)
            out.write("arguments: %s\n" % _args_text(last, 100000))
            return 1
    finally:
        cleanup()
    out.write(
        "%s seed=%d index=%d: %s\n" % (name, seed, index, "invalid" if used is None else "passed")
    )
    return 2 if used is None else 0


STOP = [False]  # set by SIGTERM: the run ends after the example in progress


def _interrupt(_signum, _frame):
    # a flag, not an exception: raised here it could land in a gc callback of
    # hypothesis' and be swallowed ("Exception ignored in ...")
    STOP[0] = True


def _quiet_logs():
    # the parsers log every refused input (a million lines): formatted, then
    # discarded (a broken format string still shows as "--- Logging error ---")
    import logging

    sink = open(os.devnull, "w")  # noqa: SIM115 (open for the process's whole life)
    logging.getLogger().addHandler(logging.StreamHandler(sink))


def main(argv=None, out=None):
    out = out or sys.stdout
    ap = argparse.ArgumentParser(prog="python -m tools.fuzz_run", description=__doc__)
    ap.add_argument("--examples", type=int, default=1000000, help="examples per parser")
    ap.add_argument("--seed", type=int, default=None, help="default: a random seed (printed)")
    ap.add_argument("--only", action="append", choices=sorted(PARSERS), help="repeatable")
    ap.add_argument("--replay", type=int, default=None, metavar="INDEX")
    ap.add_argument("--max-failures", type=int, default=MAX_FAILURES)
    ap.add_argument("--log", action="store_true", help="show the parsers' log lines")
    a = ap.parse_args(argv)
    if argv is None:  # the command line: SIGTERM ends a run like Ctrl-C, with its summary
        signal.signal(signal.SIGTERM, _interrupt)
    if not a.log:
        _quiet_logs()
    seed = a.seed if a.seed is not None else random.SystemRandom().getrandbits(31)
    names = a.only or list(PARSERS)
    if a.replay is not None:
        if len(names) != 1 or a.seed is None:
            ap.error("--replay needs one --only and the --seed")
        return replay(names[0], seed, a.replay, out)
    out.write(
        "fuzz_run: seed %d, %d examples per parser, %s\n" % (seed, a.examples, " ".join(names))
    )
    rows = []
    failed = False
    for name in names:
        test, cleanup = load(name)
        try:
            res = run_test(test, a.examples, seed, name, out, max_failures=a.max_failures)
        finally:
            cleanup()
        failed = failed or bool(res.failures) or res.stopped
        rows.append(row(name, res))
        out.write(
            "%s: %d examples%s, %d invalid, %.1f s, %.0f examples/s, %d failures (seed %d)\n"
            % (
                name,
                res.examples,
                " (stopped)" if res.stopped else "",
                res.invalid,
                res.seconds,
                res.rate(),
                len(res.failures),
                seed,
            )
        )
        out.flush()
        if res.stopped:
            break
    out.write(HEADER + "\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
