# Who may command the module by SMS: owner number, module password, guess limits.
# Licence: MIT (this project).
#
# Spec: ovms-v2-sms.md §4. Pure core: time comes in as now_s (seconds, any
# monotonic origin). Used by ovms.sms.SmsInterpreter; ovms.owner uses the number and
# password helpers at boot.
#
# D36: the owner match is exact after number normalisation (the 2013 prefix match
# let "+<owner>9999" in). normal_number() drops the separators people and
# networks write (space - . / ( )), turns the international prefix "00" into "+"
# and refuses everything that is not a phone number (letters, a "+" inside, fewer
# than 3 or more than 20 digits): an alphanumeric sender ("Vodafone", "NOPHONE")
# is nobody and cannot REGISTER. No guessing between national and international
# forms: REGISTER stores the sender's number exactly as the network delivered it.
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
#
# D35: fresh_password() makes a module's unique password: 8 symbols from a
# 32-symbol alphabet without look-alikes (0/O, 1/I), i.e. 40 bits, taken from
# HMAC-MD5(key = 16 random bytes, message = a label + the board's unique id). The
# random bytes are the secret; the unique id keeps two boards apart even if their
# random source started alike. Without a random source the result is "" (no password): then
# REGISTER stays closed until a password is set on the DIAG console.

from ovms.compat import const

_FAIL_LIMIT = const(3)  # failed authorisations from one sender ...
_FAIL_WINDOW_S = const(600)  # ... within this many seconds ...
_BLOCK_S = const(600)  # ... ignore that sender for this long
_MAX_TRACKED = const(8)  # senders with failures remembered (bounded RAM)
GLOBAL_GUESSES = 10  # wrong passwords (all senders together) before the stop ...
GLOBAL_REFILL_S = 360  # ... and one more allowed every 6 min (10 an hour)
_MIN_DIGITS = const(3)
_MAX_DIGITS = const(20)
_PASSWORD_MIN_LEN = const(6)  # new passwords (PASS, AP) need at least this many characters
_KEY_LEN = const(32)
_SEPARATORS = const(" -./()")
_ALPHABET = const("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")  # 32 symbols: 5 bits each
_PASSWORD_LEN = const(8)


def normal_number(text):
    # "+49 151 0000-0000" / "004915100000000" -> "+4915100000000"; None: not a number
    out = []
    plus = False
    for ch in text:
        if "0" <= ch <= "9":
            out.append(ch)
        elif ch == "+" and not out and not plus:
            plus = True
        elif ch not in _SEPARATORS:
            return None
    n = len(out)
    if not plus and n > 2 and out[0] == "0" and out[1] == "0":
        plus = True
        out = out[2:]
        n -= 2
    if n < _MIN_DIGITS or n > _MAX_DIGITS:
        return None
    return ("+" if plus else "") + "".join(out)


def is_owner(p0, sender):
    # exact match after normalisation; "", "NOPHONE" or any non-number owns nothing
    owner = normal_number(p0)
    return owner is not None and normal_number(sender) == owner


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


def fresh_password(unique_id, randbytes):
    # -> a unique module password, or "" without a random source (D35)
    if randbytes is None:
        return ""
    try:
        rnd = randbytes(16)
    except (OSError, NotImplementedError):
        return ""
    if not rnd or len(rnd) < 16:
        return ""
    from ovms import lazy

    login = lazy.load("ovms.v2.login")  # HMAC-MD5 lives there, loaded per use (D105)
    try:
        digest = login.hmac_md5(bytes(rnd), b"module password:" + bytes(unique_id or b""))
    finally:
        lazy.unload("ovms.v2.login")
    bits = 0
    nbits = 0
    out = []
    for b in digest:
        bits = (bits << 8) | b
        nbits += 8
        while nbits >= 5 and len(out) < _PASSWORD_LEN:
            nbits -= 5
            out.append(_ALPHABET[(bits >> nbits) & 31])
        bits &= (1 << nbits) - 1
    return "".join(out)


def sender_key(sender):
    # the rate-limit key: the normalised number, else the raw text (bounded)
    n = normal_number(sender)
    return n if n is not None else sender[:_KEY_LEN]


class Guard:
    # per-sender blocks and the global wrong-password bucket (D37)
    def __init__(self):
        self.fails = {}  # sender key -> [first failure s, failures, blocked until s | None]
        self.guesses = GLOBAL_GUESSES  # wrong passwords still allowed now
        self._refill_s = None  # time the bucket was last topped up
        self.wrong = 0  # wrong passwords seen (all senders)
        self.dropped = 0  # SMS dropped: sender blocked or bucket empty

    def blocked(self, key, now_s):
        f = self.fails.get(key)
        if f is None or f[2] is None:
            return False
        if now_s - f[2] < 0:
            self.dropped += 1
            return True
        del self.fails[key]  # block over: start afresh
        return False

    def may_guess(self, now_s):
        # False while the global bucket is empty (the SMS is then dropped)
        self._refill(now_s)
        if self.guesses > 0:
            return True
        self.dropped += 1
        return False

    def _refill(self, now_s):
        last = self._refill_s
        if last is None or now_s < last or self.guesses >= GLOBAL_GUESSES:
            self._refill_s = now_s
            return
        n = (now_s - last) // GLOBAL_REFILL_S
        if n > 0:
            self.guesses = min(GLOBAL_GUESSES, self.guesses + n)
            self._refill_s = last + n * GLOBAL_REFILL_S

    def failed(self, key, now_s, guessed, log=None):
        # one failed authorisation of a non-owner; guessed: a password was compared
        if guessed:
            self.wrong += 1
            self._refill(now_s)
            if self.guesses > 0:
                self.guesses -= 1
                if self.guesses == 0 and log is not None:
                    log.warning("%d wrong passwords: password checks stopped", self.wrong)
        fails = self.fails
        f = fails.get(key)
        if f is not None and now_s - f[0] >= _FAIL_WINDOW_S:
            f = None
        if f is None:
            if key not in fails and len(fails) >= _MAX_TRACKED:
                self._evict(now_s)
            f = [now_s, 0, None]
            fails[key] = f
        f[1] += 1
        if f[1] >= _FAIL_LIMIT:
            f[2] = now_s + _BLOCK_S
            if log is not None:
                log.warning("%d failed authorisations from %s: ignored %d s", f[1], key, _BLOCK_S)

    def _evict(self, now_s):
        fails = self.fails
        oldest = None
        for k in list(fails):
            f = fails[k]
            if f[2] is None and now_s - f[0] >= _FAIL_WINDOW_S:
                del fails[k]
            elif oldest is None or f[0] < fails[oldest][0]:
                oldest = k
        if len(fails) >= _MAX_TRACKED and oldest is not None:
            del fails[oldest]
