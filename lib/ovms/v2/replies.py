# Command replies of ovms/v2/handler.py that need a modem action (USSD, SMS, AT): the
# Deferred the async shell awaits, and the reply texts. Licence: MIT (this project).

from ovms.compat import const
from ovms.v2 import codec

_USSD_FAILED = const("Invalid USSD result")


def is_awaitable(r):
    # coroutine / generator (MicroPython coroutines are generators)
    return r is not None and not isinstance(r, (str, bytes, bool, int)) and hasattr(r, "send")


class Deferred:
    # a command reply that needs an awaited modem action (USSD, SMS, AT);
    # the async shell awaits .aw then calls done(result) or fail(exc)
    def __init__(self, aw, finish, code):
        self.aw = aw
        self.finish = finish
        self.code = code

    def done(self, result):
        return self.finish(result)

    def fail(self, exc):
        # the awaited action failed (any exception): the command still gets its c
        return ["MP-0 c%d,1,%s" % (self.code, exc)]


def fail(code, reason):
    return "MP-0 c%d,1,%s" % (code, reason)


def ok40(result):
    return ["MP-0 c40,0"]


def ok49(result):
    return ["MP-0 c49,0"]


def ussd_reply(answer):
    if answer is None:
        return [fail(41, _USSD_FAILED)]
    answer = codec.text(answer) if isinstance(answer, bytes) else answer
    answer = answer.replace("\r\n", "\r").replace("\n", "\r").replace(",", ".")
    return ["MP-0 c41,0," + answer]
