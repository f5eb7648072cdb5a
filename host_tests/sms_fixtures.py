# Shared set-up for the SMS interpreter tests (test_sms*.py, test_security*.py).
# Licence: MIT (this project).
from ovms.config import Config
from ovms.sms import SmsInterpreter
from ovms.sms_table import PERMISSION_DENIED
from ovms.twizy.vehicle import Twizy

OWNER = "+4915100000000"
STRANGER = "+4917099999999"
PW = "S3cretPw"  # the module password of make() (there is no factory password: D35)
DENIED = [PERMISSION_DENIED]
REGISTERED_OK = ["Your phone has been registered as the owner."]

# the framework list exactly as ovms-v2-sms.md §5 gives it
SPEC_HELP = (
    "Commands: REGISTER? REGISTER PASS? PASS  GPS STAT PARAMS? PARAMS  AP  MODULE? MODULE  "
    "GPRS? GPRS  GSMLOCK? GSMLOCK SERVER? SERVER  DIAG FEATURES? FEATURE  HOMELINK  LOCK  "
    "UNLOCK  VALET  UNVALET  CHARGEMODE  CHARGESTART CHARGESTOP VERSION RESET HELP"
)
MODULE_EMPTY = "Module:\r\n VehicleID:\r\n VehicleType:\r\n Units:K\r\n Notifications:"


class Hooks:
    def __init__(self):
        self.calls = []

    def reset(self):
        self.calls.append("reset")

    def reinit(self):
        self.calls.append("reinit")

    def net(self):
        self.calls.append("net")


class CountingStore:
    def __init__(self):
        self.saves = 0

    def save(self, config):
        self.saves += 1


def make(params=None, vehicle=True, net=None, **kw):
    # -> (framework, config, hooks): owner OWNER, password PW, a Twizy
    p = {0: OWNER, 1: PW}
    if params:
        p.update(params)
    cfg = Config(p, CountingStore())
    v = Twizy(cfg) if vehicle else None
    hooks = Hooks()
    fw = SmsInterpreter(
        cfg,
        v,
        net=net,
        on_reset=hooks.reset,
        on_vehicle_reinit=hooks.reinit,
        on_net_change=hooks.net,
        **kw,
    )
    return fw, cfg, hooks


def snapshot(cfg):
    return (list(cfg.params), list(cfg.features))


def fake_random(seed):
    # a deterministic stand-in for os.urandom (tests only)
    state = [seed & 0xFFFFFFFF]

    def randbytes(n):
        out = bytearray(n)
        for i in range(n):
            state[0] = (state[0] * 1103515245 + 12345) & 0x7FFFFFFF
            out[i] = (state[0] >> 16) & 0xFF
        return bytes(out)

    return randbytes
