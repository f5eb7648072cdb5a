# ovms/log.py: one logger per subsystem tag; on MicroPython the firmware's own lines,
# without micropython-lib logging (D115). Both runtimes. Licence: MIT (this project).
import sys

from ovms import log

_MP = sys.implementation.name == "micropython"


def test_one_logger_per_tag_keeps_its_tag():
    a = log.get("test-a")
    assert log.get("test-a") is a and a.name == "test-a"
    b = log.get("test-b")
    assert b is not a and b.name == "test-b"


class _Err:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s


class _Sys:
    def __init__(self):
        self.stderr = _Err()


def test_a_line_is_the_message_on_stderr_info_and_above():
    # D115: what micropython-logging 0.5.2 printed (its default format: the message),
    # written without it: no logging module, no record, no handler on the board
    if not _MP:
        return  # CPython: the standard logging module
    assert not hasattr(log, "logging")
    fake = _Sys()
    real = log.sys
    log.sys = fake
    try:
        lg = log.get("test-line")
        lg.info("cells %d, %s", 14, "ok")
        lg.warning("100% full")  # no args: the text as it is
        lg.debug("not shown at the default level")
        log.LEVEL[0] = 10
        lg.debug("shown: %r", b"\x01")
        lg.error("e")
    finally:
        log.sys = real
        log.LEVEL[0] = 20
    assert fake.stderr.text == "cells 14, ok\n100% full\nshown: b'\\x01'\ne\n"
