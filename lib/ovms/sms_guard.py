# The password checks and the guess limits (D37) of one SMS. Licence: MIT (this project).
#
# Spec: ovms-v2-sms.md §4. Pure core: time comes in as now_s (seconds, any monotonic
# origin). D123: not resident: ovms.sms_run imports it while it handles one SMS, and
# ovms.sms.SmsInterpreter.handle() unloads both after the SMS (ovms/lazy.py). The
# counters these functions keep are not here (they would go with the module): they are
# attributes of the object `g` every function takes, which is the interpreter itself
# (fw.guard is fw, D124): .fails, .guesses, .refill_s, .wrong, .dropped. The owner's
# number checks (normal_number, is_owner) stay resident in ovms.sms_auth.
#
# D37: wrong passwords are limited twice:
# - per sender (by normalised number): _FAIL_LIMIT failed authorisations within
#   _FAIL_WINDOW_S ignore the sender for _BLOCK_S (no reply, no processing, no
#   forwarding); at most _MAX_TRACKED senders are remembered, the oldest evicted;
# - across all senders: a bucket of GLOBAL_GUESSES wrong passwords that refills
#   one guess every GLOBAL_REFILL_S. While it is empty no password is checked
#   for anyone but the owner: every SMS that would need one is dropped silently
#   (counted in .dropped), also one with the right password. Rotating senders
#   so get at most 10 + 24 * 10 = 250 guesses a day (today ~600 per 10 min).
# The owner's phone is never counted, blocked or stopped by the global limit.
# Limits live in RAM: a reboot refills them (a stranger cannot cause one).

from ovms.sms_auth import normal_number

_FAIL_LIMIT = const(3)  # failed authorisations from one sender ...
_FAIL_WINDOW_S = const(600)  # ... within this many seconds ...
_BLOCK_S = const(600)  # ... ignore that sender for this long
_MAX_TRACKED = const(8)  # senders with failures remembered (bounded RAM)
# wrong passwords (all senders together) before the stop; ovms.sms starts the bucket
# full with its own copy (_GLOBAL_GUESSES there, test_sms_lazy checks they agree) ...
GLOBAL_GUESSES = 10
GLOBAL_REFILL_S = 360  # ... and one more allowed every 6 min (10 an hour)
_PASSWORD_MIN_LEN = const(6)  # new passwords (PASS, AP) need at least this many characters
_KEY_LEN = const(32)


def password_ok(p1, arg):
    # spec §4: the argument starts with the module password; "" matches nothing
    return p1 != "" and arg.startswith(p1)


def password_error(text):
    # -> None if `text` may become the module password, else the error reply
    if len(text) < _PASSWORD_MIN_LEN:
        return "Error: the password needs at least %d characters" % _PASSWORD_MIN_LEN
    for ch in text:
        if ch <= " " or ch > "~":
            return "Error: the password may only use printable ASCII characters"
    return None


def sender_key(sender):
    # the rate-limit key: the normalised number, else the raw text (bounded)
    n = normal_number(sender)
    return n if n is not None else sender[:_KEY_LEN]


def blocked(g, key, now_s):
    # True while the sender `key` is ignored (counted in g.dropped)
    f = g.fails.get(key)
    if f is None or f[2] is None:
        return False
    if now_s - f[2] < 0:
        g.dropped += 1
        return True
    del g.fails[key]  # block over: start afresh
    return False


def may_guess(g, now_s):
    # False while the global bucket is empty (the SMS is then dropped)
    _refill(g, now_s)
    if g.guesses > 0:
        return True
    g.dropped += 1
    return False


def _refill(g, now_s):
    last = g.refill_s
    if last is None or now_s < last or g.guesses >= GLOBAL_GUESSES:
        g.refill_s = now_s
        return
    n = (now_s - last) // GLOBAL_REFILL_S
    if n > 0:
        g.guesses = min(GLOBAL_GUESSES, g.guesses + n)
        g.refill_s = last + n * GLOBAL_REFILL_S


def failed(g, key, now_s, guessed, log=None):
    # one failed authorisation of a non-owner; guessed: a password was compared
    if guessed:
        g.wrong += 1
        _refill(g, now_s)
        if g.guesses > 0:
            g.guesses -= 1
            if g.guesses == 0 and log is not None:
                log.warning("%d wrong passwords: password checks stopped", g.wrong)
    fails = g.fails
    f = fails.get(key)
    if f is not None and now_s - f[0] >= _FAIL_WINDOW_S:
        f = None
    if f is None:
        if key not in fails and len(fails) >= _MAX_TRACKED:
            _evict(fails, now_s)
        f = [now_s, 0, None]
        fails[key] = f
    f[1] += 1
    if f[1] >= _FAIL_LIMIT:
        f[2] = now_s + _BLOCK_S
        if log is not None:
            log.warning("%d failed authorisations from %s: ignored %d s", f[1], key, _BLOCK_S)


def _evict(fails, now_s):
    oldest = None
    for k in list(fails):
        f = fails[k]
        if f[2] is None and now_s - f[0] >= _FAIL_WINDOW_S:
            del fails[k]
        elif oldest is None or f[0] < fails[oldest][0]:
            oldest = k
    if len(fails) >= _MAX_TRACKED and oldest is not None:
        del fails[oldest]
