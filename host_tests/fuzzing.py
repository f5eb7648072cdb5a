# Shared hypothesis settings for the fuzz modules (test_*fuzz*_cpython.py).
# Licence: MIT (this project). CPython only (imported by *_cpython.py modules).
#
#   make test   a few thousand examples per parser (DEFAULT_EXAMPLES),
#               derandomised: the same examples every run, no example database
#   make fuzz   FUZZ_EXAMPLES=200000 per parser, random (new examples each run)
#               unless the CI environment variable is set
# Health checks stay on everywhere: a strategy that is too slow or filters too
# much is fixed, not silenced.
import os

from hypothesis import settings

DEFAULT_EXAMPLES = 3000
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ or bool(os.environ.get("CI"))


def fuzz(examples=None):
    # settings for one fuzz test: `examples` scales with FUZZ_EXAMPLES
    # (a share of it for tests that run many parser calls per example)
    n = EXAMPLES if examples is None else examples
    return settings(
        max_examples=max(n, 1),
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        print_blob=True,
    )
