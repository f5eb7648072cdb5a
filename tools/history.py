# History CSV of the OVMS v2 server (what `python3 -m tools.ovms_client 32`
# prints): one row per record, `type,timestamp,recno,field,...`, timestamps
# UTC "YYYY-MM-DD HH:MM:SS". The field names of our record types (protocol
# §6.1, §7.3, the guide's record formats) and a tolerant reader for the plot
# and GPX tools. Licence: MIT (this project). CPython only.

import calendar
import csv
import time

SUMMARY = ["type", "recnos", "records", "bytes", "oldest", "newest"]

_SECTIONS = ("const", "accel", "decel")
_LEVELS = ("up", "down")

# the name of recno and of the data fields, per record type
RECNO = {
    "RT-GPS-Log": "odometer_mi10",
    "RT-PWR-BattPack": "pack",
    "RT-PWR-BattCell": "cell",
}
FIELDS = {
    "RT-GPS-Log": (
        "lat", "lon", "altitude_m", "direction_deg", "speed", "gps_fix", "gps_stale", "gsm_signal",
    ),
    "RT-PWR-UsageStats": tuple(
        ["%s_%s" % (s, f) for s in _SECTIONS for f in ("cnt", "use", "rec")]
        + ["%s_%s" % (s, f) for s in _LEVELS for f in ("hsum_m", "use", "rec")]
    ),
    "RT-PWR-BattPack": (
        "cells", "first_cell", "volt_alert", "temp_alert", "soc_c", "soc_min_c", "soc_max_c",
        "volt_act_cv", "volt_act_cell_cv", "volt_min_cv", "volt_min_cell_cv", "volt_max_cv",
        "volt_max_cell_cv", "temp_act_c", "temp_min_c", "temp_max_c",
    ),
    "RT-PWR-BattCell": (
        "pack", "volt_alert", "temp_alert", "mv_act", "mv_min", "mv_max", "mv_maxdev",
        "temp_act_c", "temp_min_c", "temp_max_c", "temp_maxdev_c",
    ),
    # the S status message kept as history by a server with "[log] history" (§6.1)
    "S": (
        "soc", "units", "line_v", "charge_a", "state", "mode", "ideal_range", "est_range",
        "limit_a", "duration_min", "b4", "kwh", "substate", "state_code", "mode_code",
        "timer_mode", "timer_start", "timer_stale",
    ),
    "*-OVM-DebugCrash": ("version", "crashes", "reason", "checkpoint"),
}  # fmt: skip

WH = 22500.0  # power statistic units per Wh (0.16 Ws each)


def header(rtype):
    return ["type", "timestamp", RECNO.get(rtype, "recno")] + list(FIELDS.get(rtype, ()))


def parse_time(text):
    # "YYYY-MM-DD HH:MM:SS" (UTC) -> seconds since the epoch, None if malformed
    try:
        return calendar.timegm(time.strptime(text.strip(), "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return None


class Record:
    __slots__ = ("type", "t", "recno", "fields")

    def __init__(self, rtype, t, recno, fields):
        self.type = rtype
        self.t = t  # seconds since the epoch, UTC
        self.recno = recno
        self.fields = fields  # list of str

    def text(self, name):
        names = FIELDS.get(self.type, ())
        i = names.index(name)
        return self.fields[i].strip() if i < len(self.fields) else ""

    def num(self, name):
        # a field as a number; ValueError if missing or not a number
        return float(self.text(name))


def parse_rows(rows, skipped=None):
    # CSV rows -> Records sorted by time; header rows, short rows and rows
    # with a bad timestamp or recno are skipped (counted in skipped[0])
    out = []
    for r in rows:
        if len(r) < 3 or r[1].strip() == "timestamp":
            if skipped is not None and r and r[:2] != ["type", "timestamp"]:
                skipped[0] += 1
            continue
        t = parse_time(r[1])
        try:
            recno = int(r[2])
        except ValueError:
            t = None
        if t is None:
            if skipped is not None:
                skipped[0] += 1
            continue
        out.append(Record(r[0].strip(), t, recno, [f.strip() for f in r[3:]]))
    out.sort(key=lambda rec: (rec.t, rec.recno))
    return out


def read_csv(path):
    # -> (records, number of skipped rows); OSError if the file cannot be read
    skipped = [0]
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return parse_rows(rows, skipped), skipped[0]


def of_type(records, rtype):
    return [r for r in records if r.type == rtype]
