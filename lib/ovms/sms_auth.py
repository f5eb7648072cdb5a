# Who owns the module: the owner's phone number and a fresh module password.
# Licence: MIT (this project).
#
# Spec: ovms-v2-sms.md §4. Resident (ovms.sms answers a registered owner even when
# the SMS code cannot be loaded, D123; ovms.store keeps the owner copy with it); ovms.owner
# uses the number and password helpers at boot. The password checks and the guess limits
# of an SMS (D37) are in ovms.sms_guard, loaded per SMS.
#
# D36: the owner match is exact after number normalisation (the 2013 prefix match
# let "+<owner>9999" in). normal_number() drops the separators people and
# networks write (space - . / ( )), turns the international prefix "00" into "+"
# and refuses everything that is not a phone number (letters, a "+" inside, fewer
# than 3 or more than 20 digits): an alphanumeric sender ("Vodafone", "NOPHONE")
# is nobody and cannot REGISTER. No guessing between national and international
# forms: REGISTER stores the sender's number exactly as the network delivered it.
#
# D35: fresh_password() makes a module's unique password: 8 symbols from a
# 32-symbol alphabet without look-alikes (0/O, 1/I), i.e. 40 bits, taken from
# HMAC-MD5(key = 16 random bytes, message = a label + the board's unique id). The
# random bytes are the secret; the unique id keeps two boards apart even if their
# random source started alike. Without a random source the result is "" (no password): then
# REGISTER stays closed until a password is set on the DIAG console.

_MIN_DIGITS = const(3)
_MAX_DIGITS = const(20)
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
