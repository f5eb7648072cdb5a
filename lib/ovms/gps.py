# GPS and GSM-signal inputs of the vehicle: parser output -> vehicle.gps_fix().
# Licence: MIT (this project).
#
# The vehicle core owns the GPS state (vehicle spec §0.2): gps_fix(lat_e6,
# lon_e6, altitude_m, direction_deg) sets gpslock=1 and stale_gps=120, its tick
# counts stale_gps down; gps_lost() clears gpslock. This helper turns NMEA
# sentences (standalone GPS UART) or SIM808 +CGNSINF lines into those calls, and
# CSQ readings into st.net_sq. Synchronous; called from the modem/GPS tasks.
#
# D129: the parser is read as gnss.parse_cgnsinf etc.: 5 names in this resident module's
# globals, 6 slots (was 7 names, 8 slots: 64 -> 48 bytes).

from ovms import gnss
from ovms.at import csq_to_sq


class Feed:
    def __init__(self, vehicle):
        self.vehicle = vehicle
        self.nmea = None  # standalone receiver state (GGA + RMC merged): the first line
        self.gnss = gnss.GpsFix()  # SIM808 state
        self.fixes = 0  # valid fixes handed to the vehicle
        self.lost = 0  # no-fix reports handed on
        self.bad_cgnsinf = 0  # malformed +CGNSINF lines

    def _nmea(self):
        p = self.nmea
        if p is None:  # D132: the NMEA parser only for a board with a standalone GPS
            from ovms.nmea import NMEA

            p = self.nmea = NMEA()
        return p

    def nmea_line(self, line):
        # one NMEA sentence; returns True when it carried position news
        p = self._nmea()
        if p.feed(line) is None:
            return False
        self._apply(p.fix)
        return True

    def nmea_bad(self):
        # a line the NMEA reader task dropped (too long): counted with the parser's
        self._nmea().bad += 1

    def cgnsinf(self, line):
        # one "+CGNSINF: ..." / "+UGNSINF: ..." line
        if not gnss.parse_cgnsinf(line, self.gnss):
            self.bad_cgnsinf += 1
            return False
        self._apply(self.gnss)
        return True

    def csq(self, rssi):
        # CSQ rssi 0..31 (99 = unknown -> 0) into the framework's net_sq
        self.vehicle.st.net_sq = csq_to_sq(rssi)

    def _apply(self, f):
        if f.fix:
            self.fixes += 1
            self.vehicle.gps_fix(f.lat_e6, f.lon_e6, f.altitude, f.course)
        else:
            self.lost += 1
            self.vehicle.gps_lost()
