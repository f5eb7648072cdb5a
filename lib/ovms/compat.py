# What differs between CPython and MicroPython, in one place (issue 11): the `const`
# shim and the one "bytes -> str, never raise". Licence: MIT (this project).
#
# const: on MicroPython the compiler folds `_X = const(n)` by the name `const` alone
# (wherever it was imported from), so `from ovms.compat import const` inlines as
# `from micropython import const` does; CPython gets the identity.
#
# D91: text(raw) is UTF-8 when the bytes are valid UTF-8, else Latin-1 (one character
# per byte, U+0000..U+00FF): nothing is dropped or replaced, the result is the same in
# both runtimes (MicroPython's decode() has no errors= argument) and never raises. It
# replaces three fallback rules (Latin-1 in the v2 codec and the outbox; ASCII with
# "?" for the rest in the NMEA parser and the DIAG console). Not covered on purpose:
# ovms.at.decode (the modem speaks ISO 8859-1 by AT+CSCS, every byte is Latin-1 and
# control bytes are dropped), store/MQTT payloads (not UTF-8 = rejected and counted).

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


def text(raw):
    # bytes / bytearray / memoryview -> str, never raising (D91)
    raw = bytes(raw)
    try:
        return raw.decode()
    except UnicodeError:
        return "".join([chr(b) for b in raw])
