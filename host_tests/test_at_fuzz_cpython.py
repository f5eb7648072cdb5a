# Hypothesis fuzz of the AT line decoder, classifier and reply parsers
# (ovms.at): arbitrary modem bytes never raise, and every parser returns what
# its contract says (types, ranges, "unparsable" values, round trips).
# CPython only. FUZZ_EXAMPLES sets the number of examples (see fuzzing.py).
# Licence: MIT (this project).
from fuzzing import fuzz
from hypothesis import example, given
from hypothesis import strategies as st

from ovms import at

PREFIXES = [
    b"",
    b"+CMTI: ",
    b"+CMT: ",
    b"+CMGR: ",
    b"+CMGL: ",
    b"+CUSD: ",
    b"+CREG: ",
    b"+CSQ: ",
    b"+CIPRXGET: 2,",
    b"+IPD,",
    b"+CME ERROR: ",
    b"+CMS ERROR: ",
    b"DATA ACCEPT:",
    b"0, ",
    b"> ",
    b"UNDER-VOLTAGE WARNNING",
    b"OK",
    b"RDY",
]
# bytes that matter to the parsers, and any byte
_ALPHA = b'0123456789,"+-:. \r\n\tAEFOKRabcf\x00\xff\x85\xa0\x0b\x1c'
# MicroPython's str.strip() removes these only; CPython's also U+0085, U+00A0,
# U+001C..U+001F: the parsers must strip like MicroPython (both runtimes agree)
MP_BLANKS = " \t\n\r\x0b\x0c"
lines = st.builds(
    lambda p, b: p + b,
    st.sampled_from(PREFIXES),
    st.one_of(
        st.binary(max_size=120),
        st.lists(st.sampled_from(list(_ALPHA)), max_size=60).map(bytes),
    ),
)
EXPECT = st.sampled_from([None, "+CSQ:", "+CREG:", "+CMGR:", "+CUSD:", "+CIPRXGET: 2"])

KINDS = (at.FINAL, at.URC, at.PROMPT, at.DATA, at.EMPTY)
FINAL_TAGS = at._FINALS_EXACT + ("+CME ERROR", "+CMS ERROR", "DATA ACCEPT")
URC_TAGS = (
    at.U_CMTI,
    at.U_CMT,
    at.U_RING,
    at.U_CUSD,
    at.U_CLOSED,
    at.U_PDP_DEACT,
    at.U_CIPRXGET,
    at.U_UNDERVOLT,
    at.U_OVERVOLT,
    at.U_POWER_DOWN,
    at.U_RDY,
    at.U_CFUN,
    at.U_CPIN,
    at.U_CALL_READY,
    at.U_SMS_READY,
    at.U_CREG,
    at.U_CGNSINF,
    at.U_UGNSINF,
    at.U_IPD,
)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _ref_int(text):
    # the wire's signed decimal (MicroPython blanks cut, ASCII digits, at most
    # 12), -1 otherwise: an independent model of what every number parser reads
    t = text.strip(MP_BLANKS)
    digits = t[1:] if t[:1] in ("-", "+") else t
    if not 0 < len(digits) <= 12 or any(c not in "0123456789" for c in digits):
        return -1
    return -int(digits) if t[:1] == "-" else int(digits)


def _ref_uint(text):
    n = _ref_int(text)
    return n if n >= 0 else -1


def _after_colon(s):
    i = s.find(":")
    return s[i + 1 :].strip(MP_BLANKS) if i >= 0 else ""


def _check_decode(raw, s):
    assert isinstance(s, str)
    assert s == s.strip(" \t")  # no blanks at the ends
    for ch in s:
        assert ch >= " " or ch == "\t", repr(s)  # no control characters
        assert ord(ch) < 256  # ISO 8859-1: one char per byte
    assert len(s) <= len(raw)
    # exactly: control bytes but TAB dropped, one char per byte, ASCII blanks cut
    assert s == bytes([b for b in raw if b >= 32 or b == 9]).decode("latin-1").strip(" \t")
    assert at.encode(s) == s.encode("latin-1")


def _check_classify(s, expect):
    kind, tag, arg = at.classify(s, expect)
    assert kind in KINDS
    if not s:
        assert (kind, tag, arg) == (at.EMPTY, None, None)
        return
    assert kind != at.EMPTY
    if expect and s.startswith(expect):
        assert (kind, tag, arg) == (at.DATA, None, s)
    if kind == at.DATA:
        assert tag is None and arg == s
    elif kind == at.PROMPT:
        assert s == ">" or s.startswith("> ")
    elif kind == at.FINAL:
        assert tag in FINAL_TAGS
        if tag in ("+CME ERROR", "+CMS ERROR"):
            assert s.startswith(tag + ":")
            n = _ref_int(_after_colon(s))
            assert arg == (n if n >= 0 else _after_colon(s)), (s, arg)
            assert at.is_error(tag)
        elif tag == "DATA ACCEPT":
            assert arg == _ref_int(_after_colon(s).split(",")[-1])
        elif arg is None:
            assert s == tag
        else:  # CIPMUX=1 form "n, TAG": arg is the link digit
            assert s == arg + ", " + tag and "0" <= arg <= "9"
    else:
        assert kind == at.URC and tag in URC_TAGS
        assert isinstance(arg, str)


