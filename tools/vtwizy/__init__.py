# The virtual Twizy: a seeded physical model of one Renault Twizy 80 that emits the
# car's full CAN traffic at the real rates, for the simulation and for tests.
# Licence: MIT (this project). Host tool (CPython and the MicroPython unix port);
# device code never imports it.
#
#   from tools import vtwizy
#   sc = vtwizy.scenario("day", seed=1)      # "day" | "charge" | "drive" | "parked"
#   for t_us, can_id, data in sc:            # lazy: ~2.3 M frames for a day, never a list
#       ...
#   sc.truth()          # the model's values as of the last frame taken (dict, frame units)
#   sc.truth_at(t_us)   # ... at any scenario time (replays the same seed up to there)
#   sc.gps_at(t_ms)     # the GPS fix then: (t_ms, lat_e6, lon_e6, alt_m, speed_c, course)
#   sc.events           # [(t_ms, "key on" | "drive" | "plug in" | ...)] as they happened
#
# Same name and seed -> the same frames, byte for byte, in both runtimes.
# Modules: model (physics), route (commute, driver, GPS), encoder (IDs, timing,
# payloads), scenarios (timelines -> the stream), can (the stream as a host CAN
# controller for tools/sim.py).

from tools.vtwizy.scenarios import NAMES, Scenario


def scenario(name, seed=1):
    return Scenario(name, seed)


__all__ = ("NAMES", "Scenario", "scenario")
