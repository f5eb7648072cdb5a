# Shared hypothesis settings for the fuzz modules (test_*fuzz*_cpython.py).
# Licence: MIT (this project). CPython only (imported by *_cpython.py modules).
#
#   make test   a few thousand examples per parser (DEFAULT_EXAMPLES),
#               derandomised: the same examples every run, no example database
#   make fuzz   FUZZ_EXAMPLES=200000 per parser, random (new examples each run)
#               unless the CI environment variable is set
# Health checks stay on everywhere: a strategy that is too slow or filters too
# much is fixed, not silenced.
# FUZZ_PROGRESS=FILE appends "<examples> <seconds>" to FILE every 10,000
# examples of every test (long runs: the count is known even if stopped).
import os
import time

from hypothesis import settings

DEFAULT_EXAMPLES = 2000
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))
# D59: CI=true (GitHub Actions, GitLab, ...) derandomises; CI=false, 0 or no does not
_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ or _CI


PROGRESS = os.environ.get("FUZZ_PROGRESS")


def _counted(test):
    # wrap the inner test (hypothesis' documented plugin hook) to log progress
    inner = test.hypothesis.inner_test
    state = [0, time.monotonic()]

    def counted(*args, **kwargs):
        state[0] += 1
        if state[0] % 10000 == 0:
            with open(PROGRESS, "a") as f:
                f.write("%s %d %.1f\n" % (test.__name__, state[0], time.monotonic() - state[1]))
        return inner(*args, **kwargs)

    test.hypothesis.inner_test = counted
    return test


def fuzz(examples=None):
    # decorator for one fuzz test (put it above @given): `examples` scales with
    # FUZZ_EXAMPLES (a share of it for tests that do much more per example)
    n = EXAMPLES if examples is None else examples
    cfg = settings(
        max_examples=max(n, 1),
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        print_blob=True,
    )

    def apply(test):
        test = cfg(test)
        return _counted(test) if PROGRESS else test

    return apply
