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
    sign = "-" if e6 < 0 else ""
    a = -e6 if e6 < 0 else e6
    return "%s%d.%06d" % (sign, a // 1000000, a % 1000000)
