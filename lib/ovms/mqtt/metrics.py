# Which metrics to publish now: the last published text of each, two cadences. Pure
# (time comes in as ticks in ms). Licence: MIT (this project).
#
#   mc = MetricCache(values, slow_names)      # values(vehicle) -> [(name, text)]
#   for name, text in mc.due(vehicle, now_ms, fast_s, slow_s): publish(...)
#   mc.reset(now_ms)                          # a new connection: everything once
#
# A metric goes when its text changed and its cadence is due: the slow cadence for the
# jittering lists (cell voltages, module temperatures), the fast one for the rest; a
# metric's first value goes at the fast cadence whatever its kind (no 10-minute wait for
# the cell voltages after a connect in economy). due() marks what it returns as sent.


class MetricCache:
    def __init__(self, values, slow_names=()):
        self.values = values
        self.slow = slow_names
        self.sent = {}
        self._fast_at = self._slow_at = 0
        self._all = True

    def reset(self, now_ms):
        self.sent = {}
        self._fast_at = self._slow_at = now_ms
        self._all = True

    def due(self, vehicle, now_ms, fast_s, slow_s):
        everything = self._all
        self._all = False
        fast = everything or now_ms - self._fast_at >= fast_s * 1000
        slow = everything or now_ms - self._slow_at >= slow_s * 1000
        if not fast and not slow:
            return []
        if fast:
            self._fast_at = now_ms
        if slow:
            self._slow_at = now_ms
        out = []
        sent = self.sent
        for name, text in self.values(vehicle):
            last = sent.get(name)
            if last == text or not (slow if last is not None and name in self.slow else fast):
                continue
            sent[name] = text
            out.append((name, text))
        return out
