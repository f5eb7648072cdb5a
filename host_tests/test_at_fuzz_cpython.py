# Hypothesis fuzz of the AT line classifier / parsers and the driver's byte
# splitter: arbitrary bytes never raise. CPython only (the runner skips
# *_cpython.py). FUZZ_EXAMPLES (default 5000) sets the example count.
# Licence: MIT (this project).
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovms import at

N = int(os.environ.get("FUZZ_EXAMPLES", "5000"))
CFG = settings(max_examples=N, deadline=None, suppress_health_check=list(HealthCheck))

PREFIXES = [
    b"",
    b"+CMTI: ",
    b"+CMGR: ",
    b"+CMGL: ",
    b"+CUSD: ",
    b"+CREG: ",
    b"+CSQ: ",
    b"+CIPRXGET: 2,",
    b"+IPD,",
    b"+CME ERROR: ",
    b"DATA ACCEPT:",
    b"0, ",
]
lines = st.builds(lambda p, b: p + b, st.sampled_from(PREFIXES), st.binary(max_size=120))


@CFG
@given(lines, st.sampled_from([None, "+CSQ:", "+CREG:", "+CMGR:"]))
def test_fuzz_classify(raw, expect):
    s = at.decode(raw)
    assert isinstance(s, str)
    kind, tag, arg = at.classify(s, expect)
    assert kind in (at.FINAL, at.URC, at.PROMPT, at.DATA, at.EMPTY)
    at.parse_csq(s)
    at.parse_creg(s)
    at.parse_cmgr(s)
    at.parse_cmgl(s)
    at.parse_cmt(s)
    at.parse_cmti(s)
    at.parse_cusd(s)
    at.parse_rxget2(s)
    at.parse_ipd(s)
    at.looks_like_ip(s)
    at.normalise_number(s)
    at.fields(s)
    at.ucs2_hex(s)


@CFG
@given(st.lists(st.binary(max_size=64), max_size=12))
def test_fuzz_driver_splitter(chunks):
    # the driver's reader state machine on arbitrary chunks (no event loop:
    # _split/_line are synchronous)
    from firmware.hal.sim800 import Sim800

    class W:
        def write(self, b):
            pass

    m = Sim800(None, W())
    m._active = True
    m._want_prompt = True
    buf = b""
    for c in chunks:
        buf = m._split(buf + c)
    assert m.counters["bugs"] == 0
