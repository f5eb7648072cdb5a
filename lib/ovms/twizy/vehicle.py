# The Twizy vehicle module: frames in, one tick per second, texts and records out.
# Licence: MIT (this project).
#
# This is the object the firmware and the tools talk to:
#   frame(can_id, data, dlc)      every CAN frame (allocation-free)
#   gps_fix(...) / gps_lost()     position input from the GPS driver
#   tick()                        once per second (spec §3.1, exact order)
#   sms(word, args)               vehicle SMS commands (spec §7), None if not ours
#   server_command(code, params)  MSG commands 6, 200-208 (spec §8.8)
#   dispatch(link)                work off pending notifications (spec §3.4, §3.7)
# Time never comes from a clock here: one tick() is one second.
#
# D69: Twizy(cfg) is the 2013 RT 2.5 module to the byte (the spec's vectors);
# Twizy(cfg, exact=False), built by the firmware and the replay tool, adds what the
# real traces showed (tests: test_truth_*.py): D65 charge range scaled from real
# ranges only, D66 battery min/max afresh at switch-on, D67 charge alerts debounced,
# D68 "no data yet" texts and no S record before real data.
#
# D129: resident: the feature numbers are read as config.FEATURE_X, the tables only this
# module reads are folded, what Twizy() makes once is imported where it makes it and
# hex4 where DEBUG formats: 17 names, 17 slots (was 28 names, 29 slots: 240 -> 144
# bytes).

from ovms import config, lazy
from ovms.twizy import battery, charge, notify, power, records, state, texts
from ovms.twizy.frames import decode
from ovms.units import atoi, km2mi

_VEHICLE_TYPE = const("RT")
_DEBUG_CHUNKS = const("ovms.twizy.debug_chunks")  # loaded per DEBUG n (D99)
_SERVER_CMDS = const("ovms.twizy.server_cmds")  # loaded per server command (D99)
_VEHICLE_VERSION = const("2.5")
HELP_SUFFIX = const(" \r\nTwizy Commands: DEBUG STAT RANGE CA HELP BATT POWER")
COMMANDS = const(("DEBUG", "STAT", "RANGE", "CA", "HELP", "BATT", "POWER"))
_SETTERS = const(("RANGE", "CA"))

_CRITICAL_SOC_PCT = const(5)
_CRITICAL_SOC_REPEAT_S = const(12 * 3600)
_GPS_FRESH_S = const(120)
_REQ_SHIFT = const(8)  # pending_flags(): REQ_* bits above the NTF_* byte


