# ovms/log.py: one logger per subsystem tag, one shared stderr handler (D112). Both
# runtimes. Licence: MIT (this project).
import sys

from ovms import log


def test_one_logger_per_tag_keeps_its_tag():
    a = log.get("test-a")
    assert log.get("test-a") is a and a.name == "test-a"
    b = log.get("test-b")
    assert b is not a and b.name == "test-b"


def test_every_tag_shares_one_handler_list():
    # D112: MicroPython's loggers print through the one stderr handler, in one list
    # shared by every tag (a list per tag cost 32 bytes of heap each)
    if sys.implementation.name != "micropython":
        return  # CPython: records propagate to the root logger
    a = log.get("test-c")
    b = log.get("test-d")
    assert a.handlers is b.handlers and len(a.handlers) == 1
    assert log.get("test-c").handlers is a.handlers and len(a.handlers) == 1
