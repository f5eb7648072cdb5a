# Notification dispatch of the Twizy module (spec §3.4, §3.7): pending alert parts and
# records of a Twizy (ovms/twizy/vehicle.py) handed to the Link's two channels.
# Licence: MIT (this project).
#
# The link (firmware/tasks/link.py; test and replay links alike):
#   server_ready() -> bool, send_server(lines) -> accepted (None counts as yes),
#   sms_ready() -> bool, send_sms(text), and optionally pump() after every pass.
# Alert texts are made when their channel takes them; with the durable outboxes the
# channels always take them, so the text is frozen at the event (D41). The
# send-on-change memory (v.sent, ovms/sent.py) moves forward only when the link ACCEPTED the
# record (it is in the durable outbox, which delivers it or counts it as dropped); a
# refused record is offered again next time, a refused alert part stays pending.

from ovms.config import CARBITS_NO_SMS, FEATURE_CARBITS
from ovms.sent import crc_of
from ovms.twizy import battery, power, records, state, texts


def _held(st):
    # D67 (exact=False): the charge requests of a charging <-> not charging change
    # wait until no change happened for CHG_HOLD_S ticks (the virtual clock: one
    # tick a second). Then a run of changes that ends where it began (one offline
    # 0x597 frame in a charge: stopped, resumed one second later) alerts nobody; a
    # real stop alerts CHG_HOLD_S s late, with the text of that moment.
    if st.tick - st.chg_change_tick < state.CHG_HOLD_S:
        return state.REQ_CHARGE | state.REQ_STAT
    if (
        st.requests & state.REQ_CHARGE
        and not st.chg_alert_keep
        and state.charging_phase(st) == st.chg_hold_from
    ):
        st.requests &= ~state.REQ_CHARGE
    return 0


def dispatch(v, link):
    # One pass. link: server_ready() -> bool, sms_ready() -> bool,
    # send_server(lines) (one transmission), send_sms(text) (to the owner).
    st = v.st
    cfg = v.cfg
    ip = cfg.notify_ip()
    sms = cfg.notify_sms()
    held = 0 if st.exact else _held(st)
    # route new requests to the configured channels; with no channel
    # configured alerts stay pending (harmless, spec §3.7)
    route = st.requests & (state.REQ_CHARGE | state.REQ_CRITICAL_SOC) & ~held
    route_n = st.notify & (state.NTF_BATTERY_ALERT | state.NTF_POWER)
    if route | route_n and (ip or sms):
        if ip:
            v._pend_ip_req |= route
            v._pend_ip_ntf |= route_n
        if sms:
            v._pend_sms_req |= route
            v._pend_sms_ntf |= route_n
        st.requests &= ~route
        st.notify &= ~route_n
        if route & state.REQ_CHARGE:
            st.chg_alert_keep = False
    if st.requests & state.REQ_STAT & ~held:
        v._pend_req_stat = True
        st.requests &= ~state.REQ_STAT
    if not battery.has_alert(st):
        # the same alert recurring after a reset is pushed again (spec §3.7)
        v._alert_pushed = None

    server = link.server_ready()
    if server:
        _server_pass(v, link)
    if (v._pend_sms_req or v._pend_sms_ntf) and link.sms_ready():
        _sms_pass(v, link)
    pump = getattr(link, "pump", None)  # the Link's outboxes (firmware/tasks/link.py)
    if pump is not None:
        pump()


