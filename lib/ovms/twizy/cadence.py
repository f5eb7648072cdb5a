# When the Twizy's server records go out: the economy data profile (D70, ovms/datause.py).
# Licence: MIT (this project).
#
# rt25 (the 2013 cadence, ovms/twizy/notify.py): every minute RT-PWR-UsageStats and
# RT-GPS-Log if their text changed, one second later RT-PWR-BattPack and the 14
# RT-PWR-BattCell if changed (any field): about 105 KB an active hour.
# economy (notify.py hands both flags here): the same records, fewer repeats, ONE
# transmission per evaluation (one TCP send with the uplink's window of 16):
#   - flush: every record whose text differs from the one last sent (exactly rt25's
#     send-on-change) once a drive or a charge has ended: the car neither on nor
#     charging, or no new battery sensor set, for _SETTLE_MIN minute evaluations in a row
#     after the car was on or charging (switch-off and charge end take effect when the
#     values are final; a stop or an unplug under 10 minutes is no end: a drive and the
#     charge right after it are one). The last
#     values on the server are then rt25's. A bus session without key or charge (a 12 V
#     top-up) makes no flush: its values go only by the rules below;
#   - a battery record whose alert/watch status field changed (at once: the battery
#     monitor's alert raises NTF_BATTERY_STATS with its NTF_BATTERY_ALERT);
#   - a battery record whose dead-band field moved since it was last sent: pack SOC by
#     50 %, pack/module temperature by 10 C, a cell's max deviation by 30 mV, a module's
#     max temperature deviation by 5 C (cell voltages follow the SOC: they go with the
#     flush);
#   - RT-GPS-Log every _GPS_S while the car is on and its position fields changed (the
#     GPS staleness and GSM signal fields alone never make it due), and with the flush;
#     RT-PWR-UsageStats (a trip statistic) with the flush.
# Budget (D74): level 1 intervals x3 and dead bands x2, level 2 flush and status only.
# Runs once a minute (and on a battery alert), never on the per-frame path: it may
# allocate (the upload path).

# D129: resident; the dead-band tables are folded and "charging" is state.charging_phase
# (no tuple of the two states): 10 names, 10 slots (was 14 names, 17 slots: 144 -> 80
# bytes).

import binascii

from ovms.datause import ECONOMY, profile
from ovms.twizy import battery, power, records, state

_GPS_S = const(900)  # economy RT-GPS-Log interval while the car is on
_SETTLE_MIN = const(10)  # minute evaluations without drive/charge (or new values): the end
# (field index in text.split(","), dead band; 0 = any change); units as in the record
_PACK_BANDS = const(((5, 0), (6, 0), (7, 5000), (16, 10)))  # status V/T, SOC 1/100 %, temp C
_CELL_BANDS = const(((4, 0), (5, 0), (9, 30), (10, 10), (13, 5)))  # status, maxdev mV, C, dev C
_GPS_POSITION = const(9)  # RT-GPS-Log fields up to the fix flag (before staleness, signal)


class Cadence:
    def __init__(self, cfg):
        self.cfg = cfg
        self.level = 0  # budget level (ovms.datause.DataUse.level), set by the data plan
        self.flushes = 0  # flush events seen (switch-off, charge end, settled)
        self._fields = {}  # record kind -> its fields as last sent (dead bands)
        self._on = False  # the car was on at the last minute evaluation
        self._busy_seen = False  # on or charging at some second since the last minute
        self._session = False  # on or charging since the last flush
        self._idle_min = 0  # minute evaluations in a row neither on nor charging
        self._quiet_min = 0  # minute evaluations in a row without a new sensor set
        self._sets = -1  # sensor sets at the last minute
        self._gps_tick = None  # vehicle tick of the last RT-GPS-Log sent

    def economy(self):
        return self.level > 0 or profile(self.cfg) == ECONOMY

    def watch(self, st):
        # every second (notify's server pass): a drive or charge is going on
        if st.car_doors1 & state.DOORS1_CARON or state.charging_phase(st):
            self._busy_seen = True

    def _events(self, st):
        # at the minute: -> True when the flush is due (the end of a drive or charge:
        # the bus asleep _SETTLE_MIN minutes, or awake but neither on nor charging as long)
        on = bool(st.car_doors1 & state.DOORS1_CARON)
        busy = self._busy_seen or on or state.charging_phase(st)
        self._busy_seen = False
        fresh = st.sensor_sets != self._sets
        self._sets = st.sensor_sets
        self._on = on
        self._quiet_min = 0 if fresh else self._quiet_min + 1
        self._idle_min = 0 if busy else self._idle_min + 1
        if busy and fresh:
            self._session = True
        if not self._session:
            return False
        if self._quiet_min == _SETTLE_MIN:
            self._session = False  # asleep: the values are final
        elif self._idle_min != _SETTLE_MIN:
            return False
        self.flushes += 1
        return True

    def server_records(self, v, link):
        # notify's server pass with NTF_DATA_UPDATE and/or NTF_BATTERY_STATS set
        st = v.st
        n = st.notify
        st.notify = n & ~(state.NTF_DATA_UPDATE | state.NTF_BATTERY_STATS)
        out = []
        kinds = []
        flush = False
        if n & state.NTF_DATA_UPDATE:
            flush = self._events(st)
            self._one(v, "usage", power.usage_record(st), None, flush, out, kinds)
            k = 3 if self.level else 1
            due = (
                self.level < 2
                and self._on
                and (self._gps_tick is None or st.tick - self._gps_tick >= _GPS_S * k)
            )
            self._gps(v, records.gps_log(st), flush, due, out, kinds)
        if st.sensor_sets:
            self._one(v, "pack", battery.pack_record(st), _PACK_BANDS, flush, out, kinds)
            for c in range(state.N_CELLS):
                self._one(v, c, battery.cell_record(st, c), _CELL_BANDS, flush, out, kinds)
        if not out or link.send_server(out) is False:
            return  # refused: the memory stays, the next minute offers them again
        for kind, crc, fields in kinds:
            v.sent.keep(kind, crc)  # the one send-on-change memory (ovms/sent.py)
            self._fields[kind] = fields
            if kind == "gps":
                self._gps_tick = st.tick

    def _one(self, v, kind, text, bands, force, out, kinds):
        crc = binascii.crc32(text.encode())
        if v.sent.same(kind, crc):
            return
        fields = text.split(",")
        if not force:
            old = self._fields.get(kind)
            if bands is None or (old is not None and not self._moved(old, fields, bands)):
                return
        out.append(text)
        kinds.append((kind, crc, fields))

    def _gps(self, v, text, flush, due, out, kinds):
        if not flush:
            old = self._fields.get("gps")
            if not due or (
                old is not None and old[:_GPS_POSITION] == text.split(",")[:_GPS_POSITION]
            ):
                return
        self._one(v, "gps", text, None, True, out, kinds)

    def _moved(self, old, new, bands):
        if len(old) != len(new):
            return True
        scale = 2 if self.level else 1
        for i, band in bands:
            if i >= len(new) or old[i] == new[i]:
                continue
            if band == 0:
                return True
            if self.level >= 2:
                continue
            try:
                d = int(new[i]) - int(old[i])
            except ValueError:  # not a number (a "no data yet" field): a change
                return True
            if d >= band * scale or -d >= band * scale:
                return True
        return False
