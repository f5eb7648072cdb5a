# Hypothesis fuzz of the settings store loader (ovms.store), CPython only.
# Whatever the two slot files hold (random bytes, CRC-valid random bodies,
# torn or bit-flipped copies), Store(path).load() returns a Config of 32 text
# slots and never raises; what save() wrote loads back exactly; a damaged
# newest copy falls back to the previous one.
# FUZZ_EXAMPLES sets the number of examples (see fuzzing.py).
# Licence: MIT (this project).
import binascii
import os
import shutil
import tempfile

from fuzzing import fuzz
from hypothesis import given
from hypothesis import strategies as st

from ovms.config import N_PARAMS, Config
from ovms.store import FORMAT, Store, parse

_DIR = tempfile.mkdtemp(prefix="ovms-store-fuzz-")
PATH = os.path.join(_DIR, "ovms.cfg")


def teardown_module():
    shutil.rmtree(_DIR, ignore_errors=True)


def _put(suffix, data):
    name = PATH + suffix
    if data is None:
        try:
            os.remove(name)
        except OSError:
            pass
        return
    with open(name, "wb") as f:
        f.write(data)


def _load():
    cfg = Store(PATH).load()
    assert len(cfg.params) == N_PARAMS
    assert all(isinstance(p, str) for p in cfg.params)
    assert all(isinstance(v, int) and v >= 0 for v in cfg.features)
    return cfg


def _with_crc(body):
    return body + b"crc %08x\n" % (binascii.crc32(body) & 0xFFFFFFFF)


# slot lines that look like the format: "<k> <value>" with odd keys and escapes
_key = st.one_of(st.integers(-3, 40).map(str), st.sampled_from(["", "x", "01", " 1", "1_0"]))
_val = st.one_of(st.text(max_size=40), st.sampled_from(["\\", "\\n", "\\\\r", "\\x"]))
body_lines = st.lists(
    st.one_of(
        st.builds(lambda k, v: (k + " " + v).encode("utf-8", "surrogatepass"), _key, _val),
        st.binary(max_size=40).filter(lambda b: b"\n" not in b),
    ),
    max_size=40,
)
seqs = st.one_of(st.integers(-5, 10**12).map(lambda n: b"%d" % n), st.binary(max_size=12))
slot_data = st.one_of(
    st.none(),
    st.binary(max_size=300),
    st.builds(
        lambda seq, lines: _with_crc(FORMAT + b"\nseq " + seq + b"\n" + b"\n".join(lines) + b"\n"),
        seqs,
        body_lines,
    ),
)


def _files():
    out = []
    for suffix in (".a", ".b"):
        try:
            with open(PATH + suffix, "rb") as f:
                out.append(f.read())
        except OSError:
            out.append(None)
    return out


@fuzz()
@given(slot_data, slot_data)
def test_fuzz_load_any_files(a, b):
    _put(".a", a)
    _put(".b", b)
    st_ = Store(PATH)
    cfg = st_.load()
    assert len(cfg.params) == N_PARAMS
    assert all(isinstance(p, str) for p in cfg.params)
    assert all(isinstance(v, int) and v >= 0 for v in cfg.features)
    assert _files() == [a, b]  # loading never writes
    # the newest copy that parses wins (slot a on a tie), else the defaults
    good = [(p[0], -i, p[1]) for i, p in enumerate([parse(x) if x else None for x in (a, b)]) if p]
    if good:
        seq, slot, params = max(good, key=lambda g: (g[0], g[1]))
        assert (st_.seq, st_.slot) == (seq, -slot)
    else:
        params = None
        assert (st_.seq, st_.slot) == (0, 1)
    assert cfg.params == Config(params).params


# values as the SMS/console can set them (no lone surrogates: MicroPython)
values = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=31)
param_sets = st.dictionaries(st.integers(0, N_PARAMS - 1), values, max_size=12)


@fuzz()
@given(param_sets, param_sets, st.integers(0, 10**6), st.booleans())
def test_fuzz_save_load_and_damage(first, second, cut, flip):
    _put(".a", None)
    _put(".b", None)
    st_ = Store(PATH)
    cfg = st_.load()
    for k in first:
        cfg.set_param(k, first[k], save=False)
    cfg.save()
    want1 = list(cfg.params)
    assert _load().params == want1  # what save() wrote loads back exactly
    for k in second:
        cfg.set_param(k, second[k], save=False)
    cfg.save()
    want2 = list(cfg.params)
    assert _load().params == want2
    # damage the newest copy: torn at `cut` bytes, or one byte flipped
    name = st_.last_written
    with open(name, "rb") as f:
        data = f.read()
    if flip:
        i = cut % len(data)
        data = data[:i] + bytes([data[i] ^ (1 + cut % 255)]) + data[i + 1 :]
    else:
        data = data[: cut % len(data)]
    with open(name, "wb") as f:
        f.write(data)
    assert _load().params == want1  # the previous good copy