def _check_parsers(s):
    csq = at.parse_csq(s)
    assert _is_int(csq) and (0 <= csq <= 31 or csq == 99)
    assert at.csq_to_sq(csq) == (0 if csq == 99 else csq)
    f = at.fields(_after_colon(s))
    creg = at.parse_creg(s)
    if not f or not f[0]:
        assert creg == -1
    else:
        assert creg == _ref_uint(f[0] if len(f) in (1, 3) else f[1]), (s, creg)
    f = at.fields(s)
    assert at.parse_cmti(s) == ((f[0], _ref_uint(f[1])) if len(f) >= 2 else (f[0], -1))
    r = at.parse_cmgr(s)
    assert r is None or (
        s.startswith("+CMGR:")
        and len(r) == 3
        and all(isinstance(x, str) for x in r)
        and at.normalise_number(r[1]) == r[1]
    )
    r = at.parse_cmgl(s)
    assert r is None or (
        s.startswith("+CMGL:")
        and r[0] == _ref_int(at.fields(_after_colon(s))[0]) >= 0
        and all(isinstance(x, str) for x in r[1:])
        and at.normalise_number(r[2]) == r[2]
    )
    r = at.parse_cmt(s)
    assert r is None or (len(r) == 2 and all(isinstance(x, str) for x in r))
    m, text, dcs = at.parse_cusd(s)
    assert m == _ref_int(s.split(",", 1)[0]) and isinstance(text, str) and _is_int(dcs)
    assert (text == "" and dcs == -1) or s.count('"') >= 2
    assert -(10**12) < dcs < 10**12
    got, left = at.parse_rxget2(s)
    f = at.fields(_after_colon(s))
    if s.startswith("+CIPRXGET:") and len(f) >= 3 and f[0] == "2":
        assert (got, left) == (_ref_int(f[1]), _ref_int(f[2])), s
    else:
        assert (got, left) == (-1, -1)
    ip = at.looks_like_ip(s)
    assert ip in (True, False)
    if ip:
        assert all(0 <= int(p) <= 255 for p in s.split("."))
    num = at.normalise_number(s)
    assert isinstance(num, str) and at.normalise_number(num) == num  # idempotent
    assert num == num.strip(MP_BLANKS)
    f = at.fields(s)
    assert isinstance(f, list) and f and all(isinstance(x, str) for x in f)
    if '"' not in s:
        assert f == [p.strip(MP_BLANKS) for p in s.split(",")]
    u = at.ucs2_hex(s)
    assert isinstance(u, str)
    assert u == s.strip(MP_BLANKS) or len(u) * 4 == len(s.strip(MP_BLANKS))


@fuzz()
@given(lines, EXPECT)
@example(b"+IPD,\xa05:", None)  # the runtimes disagreed on its length (parse_ipd, now gone)
@example(b"+CSQ: \x8521,0", None)
def test_fuzz_classify(raw, expect):
    s = at.decode(raw)
    _check_decode(raw, s)
    _check_classify(s, expect)
    _check_parsers(s)


@fuzz()
@given(st.text(alphabet=st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",))))
def test_fuzz_ucs2_round_trip(text):
    h = "".join(["%04X" % ord(c) for c in text])
    assert at.ucs2_hex(h) == text
    assert at.ucs2_hex(h.lower()) == text
    assert at.parse_cusd('0,"%s",72' % h) == (0, text, 72)


@fuzz()
@given(st.tuples(*[st.integers(0, 255)] * 4), st.integers(0, 31), st.integers(0, 5))
def test_fuzz_well_formed_replies(ip, rssi, stat):
    # the exact values back from well-formed replies
    assert at.looks_like_ip("%d.%d.%d.%d" % ip)
    assert at.parse_csq("+CSQ: %d,0" % rssi) == rssi
    assert at.parse_creg("+CREG: 1,%d" % stat) == stat
    assert at.parse_creg("+CREG: %d" % stat) == stat
    assert at.parse_creg('+CREG: %d,"1A2B","3C4D"' % stat) == stat
    assert at.parse_cmti('"SM",%d' % rssi) == ("SM", rssi)


# ---- contract violations this fuzz found (fixed: now plain invariants; also
# the MicroPython blanks in test_fuzz_classify's examples)
@fuzz()
@given(lines)
@example(b"OK\xa0")
@example(b"\x85RDY")
def test_fuzz_decode_strips_like_micropython(raw):
    # MicroPython's str.strip() removes ASCII whitespace only; CPython's also
    # U+0085 and U+00A0, so "OK\xa0" is a final result on CPython only
    s = at.decode(raw)
    if all(b >= 32 or b == 9 for b in raw):
        assert s == raw.decode("latin-1").strip(" \t"), (raw, s)


@fuzz()
@given(lines)
@example(b"+CREG: -2")
@example(b'+CMTI: "SM",-7')
def test_fuzz_numbers_never_negative(raw):
    # "stat, or -1 when unparsable" / "index -1 when unparsable": a signed
    # number from the wire once came back as it was (-2, -7)
    s = at.decode(raw)
    assert at.parse_creg(s) >= -1, s
    _kind, tag, arg = at.classify(s)
    if tag == at.U_CMTI:
        assert at.parse_cmti(arg)[1] >= -1, s


# the driver's byte splitter: test_sim800_fuzz_cpython.py