def _server_pass(v, link):
    # each part leaves _pend_ip_* only when the link accepted it (frozen now)
    st = v.st
    req = v._pend_ip_req
    p = v._pend_ip_ntf
    keep_req = 0
    keep = 0
    # framework parts first: CHARGE alert, then STAT (S record if changed)
    if req & state.REQ_CHARGE:
        if link.send_server(["MP-0 PA" + texts.to_server(v.stat_text())]) is False:
            keep_req |= state.REQ_CHARGE
    if req & state.REQ_CRITICAL_SOC:
        if link.send_server(["MP-0 PA" + v.critical_soc_text()]) is False:
            keep_req |= state.REQ_CRITICAL_SOC
    if v._pend_req_stat:
        out = []
        crcs = []
        if records.status_ready(st):  # D68: no S record from placeholders
            _if_changed(v, "S", records.status_s(st, v.cfg.units()), out, crcs)
        # a live status message: when not taken (offline) the login's set sends it
        _offer(v, link, out, crcs)
        v._pend_req_stat = False
    # module parts, spec §3.7 order
    if p & state.NTF_BATTERY_ALERT:
        if battery.has_alert(st):
            text = battery.alert_text(st)
            crc = crc_of(text)
            if crc != v._alert_pushed:
                if link.send_server(["MP-0 PA" + text]) is False:
                    keep |= state.NTF_BATTERY_ALERT
                else:
                    v._alert_pushed = crc
        if not keep & state.NTF_BATTERY_ALERT:
            battery.mark_notified(st)  # D8
    if p & state.NTF_POWER:
        if link.send_server(["MP-0 PA" + v.power_text("\r")]) is False:
            keep |= state.NTF_POWER
    v._pend_ip_req = keep_req
    v._pend_ip_ntf = keep
    n = st.notify
    v.cadence.watch(st)  # every second: was the car on or charging (allocation-free)
    if n & (state.NTF_BATTERY_STATS | state.NTF_DATA_UPDATE) and v.cadence.economy():
        v.cadence.server_records(v, link)  # economy data profile: ovms/twizy/cadence.py
        n = st.notify
    if n & state.NTF_BATTERY_STATS:
        # no records before the first complete sensor set: they would only
        # carry placeholders and cost mobile data
        out = []
        crcs = []
        if st.sensor_sets and (st.exact or state.soc_known(st)):  # D68: SOC fields too
            _if_changed(v, "pack", battery.pack_record(st), out, crcs)
            for c in range(state.N_CELLS):
                _if_changed(v, c, battery.cell_record(st, c), out, crcs)
        st.notify &= ~state.NTF_BATTERY_STATS
        _offer(v, link, out, crcs)
    if n & state.NTF_DATA_UPDATE:
        out = []
        crcs = []
        _if_changed(v, "usage", power.usage_record(st), out, crcs)
        _if_changed(v, "gps", records.gps_log(st), out, crcs)
        st.notify = (st.notify & ~state.NTF_DATA_UPDATE) | state.NTF_BATTERY_STATS
        _offer(v, link, out, crcs)
    if n & state.NTF_STREAM_UPDATE:
        out = []
        crcs = []
        _if_changed(v, "gps", records.gps_log(st), out, crcs)
        st.notify &= ~state.NTF_STREAM_UPDATE
        _offer(v, link, out, crcs)


def _sms_pass(v, link):
    # texts are made now (the event's moment) and handed to the SMS channel
    st = v.st
    req = v._pend_sms_req
    p = v._pend_sms_ntf
    v._pend_sms_req = 0
    v._pend_sms_ntf = 0
    quiet = v.cfg.features[FEATURE_CARBITS] & CARBITS_NO_SMS
    texts_out = []
    if req & state.REQ_CHARGE:
        texts_out.append(v.stat_text())
    if req & state.REQ_CRITICAL_SOC:
        texts_out.append(v.critical_soc_text())
    if p & state.NTF_BATTERY_ALERT:
        texts_out.extend(battery.alert_texts(st))
        battery.mark_notified(st)  # D8
    if p & state.NTF_POWER:
        texts_out.append(v.power_text())
    if not quiet:
        for t in texts_out:
            link.send_sms(t)


def _if_changed(v, kind, text, out, crcs):
    crc = crc_of(text)
    if not v.sent.same(kind, crc):
        crcs.append((kind, crc))
        out.append(text)


def _offer(v, link, out, crcs):
    # one transmission; True if accepted (a legacy link returning None counts as yes)
    if not out:
        return True
    if link.send_server(out) is False:
        return False
    for kind, crc in crcs:
        v.sent.keep(kind, crc)
    return True
