# Board configuration modules: pins, bus ids, rates, paths. No logic.
