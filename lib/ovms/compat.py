# What differs between CPython and MicroPython, in one place (issue 11): the `const`
# shim and the one "bytes -> str, never raise". Licence: MIT (this project).
#
# const: on MicroPython the compiler folds `X = const(v)` by the name `const` alone
# (wherever it was imported from, or if it was not imported at all) and never looks the
# name up at run time; CPython gets the identity.
#
# D129: so the firmware's modules use `const` without importing it: an import binds one
# more name in the module's globals table (8 bytes a slot, and tables grow in steps,
# README "Memory"), for a name nothing reads on the device. Under CPython this module
# makes it a builtin; the `ovms` package imports this module first (lib/ovms/__init__.py),
# so every module that imports anything from `ovms` has it. `from ovms.compat import
# const` still works (a module that imports nothing else from `ovms`).
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
    import builtins

    def const(x):
        return x

    builtins.const = const  # D129


def text(raw):
    # bytes / bytearray / memoryview -> str, never raising (D91)
    raw = bytes(raw)
    try:
        return raw.decode()
    except UnicodeError:
        return "".join([chr(b) for b in raw])
