# Integer unit and number-text helpers of the framework and every vehicle (twizy-vehicle.md
# §0.3 conventions). Framework level: ovms.config, ovms.sms* and ovms.v2 use them, so they
# must not live under a vehicle (issue 11).
# Licence: MIT (this project).
#
# Ranges and the odometer are held in whole miles, as the 2013 firmware did, so
# a km value shown to a km user has been through KM2MI then MI2KM. The pair is
# tuned so that the round trip is exact or exactly 1 km high (95 -> 60 -> 96):
# this is the guide's "occasional 1 km difference" and is reproduced on purpose.


def km2mi(km):
    if km <= 0:
        return 0
    return ((km * 10 - 5) >> 4) + 1


def mi2km(mi):
    return tdiv((mi << 4) + 5, 10)


def tdiv(a, b):
    # C integer division: truncates toward zero (Python's // floors).
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def f2(x):
    # 1/100 units with two decimals: 9702 -> "97.02", 5 -> "0.05"
    if x < 0:
        return "-" + f2(-x)
    return "%d.%02d" % (x // 100, x % 100)


def f3(x):
    # 1/1000 units with three decimals: 4115 -> "4.115"
    if x < 0:
        return "-" + f3(-x)
    return "%d.%03d" % (x // 1000, x % 1000)


def signed(v):
    # "+" for values >= 0 (zero prints "+0"); negatives carry their own "-"
    return ("+%d" % v) if v >= 0 else ("%d" % v)


# ---- the framework's number-text parsers (one home, issue 11). What each accepts:
#   digits(s)      "0".."9" only, at least one (digits(s, True): "" too); no sign, no
#                  blank. CPython's isdigit() also takes "²" (int() then raises).
#   dec_int(s, d)  ASCII blanks around (D58), an optional + or -, 1..12 digits -> int;
#                  anything else -> d (the AT replies' numbers)
#   atoi(s)        C atoi: leading spaces, optional sign, the leading digits; stops at
#                  the first other character, 0 without digits (the vehicle's commands)
#   hex_digit(ch)  0-9 a-f A-F -> 0..15, else -1
#   nmea.dec_scaled: signed decimal fractions (its own module: one caller's format)
ASCII_BLANKS = " \t\n\r\x0b\x0c"  # ASCII only: CPython's strip() also eats U+0085/U+00A0


def digits(s, empty=False):
    # ASCII decimal digits only; "" only with empty=True
    for ch in s:
        if not "0" <= ch <= "9":
            return False
    return empty or s != ""


def dec_int(s, default=-1):
    # decimal text -> int, `default` when it is not a plain (signed) integer
    s = s.strip(ASCII_BLANKS)
    neg = False
    if s[:1] == "-":
        neg = True
        s = s[1:]
    elif s[:1] == "+":
        s = s[1:]
    if not s or len(s) > 12:
        return default
    n = 0
    for ch in s:
        if ch < "0" or ch > "9":
            return default
        n = n * 10 + ord(ch) - 48
    return -n if neg else n


def hex_digit(ch):
    o = ord(ch)
    if 48 <= o <= 57:
        return o - 48
    if 65 <= o <= 70:
        return o - 55
    if 97 <= o <= 102:
        return o - 87
    return -1


def atoi(s):
    # C atoi: leading spaces, optional sign, leading digits; anything else ends it.
    i = 0
    n = len(s)
    while i < n and s[i] == " ":
        i += 1
    neg = False
    if i < n and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    v = 0
    while i < n and "0" <= s[i] <= "9":
        v = v * 10 + ord(s[i]) - 48
        i += 1
    return -v if neg else v


def hex4(v):
    return "%04X" % (v & 0xFFFF)


def isqrt(n):
    # floor(sqrt(n)) for n >= 0, integers only (Newton iteration)
    if n <= 0:
        return 0
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


def degrees(e6):
    # micro-degrees -> exactly six decimals, truncated toward zero, "-" for S/W
    # (the one home of this text: records, SMS GPS, v2 L, NMEA emitters' e6_text)
    sign = "-" if e6 < 0 else ""
    a = -e6 if e6 < 0 else e6
    return "%s%d.%06d" % (sign, a // 1000000, a % 1000000)
