# Hypothesis fuzz of the owner security (issue 8 §3; CPython only): strangers send
# random command sequences, REGISTER/PASS/AP guesses among them, to a module in each
# boot state (fresh, registered, without a random source, after a settings loss).
# Invariants after every step:
# - nothing changes: parameters, features, no save, no hook (reset, reinit, net);
# - a stranger only ever gets [] or "Permission denied" back;
# - they learn nothing: a twin module with another password, owner and settings
#   gives byte-identical replies to the same sequence;
# - the global guess limit holds: wrong passwords <= 10 + elapsed s / 360.
# Steps: FUZZ_EXAMPLES counts steps (messages), STEPS per example; default 3000
# steps derandomised (make test), FUZZ_EXAMPLES=50000 for the long run (random
# unless CI is set).
import os

from hypothesis import given, settings
from hypothesis import strategies as hs

from ovms.config import N_PARAMS, Config
from ovms.owner import owner_copy, secure_boot
from ovms.sms import NetStatus, SmsInterpreter
from ovms.sms_auth import normal_number
from ovms.sms_guard import GLOBAL_GUESSES, GLOBAL_REFILL_S
from ovms.sms_table import PERMISSION_DENIED, TABLE
from ovms.twizy.vehicle import COMMANDS, Twizy

STEPS = 25  # messages per example
TOTAL = int(os.environ.get("FUZZ_EXAMPLES", "3000"))
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ or bool(os.environ.get("CI"))
OWNERS = ("+4915100000000", "+4915222222222")  # one per twin
STEPS_RUN = [0]


class _Store:
    def __init__(self, seq):
        self.seq = seq
        self.saves = 0

    def save(self, config):
        self.saves += 1


def _Copy(number):  # noqa: N802
    # an owner copy already read (ovms.owner.owner_copy); never written here: the
    # settings' saves go to _Store, which keeps no copy
    copy = owner_copy("no-such-dir/copy")
    copy.number = number
    copy.loaded = True
    return copy


def _module(state, twin, seed):
    # one module in a boot state; twin 0 and 1 differ in every secret and setting
    owner = OWNERS[twin]
    rnd = _random(seed * 2 + twin)
    if state == "fresh":
        cfg, store, copy = Config(), _Store(0), _Copy(None)
    elif state == "registered":
        extra = {5: ("apn-a", "apn-b")[twin], 9: ("np1", "np2")[twin], 28: ("80", "95")[twin]}
        extra[0] = owner
        cfg, store, copy = Config(extra), _Store(5), _Copy(owner)
    elif state == "no-random":
        cfg, store, copy, rnd = Config(), _Store(0), _Copy(None), None
    else:  # settings lost, owner kept
        cfg, store, copy = Config(), _Store(0), _Copy(owner)
    notices = secure_boot(cfg, store, copy, None, b"uid%d" % twin, rnd)
    assert state != "lost" or (notices and cfg.params[0] == owner)
    cfg.store = store
    store.saves = 0
    calls = []
    net = NetStatus()
    net.server_ok = True
    pushed = []
    fw = SmsInterpreter(
        cfg,
        Twizy(cfg),
        net=net,
        on_reset=lambda: calls.append("reset"),
        on_vehicle_reinit=lambda: calls.append("reinit"),
        on_net_change=lambda: calls.append("net"),
        on_push=pushed.append,
    )
    return fw, cfg, store, calls, pushed


def _random(seed):
    state = [seed + 1]

    def randbytes(n):
        out = bytearray(n)
        for i in range(n):
            state[0] = (state[0] * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            out[i] = state[0] >> 56
        return bytes(out)

    return randbytes


_words = [e[0].strip() for e in TABLE] + list(COMMANDS) + ["REGISTERED", "PASS", "ap"]
_guesses = hs.one_of(
    hs.sampled_from(["OVMS", "ovms", "", "-", "NOPHONE", "123456", "password", "2345678"]),
    hs.text(alphabet="23456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=9),
    hs.text(max_size=12),
)
_rotating = hs.integers(min_value=0, max_value=10**9).map(lambda n: "+4917%09d" % n)
_senders = hs.one_of(
    _rotating,
    hs.sampled_from(
        [
            OWNERS[0] + "9999",
            OWNERS[1] + "0",
            OWNERS[0][:-1],
            "0049151000000001",
            "Vodafone",
            "NOPHONE",
            "",
            "+",
            "+4917099999999",
        ]
    ),
    hs.text(max_size=20),
)
_commands = hs.one_of(
    hs.builds(
        lambda w, g: w + " " + g, hs.sampled_from(["REGISTER", "PASS?", "AP", "STAT"]), _guesses
    ),
    hs.builds(lambda g, n, p: "AP %s %s %s K SMS" % (g, n, p), _guesses, _rotating, _guesses),
    hs.builds(
        lambda w, args: " ".join([w] + args),
        hs.sampled_from(_words),
        hs.lists(hs.one_of(_guesses, hs.sampled_from(["80", "5%", "14", "4", "-1"])), max_size=4),
    ),
    hs.text(max_size=80),
)
# a burst of guesses (dt 0) as often as spread-out messages
_guess = hs.builds(
    lambda w, g: w + " " + g, hs.sampled_from(["REGISTER", "STAT", "PASS?"]), _guesses
)
_steps = hs.lists(
    hs.one_of(
        hs.tuples(_rotating, _guess, hs.just(0)),
        hs.tuples(_senders, _commands, hs.integers(min_value=0, max_value=900)),
    ),
    min_size=STEPS,
    max_size=STEPS,
)


@settings(
    max_examples=max(TOTAL // STEPS, 1),
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None,
    print_blob=True,
)
@given(
    state=hs.sampled_from(["fresh", "registered", "no-random", "lost"]),
    seed=hs.integers(min_value=0, max_value=2**30),
    steps=_steps,
)
def test_strangers_never_change_or_learn_anything(state, seed, steps):
    twins = [_module(state, t, seed) for t in (0, 1)]
    secrets = [tw[1].params[1] for tw in twins]
    owners = [normal_number(tw[1].params[0]) for tw in twins]
    before = [(list(tw[1].params), list(tw[1].features)) for tw in twins]
    t = 0
    for sender, text, dt in steps:
        if normal_number(sender) in owners and normal_number(sender) is not None:
            continue  # that would be an owner, not a stranger
        for s in secrets:
            if s:
                text = text.replace(s, "")  # a stranger does not know it
        t += dt
        replies = []
        for fw, _cfg, _store, _calls, pushed in twins:
            del pushed[:]
            out = fw.handle(sender, text, now_s=t)
            assert out in ([], [PERMISSION_DENIED]), (state, sender, text, out)
            replies.append((out, list(pushed)))
        assert replies[0] == replies[1], (state, sender, text)
        STEPS_RUN[0] += 1
    for i in (0, 1):
        fw, cfg, store, calls, _pushed = twins[i]
        assert (list(cfg.params), list(cfg.features)) == before[i]
        assert len(cfg.params) == N_PARAMS
        assert store.saves == 0 and calls == []
        assert fw.guard.wrong <= GLOBAL_GUESSES + t // GLOBAL_REFILL_S
