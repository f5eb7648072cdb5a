# Wiring of the MQTT uplink into the app (firmware/app.py): which uplinks run
# (parameter 21), the MQTT uplink with its own durable outbox, and the vehicle's Link
# that feeds it. Licence: MIT (this project).
#
#   run_v2, app.mqtt = build(app, open_stream, make_outbox, metrics)  # MqttUplink/None
#   link = make_link(app, sms_outbox)                   # when app.mqtt is not None
#
# Parameter 21: "v2" (or empty) the OVMS v2 server only (2013 behaviour), "mqtt" the
# broker only, "both" both. A board (the simulation: tools/sim.py --mqtt) may set MQTT =
# "host:port", MQTT_PREFIX and MQTT_UPLINK: they go into parameters 18/19/21 in RAM (not
# saved; parameter 21 "mqtt" unless MQTT_UPLINK says otherwise).
# D75 ("both" on a SIM800): two TCP connections at once need AT+CIPMUX=1, which changes
# every CIPSEND/CIPRXGET/CIPCLOSE line, the +RECEIVE/CLOSED URCs, the recovery ladder and
# the emulator: a driver project of its own, not done here. On a board whose IP path is
# the SIM800 (NET "modem", one connection, CIPMUX=0) "both" therefore runs the v2 server
# only, logs the warning ONE_LINK and DIAG shows it; "mqtt" runs MQTT only. Boards with
# their own IP stack (NET "native") run both.
# Outboxes: "mqtt" uses its own durable outbox (<OUTBOX_PATH>/mqtt); "both" gives each
# uplink its own (lib/ovms/mqtt/tee.py), so neither peer waits for the other.
# Mobile data: firmware/tasks/dataplan.install wraps app.mqtt.open_stream, so the MQTT
# connection counts in the month counter like the v2 one; the economy link plan (parked
# link down) is the v2 uplink's only.
# A change of parameter 21 takes effect at the next boot; a change of 18, 19, 20, 9
# ends the MQTT session at once and the next one uses the new values.

# Heap (issue 7): the MQTT task, its codec and the outbox tee are imported only when
# parameter 21 selects MQTT; a v2-only module (the default) keeps ≈ 4 KB of module
# objects out of RAM. The vehicle's metrics module comes from the app the same way.

from firmware.tasks.link import Link
from ovms import log
from ovms.config import PARAM_MQTT_HOST, PARAM_MQTT_PREFIX, PARAM_UPLINK
from ovms.mqtt import topics

ONE_LINK = "MQTT: off (both needs 2 links, SIM800 has 1)"


def _board_overrides(app):
    b = app.board
    host = getattr(b, "MQTT", None)
    if host:
        p = app.cfg.params
        p[PARAM_MQTT_HOST] = host
        p[PARAM_UPLINK] = getattr(b, "MQTT_UPLINK", "mqtt")
        pre = getattr(b, "MQTT_PREFIX", None)
        if pre:
            p[PARAM_MQTT_PREFIX] = pre


def selection(app):
    # -> (run the v2 uplink, run the MQTT uplink)
    _board_overrides(app)
    mode = topics.mode(app.cfg.params)
    if mode == "v2":
        return True, False
    if mode == "mqtt":
        return False, True
    if getattr(app.board, "NET", "modem") == "modem":  # D75
        log.get("mqtt").warning(ONE_LINK)
        app.fw.net.mqtt_line = lambda: ONE_LINK  # DIAG says why
        return True, False
    return True, True


def build(app, open_stream, make_outbox, metrics):
    # -> (run the v2 uplink, the MQTT uplink or None); metrics() -> the vehicle's module
    # (values, TABLE, BOOLEANS: ovms/twizy/v3metrics.py), called only when MQTT runs
    run_v2, run_mqtt = selection(app)
    if not run_mqtt:
        return run_v2, None
    from firmware.tasks.mqtt import MqttUplink, Timing

    metrics = metrics()  # the vehicle's metrics module, imported now
    b = app.board
    if getattr(app, "sms_outbox", None) is None:
        app.sms_outbox = make_outbox(b, "sms")
    m = MqttUplink(
        open_stream,
        app.cfg,
        app.vehicle,
        app.fw,
        metrics=metrics.values,
        table=metrics.TABLE,
        booleans=metrics.BOOLEANS,
        outbox=make_outbox(b, "mqtt"),
        sms_outbox=None if run_v2 else app.sms_outbox,  # the v2 sender reports its drops
        timing=Timing(),
        version=app.fw.version,
        status=not run_v2,
    )
    app.fw.net.mqtt_line = lambda: diag_line(m)  # DIAG (ovms/sms_cmds.py)
    return run_v2, m


def diag_line(m):
    # DIAG's short MQTT line (an SMS): state, sessions, link errors, refusals, queue
    return "MQTT:%s s%d e%d a%d q%d" % (
        "up" if m.logged_in else "down",
        m.logins,
        m.errors,
        m.auth_failures,
        m.outbox.queued(),
    )


class MqttLink(Link):
    # the vehicle's channels when MQTT runs: the server channel is ready when either
    # uplink is configured (v2: parameters 4 and 8; MQTT: parameter 18)
    def server_ready(self):
        if self.outbox is not None and topics.host_port(self.cfg.params[PARAM_MQTT_HOST]):
            return True
        return Link.server_ready(self)


def make_link(app, sms_outbox):
    m = app.mqtt
    up = app.uplink
    if up is not None:  # both: every entry into both outboxes
        from ovms.mqtt.tee import OutboxTee

        ob = OutboxTee(up.outbox, m.outbox)
        return MqttLink(app.cfg, app.modem, up, sms_outbox=sms_outbox, outbox=ob)
    return MqttLink(app.cfg, app.modem, m, sms_outbox=sms_outbox)
