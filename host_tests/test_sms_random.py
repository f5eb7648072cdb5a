# A seeded random fuzz of the SMS interpreter that also runs on the MicroPython
# unix port (the hypothesis fuzz is CPython only): no exception, no change
# without authorisation, every shaped part fits one SMS.
import random

from ovms import smsout
from ovms.config import Config
from ovms.sms import NetStatus, SmsInterpreter
from ovms.sms_auth import is_owner
from ovms.sms_table import PERMISSION_DENIED, TABLE
from ovms.twizy.vehicle import COMMANDS, Twizy

OWNER = "+4915100000000"
_WORDS = [e[0].strip() for e in TABLE] + list(COMMANDS) + ["status", "Stat?", "PASS", "ap"]
_ARGS = ["OVMS", "-", "?", "80", "5%", "14", "4", "15", "R", "VD", "xx", "°", "€", "ä"]
_CHARS = "abcXYZ019 ?%-+\r\n\t\u00a0°€äßſı中😀\x00\x1b"


def _text(rnd):
    if rnd.getrandbits(1):
        n = rnd.getrandbits(9) % 120
        return "".join([_CHARS[rnd.getrandbits(8) % len(_CHARS)] for _ in range(n)])
    parts = [_WORDS[rnd.getrandbits(8) % len(_WORDS)]]
    for _ in range(rnd.getrandbits(3)):
        parts.append(_ARGS[rnd.getrandbits(8) % len(_ARGS)])
    return " ".join(parts)


def test_random_texts():
    rnd = random
    rnd.seed(12345)
    senders = (OWNER, "+4917099999999", "", "NOPHONE")
    for i in range(600):
        cfg = Config({0: senders[i % 3], 1: ("OVMS", "")[i % 2], 30: ("", "2", "4")[i % 3]})
        net = NetStatus()
        net.server_ok = bool(i & 4)
        fw = SmsInterpreter(cfg, Twizy(cfg), net=net)
        sender = senders[(i // 3) % 4]
        text = _text(rnd)
        before = (list(cfg.params), list(cfg.features))
        out = fw.handle(sender, text, now_s=i)
        for part in smsout.shape(out):
            assert 0 < smsout.septets(part) <= 160
        p1 = before[0][1]
        if not is_owner(fw.cfg.params[0], sender) and (p1 == "" or p1 not in text):
            assert (list(cfg.params), list(cfg.features)) == before, text
            assert out in ([], [PERMISSION_DENIED]), text
