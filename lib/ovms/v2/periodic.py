# The car's status messages for the OVMS v2 server: S, L, W, D, V, F texts and the
# §6.10 periodic send policy with its send-on-change memory. A mixin of
# ovms.v2.handler.Handler (it uses self.vehicle, self.cfg, self.fw, self.apps,
# self.version, self.hardware, self._last_set_s, self._login_s; the send-on-change
# memory is the vehicle's, self.vehicle.sent: ovms/sent.py).
# Licence: MIT (this project).
#
# Periodic set S, L, W, D, V with a CRC memory per code that survives reconnects; the
# first set goes out 10 s after login; "busy" = charging, topping off, heating or key
# on; streaming (feature 8) sends L each second while moving with apps watching. F is
# sent on Z>0 only (as in 2013): that app set is made by ovms/v2/commands.py, loaded for
# it (D105: an app connects a few times a day). These are live status messages (the
# server keeps the latest of each code), not history: they never go through the outbox.
# D70 economy data profile (the vehicle's cadence says so, ovms/twizy/cadence.py): with
# no app watching the set is due every _ECO_BUSY_S while busy and _ECO_IDLE_S otherwise
# (x3 at budget level 1 or 2, D74) and once a drive or charge has ended (the cadence's
# flush: the final values), still only what changed; an app watching gets the
# 2013 cadence (the owner is looking). No duplicate status on reconnect: the CRC memory
# survives reconnects (both profiles) and economy sends the boot's *-OVM-DebugCrash
# record after the first login of the boot only (crash_due; rt25 after every login).

# D125: the car's codes are read as car.NAME and the intervals are folded constants (the
# tests check the spec's numbers): 12 names in this resident module's globals, not 21.

import binascii

from ovms import car
from ovms.compat import const
from ovms.config import FEATURE_STREAM
from ovms.units import degrees

_TPMS_NONE = const("MP-0 W0,0,0,0,0,0,0,0,-1")

# §6.10 periodic intervals
_FIRST_SET_S = const(10)  # after login
_APPS_S = const(60)  # apps connected
_BUSY_S = const(600)  # no app, car busy
_IDLE_S = const(3600)  # no app, car idle
_ECO_BUSY_S = const(1800)  # economy (D70), no app, car busy
_ECO_IDLE_S = const(21600)  # economy, no app, car idle: 6 h
_BUSY_STATES = (car.CHG_CHARGING, car.CHG_TOPOFF, car.CHG_HEATING)


def interval_s(apps, busy, economy=False, level=0):
    # §6.10: seconds between periodic sets (economy and budget level: D70, D74)
    if apps > 0:
        return _APPS_S
    if economy:
        return (_ECO_BUSY_S if busy else _ECO_IDLE_S) * (3 if level else 1)
    return _BUSY_S if busy else _IDLE_S


def periodic_due(now_s, last_s, apps, busy, economy=False, level=0):
    # True when the periodic set is due; last_s None = never sent
    return last_s is None or now_s - last_s >= interval_s(apps, busy, economy, level)


def location_l(st):
    # L: lat, lon (6 decimals), direction, altitude, GPS lock, GPS staleness
    return "MP-0 L%s,%s,%d,%d,%d,%d" % (
        degrees(st.lat_e6),
        degrees(st.lon_e6),
        st.direction,
        st.altitude,
        st.gpslock,
        st.stale_gps,
    )


class Periodic:
    # ---- records (§6) -------------------------------------------------------------
    def record(self, code):
        # S, D, V come from the vehicle (its server_record hook); L, W are the framework's
        # (F, sent on Z>0 only: ovms/v2/commands.py's app_set, D105)
        if code == "L":
            return location_l(self.vehicle.st)
        if code == "W":
            return _TPMS_NONE
        return self.vehicle.server_record(code)

    def _if_changed(self, code, out):
        text = self.record(code)
        if text is None:
            return
        crc = binascii.crc32(text.encode())
        if not self.vehicle.sent.same(code, crc):  # the vehicle's memory (ovms/sent.py, D94)
            self.vehicle.sent.keep(code, crc)
            out.append(text)

    def busy(self):
        st = self.vehicle.st
        return st.car_chargestate in _BUSY_STATES or bool(st.car_doors1 & car.DOORS1_CARON)

    def periodic(self, now_s):
        # records due now (call about once a second while logged in)
        out = []
        if self.vehicle is None or now_s - self._login_s < _FIRST_SET_S:
            return out
        st = self.vehicle.st
        cad = getattr(self.vehicle, "cadence", None)
        eco = cad is not None and cad.economy()
        level = cad.level if eco else 0
        flushed = eco and cad.flushes != getattr(self, "_flushes_seen", 0)  # a drive or
        if flushed or periodic_due(now_s, self._last_set_s, self.apps, self.busy(), eco, level):
            self._flushes_seen = cad.flushes if eco else 0  # charge ended: the final set
            self._last_set_s = now_s
            for code in "SLWDV":
                self._if_changed(code, out)
        elif self.apps > 0 and self.cfg.features[FEATURE_STREAM] > 0 and st.car_speed > 0:
            self._if_changed("L", out)
        return out

    def crash_due(self):
        # the crash record after this login? economy: the boot's first login only (D70)
        cad = getattr(self.vehicle, "cadence", None)
        first = not getattr(self, "_crash_sent", False)
        self._crash_sent = True
        return first or cad is None or not cad.economy()
