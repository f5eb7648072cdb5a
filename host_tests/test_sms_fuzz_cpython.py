# Hypothesis fuzz of the SMS interpreter (CPython only): random senders and texts
# (up to 500 characters, any Unicode) never raise, never change a setting without
# authorisation, and every reply fits the SMS shaping.
# FUZZ_EXAMPLES sets the number of examples (see fuzzing.py).
import os

from fuzzing import EXAMPLES, fuzz
from hypothesis import given
from hypothesis import strategies as hs
from support import rmtree, tmpdir

from ovms import smsout
from ovms.config import Config
from ovms.sms import NetStatus, SmsInterpreter
from ovms.sms_auth import is_owner
from ovms.sms_table import PERMISSION_DENIED, TABLE
from ovms.store import Store
from ovms.twizy.vehicle import COMMANDS, Twizy

OWNER = "+4915100000000"

_words = [e[0].strip() for e in TABLE] + list(COMMANDS)
_words += [w.lower() for w in _words] + ["STATUS", "REGISTERED", "BATTERY", "PASS", "FEATURES"]
_args = ["OVMS", "OVMSX", "-", "?", "80", "5%", "14", "4", "15", "0", "R", "VD", "T", "+49", "RT"]

senders = hs.one_of(
    hs.sampled_from([OWNER, OWNER + "7", "+4917099999999", "", "NOPHONE", "OVMS"]),
    hs.text(max_size=40),
)
separators = hs.sampled_from([" ", "  ", "\r\n", "\n", "\t", " \u00a0 "])
commandish = hs.builds(
    lambda w, parts, seps: (
        w + "".join([seps[i % len(seps)] + parts[i] for i in range(len(parts))])
    ),
    hs.sampled_from(_words),
    hs.lists(hs.one_of(hs.sampled_from(_args), hs.text(max_size=40)), max_size=8),
    hs.lists(separators, min_size=1, max_size=3),
)
texts = hs.one_of(hs.text(max_size=500), commandish.map(lambda t: t[:500]))
configs = hs.fixed_dictionaries(
    {
        0: hs.sampled_from([OWNER, "", "NOPHONE"]),
        1: hs.sampled_from(["OVMS", "", "s3cret"]),
        30: hs.sampled_from(["", "2", "4", "6"]),
    }
)


class _Dir:
    path = None


def _fresh(params, server_ok):
    d = _Dir.path
    for suffix in (".a", ".b"):
        try:
            os.remove(d + "/ovms.cfg" + suffix)
        except OSError:
            pass
    st = Store(d + "/ovms.cfg")
    cfg = st.load()
    for k in params:
        cfg.set_param(k, params[k], save=False)
    calls = []
    net = NetStatus()
    net.server_ok = server_ok
    fw = SmsInterpreter(
        cfg,
        Twizy(cfg),
        net=net,
        on_reset=lambda: calls.append("reset"),
        on_vehicle_reinit=lambda: calls.append("reinit"),
        on_net_change=lambda: calls.append("net"),
    )
    return fw, cfg, st, calls


@fuzz()
@given(
    sender=senders,
    text=texts,
    params=configs,
    now_s=hs.integers(min_value=0, max_value=10**6),
    server_ok=hs.booleans(),
)
def _check(sender, text, params, now_s, server_ok):
    fw, cfg, st, calls = _fresh(params, server_ok)
    before = (list(cfg.params), list(cfg.features))
    out = fw.handle(sender, text, now_s=now_s)
    assert isinstance(out, list)
    for t in out:
        assert isinstance(t, str)
    for part in smsout.shape(out):
        assert 0 < smsout.septets(part) <= 160
    p1 = before[0][1]
    can_auth = is_owner(fw.cfg.params[0], sender) or (p1 != "" and p1 in text)
    if not can_auth:
        assert (list(cfg.params), list(cfg.features)) == before
        assert calls == []
        assert out in ([], [PERMISSION_DENIED])
        assert st.last_written is None  # nothing saved
    if st.last_written is not None:
        # whatever was acknowledged is what boots next time
        assert Store(st.path).load().params == cfg.params


def test_fuzz_interpreter():
    _Dir.path = tmpdir("fuzz")
    try:
        _check()
    finally:
        rmtree(_Dir.path)


@fuzz(max(EXAMPLES // 10, 300))
@given(msgs=hs.lists(hs.tuples(hs.sampled_from(["+4917099999999", "+4900"]), texts), max_size=12))
def test_fuzz_stranger_sequences_change_nothing(msgs):
    # a conversation of strangers without the password changes nothing
    cfg = Config({0: OWNER, 1: "s3cret"})
    fw = SmsInterpreter(cfg, Twizy(cfg))
    before = (list(cfg.params), list(cfg.features))
    t = 0
    for sender, text in msgs:
        text = text.replace("s3cret", "")
        t += 7
        assert fw.handle(sender, text, now_s=t) in ([], [PERMISSION_DENIED])
    assert (list(cfg.params), list(cfg.features)) == before