class Twizy:
    def __init__(self, config, exact=True):
        # exact: D69 (see the head of this file)
        from ovms.net import NetStatus
        from ovms.sent import SentMemory
        from ovms.twizy import cadence

        self.cfg = config
        self.st = state.State(exact)
        # the framework's network status (ovms/net.py, D93): read here (DEBUG), written
        # by the tasks; the SMS interpreter puts its own in (one object for both)
        self.net = NetStatus()
        self._slot = bytearray(8)  # reused frame buffer for injected chunks
        # the send-on-change memory of every server record (ovms/sent.py, D94)
        self.sent = SentMemory()
        self.cadence = cadence.Cadence(config)  # when records go out (data profile, D70)
        self._alert_pushed = None  # crc32 of the last battery alert pushed
        # pending notification parts per channel (spec §3.4, §3.7): a part
        # stays pending until its channel is available; framework requests and
        # module flags in separate fields (their bit values overlap)
        self._pend_ip_req = 0  # REQ_CHARGE | REQ_CRITICAL_SOC for the server
        self._pend_ip_ntf = 0  # NTF_BATTERY_ALERT | NTF_POWER for the server
        self._pend_sms_req = 0  # the same two kinds for the owner's SMS
        self._pend_sms_ntf = 0
        self._pend_req_stat = False

    # ---- inputs -------------------------------------------------------------
    def frame(self, can_id, data, dlc):
        decode(self.st, can_id, data, dlc)

    def gps_fix(self, lat_e6, lon_e6, altitude_m, direction_deg):
        st = self.st
        st.lat_e6 = lat_e6
        st.lon_e6 = lon_e6
        st.altitude = altitude_m
        st.direction = direction_deg
        st.gpslock = 1
        st.stale_gps = _GPS_FRESH_S

    def gps_lost(self):
        self.st.gpslock = 0

    # ---- the per-second tick (spec §3.1) ------------------------------------
    def tick(self):
        st = self.st
        f = self.cfg.features
        # framework part, before the module's tick
        st.tick += 1
        if st.stale_gps > 0:
            st.stale_gps -= 1
        if st.car_stale_temps > 0:
            st.car_stale_temps -= 1
        # 1. features; all comparisons below in miles
        units = self.cfg.units()
        suff_soc = f[config.FEATURE_SUFFSOC]
        suff_range = f[config.FEATURE_SUFFRANGE]
        max_range = f[config.FEATURE_MAXRANGE]
        if units == "K":
            suff_range = km2mi(suff_range)
            max_range = km2mi(max_range)
        # 2. generic values
        st.car_soc = (st.soc + 50) // 100
        st.car_odometer = km2mi(st.odo // 10)
        kmh = st.speed // 100
        st.car_speed = kmh if units == "K" else km2mi(kmh)
        if st.status & state.STATUS_CHG_MASK == state.STATUS_CHARGING:
            st.car_doors1 |= state.DOORS1_CHARGING | state.DOORS1_PORT
        else:
            st.car_doors1 &= ~state.DOORS1_CHARGING
        # 3. switch-on / switch-off
        if st.status & state.STATUS_KEYON:
            if not st.car_doors1 & state.DOORS1_CARON:
                st.car_doors1 |= state.DOORS1_CARON
                battery.reset(st, st.exact)  # D66: exact=False starts min/max afresh
                power.reset(st)
        elif st.car_doors1 & state.DOORS1_CARON:
            st.car_doors1 &= ~state.DOORS1_CARON
            if power.use_total(st) >= power.WH:  # D3: at least 1 Wh over all sections
                st.notify |= state.NTF_POWER
        # 4. battery monitor
        if st.sensor_state == state.SENSORS_READY:
            battery.collect(st)
        # 5. level sections
        power.level_tick(st)
        # 6. ranges and charge state machine
        charge.tick(st, suff_soc, suff_range, max_range)
        # 7. streaming
        if st.speed > 0 and f[config.FEATURE_STREAM] > 0 and st.tick % 5 == 0:
            st.notify |= state.NTF_STREAM_UPDATE
        records.announce(st)  # D68: the first real status
        if st.tick % 60 == 0:
            self._minute(f[config.FEATURE_MINSOC])

    def _minute(self, min_soc):
        st = self.st
        # D68: no SOC alarm from the 50 % placeholder (exact=False)
        known = st.exact or state.soc_known(st)
        # framework minimum-SOC check; D16: also send the status text as an alert
        if not st.minsoc_notified:
            if st.car_soc < min_soc and known:
                st.requests |= state.REQ_STAT | state.REQ_CHARGE
                st.chg_alert_keep = True  # not a charge state change (D67)
                st.minsoc_notified = True
        elif st.car_soc > min_soc + 2:
            st.minsoc_notified = False
        # framework critical SOC: car off and SOC < 5 %, at most every 12 h
        if not st.car_doors1 & state.DOORS1_CARON and st.car_soc < _CRITICAL_SOC_PCT and known:
            last = st.critical_soc_tick
            if last is None or st.tick - last >= _CRITICAL_SOC_REPEAT_S:
                st.critical_soc_tick = st.tick
                st.requests |= state.REQ_CRITICAL_SOC
        st.notify |= state.NTF_DATA_UPDATE

    # ---- texts ---------------------------------------------------------------
    def units(self):
        return self.cfg.units()

    def stat_text(self):
        return texts.stat_text(self.st, self.cfg.units())

    def power_text(self, nl="\n"):
        return power.report_text(self.st, nl)

    def critical_soc_text(self):
        return "ALERT!!! CRITICAL SOC LEVEL APPROACHED (%d%% SOC)" % self.st.car_soc

    def version_text(self):
        return _VEHICLE_TYPE + _VEHICLE_VERSION

    def debug_text(self):
        from ovms.units import hex4  # DEBUG only

        st = self.st
        n = self.net
        return (
            " STS=%s DS1=%s SQ=%d NET=L%d/S%d/A%d NTF=%s MSP=%d"
            "\n# vw=%s va=%s lva=%s tw=%s ta=%s lta=%s ss=%d"
            % (
                hex4(st.status),
                hex4(st.car_doors1),
                st.net_sq,
                n.link,
                n.server_ok,
                n.apps,
                hex4(self.pending_flags()),
                n.send_pending,
                hex4(st.volt_watches),
                hex4(st.volt_alerts),
                hex4(st.last_volt_alerts),
                hex4(st.temp_watches),
                hex4(st.temp_alerts),
                hex4(st.last_temp_alerts),
                st.sensor_state,
            )
        )

    def pending_flags(self):
        # DEBUG's NTF=: module flags in the low byte, pending framework requests
        # shifted into the high byte (as the 2013 module packed them)
        req = self._pend_ip_req | self._pend_sms_req
        return self.st.notify | (req << _REQ_SHIFT) | self._pend_ip_ntf | self._pend_sms_ntf

    def inject(self, chunk):
        # a canned chunk through the normal decoders, no tick (D22); the table is
        # loaded only when the owner asks for it, and unloaded after (D99)
        slot = self._slot
        try:
            for can_id, data in lazy.load(_DEBUG_CHUNKS).frames(chunk):
                n = len(data)
                slot[:n] = data
                decode(self.st, can_id, slot, n)
        finally:
            lazy.unload(_DEBUG_CHUNKS)

    # ---- SMS commands (spec §7) ----------------------------------------------
    def match(self, word):
        # The Twizy table entry a first word matches by prefix (STATUS, BATTERY,
        # RANGE?, CA?), or None. Decision D26: the commands that change settings
        # (RANGE, CA) need the exact word or word + "?", so an owner's "Call me"
        # or "Cash" does not wipe the charge alerts.
        for c in COMMANDS:
            if word.startswith(c):
                if c in _SETTERS and word != c and word != c + "?":
                    return None
                return c
        return None

    def sms(self, word, args):
        # word: first word upper-cased; args: arguments (password removed).
        # Returns a list of SMS texts, or None if the word is not ours.
        cmd = self.match(word)
        if cmd is None:
            return None
        st = self.st
        cfg = self.cfg
        units = cfg.units()
        if cmd == "STAT":
            return [self.stat_text()]
        if cmd == "RANGE":
            query = word[5:6] == "?" or (len(args) == 1 and args[0] == "?")  # D17
            if not query:
                self.set_feature(config.FEATURE_MAXRANGE, atoi(args[0]) if args else 0)
            return [texts.range_text(cfg.features, units)]
        if cmd == "CA":
            query = word[2:3] == "?" or (len(args) == 1 and args[0] == "?")
            if not query:
                soc_pct = 0
                rng = 0
                for a in args:
                    if a.endswith("%"):
                        soc_pct = atoi(a)
                    else:
                        rng = atoi(a)
                self.set_feature(config.FEATURE_SUFFSOC, soc_pct, save=False)
                self.set_feature(config.FEATURE_SUFFRANGE, rng)
            return [texts.ca_text(st, cfg.features, units)]
        if cmd == "BATT":
            a = args[0].lower() if args else ""
            a1 = a[:1]
            a2 = a[1:2]
            if a1 == "r":
                battery.reset(st)
                return ["Battery monitor reset."]
            if not st.exact and not st.sensor_sets:
                return [texts.NO_BATTERY_DATA]  # D68: not "P:0.00V" nor "Volts: OK"
            if a1 == "v":
                return battery.volt_texts(st, a2 == "d")
            if a1 == "t":
                return [battery.temp_text(st, a2 == "d")]
            out = battery.alert_texts(st)
            battery.mark_notified(st)
            return out
        if cmd == "POWER":
            return [self.power_text()]
        if cmd == "DEBUG":
            if args:
                self.inject(atoi(args[0]))
            return [self.debug_text()]
        # HELP: the framework prints its list and appends HELP_SUFFIX
        return [HELP_SUFFIX]

    def set_feature(self, k, value, save=True):
        # D5: full integer width, negatives become 0. Stored as decimal text,
        # empty for 0 (a slot not given is persisted empty).
        if value < 0:
            value = 0
        self.cfg.set_feature(k, ("%d" % value) if value else "", save)

    # ---- server commands (spec §8.8): ovms/twizy/server_cmds.py ------------------------
    def server_command(self, code, params):
        # the reply lines of MSG command 6, 200-208 (one transmission), or None. D99: the
        # module is imported for this command only (a few a day), then unloaded
        # (ovms/lazy.py): heap on a 64 KB board. ImportError / MemoryError go to the
        # caller (ovms/v2/handler.py answers "Internal error").
        try:
            return lazy.load(_SERVER_CMDS).command(self, code, params)
        finally:
            lazy.unload(_SERVER_CMDS)

    def server_record(self, code):  # the v2 status set's hook (ovms/v2/periodic.py)
        return records.server_record(self.st, self.cfg.units(), code)

    # ---- notification dispatch (spec §3.4, §3.7): ovms/twizy/notify.py ----------------
    def dispatch(self, link):
        notify.dispatch(self, link)
