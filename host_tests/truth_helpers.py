# Helpers for the test_truth_* modules: the bundled real traces replayed through the
# core as the replay tool does it, the module's lines and SMS kept with their tick.
# exact=True is the 2013 module byte for byte, exact=False the owner decisions
# D65-D68 (ovms/twizy/vehicle.py D69). Licence: MIT (this project).
import gc

from support import trace

from tools import replay
from tools.replay_run import Replayer

SECOND_US = 1000000

# 0x597 as the car sends it while a charge ends (End-Chg, 0.33 s): b1 0xE4 = offline
# with the charger bit still set
OFFLINE_597 = bytes.fromhex("20E403D12F00014E")


class Collect:
    # a link that is always up; keeps (tick, line) and (tick, sms). trail: for each
    # tick (the replay dispatches once per tick) (charge state, CHG rec, requests)
    def __init__(self, vehicle):
        self.v = vehicle
        self.lines = []
        self.sms = []
        self.trail = {}

    def server_ready(self):
        st = self.v.st
        self.trail[st.tick] = (st.car_chargestate, st.speedpwr[2], st.requests)
        return True

    def sms_ready(self):
        return True

    def send_server(self, lines):
        for x in lines:
            self.lines.append((self.v.st.tick, x))

    def send_sms(self, text):
        self.sms.append((self.v.st.tick, text))

    def pushes(self):
        # the alert pushes "MP-0 PA..." as (tick, text)
        return [(t, x[7:]) for t, x in self.lines if x.startswith("MP-0 PA")]

    def status(self):
        # the S records as (tick, line)
        return [(t, x) for t, x in self.lines if x.startswith("MP-0 S")]


def run(names, exact, until_s=None, stop_us=None, patch=None, options=()):
    # names: traces played back to back on one clock; stop_us: feed only the frames
    # before this time of the clock; patch(t, can_id, data) -> data: frame edits
    gc.collect()  # a fresh heap for the replay's read chunks (emulated Cortex-M)
    argv = [trace(n) for n in names] + list(options)
    if exact:
        argv.append("--exact")
    opts = replay.parse_args(argv)
    v = replay.build_vehicle(opts)
    assert v.st.exact == exact
    link = Collect(v)
    rp = Replayer(v, link)
    for t, _kind, _seq, can_id, data in replay.timeline(opts):
        if stop_us is not None and t >= stop_us:
            break
        if patch is not None:
            data = patch(t, can_id, data)
        rp.frame(t, can_id, data)
    rp.finish(None if until_s is None else until_s * SECOND_US)
    return v, link
