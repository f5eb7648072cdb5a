# The virtual Twizy on the host board's CAN controller: a scenario's lazy frame stream
# (tools/vtwizy/scenarios.py) as a StreamCan (firmware/hal/can_fake.py) on the
# simulation's virtual clock. Licence: MIT (this project). Host tool (tools/sim.py).
#
# Same acceptance filter, FIFO and overrun rules as the trace replay; frames the
# module does not use reach the controller and are counted as filtered. `from_ms`
# starts the bus that far into the scenario (the frames before it are generated and
# dropped: the model still lives through them); bus time 0 = scenario time from_ms.

from firmware.hal.can_fake import StreamCan


class ScenarioCan(StreamCan):
    def __init__(self, sc, ids=None, clock=None, depth=32, from_ms=0, **kw):
        self.sc = sc
        self.from_ms = from_ms
        self.skipped = 0  # frames before from_ms
        super().__init__((), speed=1, depth=depth, loop=False, clock=clock, ids=ids, **kw)

    def _frames(self):
        skip_us = self.from_ms * 1000
        for t_us, can_id, data in self.sc:
            if t_us < skip_us:
                self.skipped += 1
                continue
            yield (t_us - skip_us) // 1000, can_id, data

    def scenario_ms(self, clock_ms):
        # scenario time of a virtual clock time (the bus started at clock time _t0)
        return clock_ms - self._t0 + self.from_ms
