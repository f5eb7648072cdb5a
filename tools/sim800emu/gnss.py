# SIM800 emulator: SIM808 GNSS (+CGNSINF) and a standalone NMEA GPS from a track.
# Licence: MIT (this project).
#
# Track file: CSV t_s,lat,lon,alt_m,speed_kmh[,course]; the track loops.

import asyncio

from ovms import nmea
from ovms.aio import sleep_ms, ticks_diff, ticks_ms


class EmuGnss:
    def position(self):
        # the track row for "now" (the track loops), or None; gnss_source: a callable
        # giving the row instead (the virtual Twizy's GPS, tools/sim.py)
        src = getattr(self, "gnss_source", None)
        if src is not None:
            return src()
        if not self.track:
            return None
        el = ticks_diff(ticks_ms(), self._t0)
        span = self.track[-1][0] + 1000
        el = el % span if span > 0 else 0
        row = self.track[0]
        for r in self.track:
            if r[0] <= el:
                row = r
        return row

    def _utc(self):
        s = ticks_diff(ticks_ms(), self._t0) // 1000
        s = 43200 + s % 43200
        return "%02d%02d%02d" % (s // 3600, (s // 60) % 60, s % 60)

    def cgnsinf(self):
        if not self.gnss_on:
            return "+CGNSINF: 0,,,,,,,,,,,,,,,,,,,,"
        p = self.position()
        utc = "20260101" + self._utc() + ".000"
        if p is None:
            return "+CGNSINF: 1,0,%s,,,,0.00,0.0,0,,,,,,4,0,,,,," % utc
        t, lat, lon, alt, spd, course = p
        return "+CGNSINF: 1,1,%s,%s,%s,%d.000,%d.%02d,%d.0,1,,0.9,1.2,0.8,,10,8,3,,42,," % (
            utc,
            nmea.e6_text(lat),
            nmea.e6_text(lon),
            alt,
            spd // 100,
            spd % 100,
            course,
        )

    def _cgnspwr(self, c, line):
        if c.endswith("?"):
            return ["+CGNSPWR: %d" % (1 if self.gnss_on else 0), "OK"]
        self.gnss_on = c[-1] == "1"
        return ["OK"]

    def _cgnsinf_cmd(self, c, line):
        return [self.cgnsinf(), "OK"]

    def nmea_sentences(self):
        p = self.position()
        utc = self._utc() + ".00"
        if p is None:
            return [
                nmea.sentence("GPGGA,%s,,,,,0,00,99.9,,M,,M,," % utc),
                nmea.sentence("GPRMC,%s,V,,,,,,,010126,,,N" % utc),
            ]
        t, lat, lon, alt, spd, course = p
        la, ns = nmea.e6_ddmm(lat, False)
        lo, ew = nmea.e6_ddmm(lon, True)
        kn_x1000 = spd * 10000 // nmea.KNOT_KMH_X1000  # 1/100 km/h -> 1/1000 knot
        return [
            nmea.sentence(
                "GPGGA,%s,%s,%s,%s,%s,1,08,0.9,%d.0,M,47.0,M,," % (utc, la, ns, lo, ew, alt)
            ),
            nmea.sentence(
                "GPRMC,%s,A,%s,%s,%s,%s,%d.%03d,%d.0,010126,,,A"
                % (utc, la, ns, lo, ew, kn_x1000 // 1000, kn_x1000 % 1000, course)
            ),
        ]

    async def _nmea_client(self, reader, writer):
        try:
            while True:
                for s in self.nmea_sentences():
                    writer.write(s.encode() + b"\r\n")
                await writer.drain()
                # nmea_sleep: the simulation's virtual clock (one fix per simulated
                # second at any speed); else the wall clock
                await (getattr(self, "nmea_sleep", None) or sleep_ms)(self.nmea_period_ms)
        except (Exception, asyncio.CancelledError):
            pass
        try:
            writer.close()
        except Exception:  # noqa: S110 (already closed)
            pass
