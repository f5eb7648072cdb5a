# The OVMS v3 MQTT topic layout: prefix, metric topics, notifications, commands. Pure.
# Licence: MIT (this project).
#
#   <prefix>/metric/<name with "/" for ".">        retained, QoS 0 (v/b/soc, m/net/sq ...)
#   <prefix>/metric/s/v3/connected                 "yes" retained at connect; the broker's
#                                                  will "no" (retained) when the link dies
#   <prefix>/notify/<info|alert>/<subtype>         our alerts, QoS 1, from the outbox
#   <prefix>/notify/data/<subtype>                 history records, QoS 1, from the outbox
#   <prefix>/client/<id>/command/<n>               an SMS-style command (we subscribe)
#   <prefix>/client/<id>/response/<n>              its reply, QoS 1
#
# D76 (topics) prefix: parameter 19 when set (trailing "/" dropped), else "ovms/<user>/<vehicle
# id>" as OVMS v3 makes it: user = parameter 20, vehicle id = parameter 8; an empty user
# gives "ovms/<vehicle id>", an empty vehicle id "twizy". The client id is
# "ovms-<vehicle id>" (one connection per car: a second module with the same id would
# take over the broker session, as MQTT wants).
# D76 notifications: our alerts are "MP-0 PA<text>" lines (the v2 push); their subtype
# comes from what the text is: "ALERT!!! CRITICAL SOC..." alert/batt.soc.critical, the
# battery monitor's "Volts: ... Temps: ..." alert/batt.alert, a charge text ("Charging
# ...", "Charging Done", "Charging Stopped", "Not charging") info/charge.status, the
# switch-off power report ("Power -...") info/drive.report, a forwarded SMS ("SMS FROM:")
# info/sms.received, anything else info/text. A CR inside (the v2 server's line break)
# becomes LF. History records "MP-0 H<type>,<recno>,<lifetime>,<data>" go to
# notify/data/<type in lower case, "-" -> ".", leading "*" dropped> with the text after
# "MP-0 H" as payload: the format OVMS v3's "data" notifications carry. MQTT 3.1.1 has
# no message time: a record delivered after a link loss arrives with its recno and
# contents unchanged but without its original time (the v2 uplink keeps it, D41).

from ovms.config import (
    PARAM_MQTT_DISCOVERY,
    PARAM_MQTT_HOST,
    PARAM_MQTT_PREFIX,
    PARAM_MQTT_USER,
    PARAM_SERVERPASS,
    PARAM_UPLINK,
    PARAM_VEHICLEID,
)
from ovms.units import digits

UNKNOWN_COMMAND = "Unknown command"  # the v2 server's command 7 says the same
CONNECTED = "metric/s/v3/connected"
# what a session depends on: host, prefix, user, vehicle id, password (a change ends it)
SESSION_PARAMS = (PARAM_MQTT_HOST, PARAM_MQTT_PREFIX, PARAM_MQTT_USER, PARAM_VEHICLEID,
                  PARAM_SERVERPASS)  # fmt: skip
COMMAND_FILTER = "client/+/command/+"


def prefix(params):
    p = params[PARAM_MQTT_PREFIX].strip()
    while p.endswith("/"):
        p = p[:-1]
    if p:
        return p
    vid = params[PARAM_VEHICLEID].strip() or "twizy"
    user = params[PARAM_MQTT_USER].strip()
    return "ovms/%s/%s" % (user, vid) if user else "ovms/" + vid


def client_id(params):
    return "ovms-" + (params[PARAM_VEHICLEID].strip() or "twizy")


def metric(pre, name):
    return "%s/metric/%s" % (pre, name.replace(".", "/"))


def host_port(text, default_port=1883):
    # parameter 18 "host[:port]" -> (host, port) or None (empty or not a port)
    t = text.strip()
    if not t:
        return None
    i = t.rfind(":")
    if i < 0:
        return t, default_port
    host, port = t[:i], t[i + 1 :]
    if not host or not digits(port) or len(port) > 5 or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def mode(params):
    # parameter 21: "v2" (default, also for anything unknown), "mqtt" or "both"
    m = params[PARAM_UPLINK].strip().lower()
    return m if m in ("mqtt", "both") else "v2"


def discovery_on(params):
    return params[PARAM_MQTT_DISCOVERY].strip().lower() in ("on", "1", "yes")


def notification(pre, text):
    # an outbox entry's text -> (topic, payload) or None (not for MQTT)
    if text.startswith("MP-0 PA") or text.startswith("MP-0 PI"):
        body = text[7:].replace("\r\n", "\n").replace("\r", "\n")
        kind, sub = _classify(body)
        return "%s/notify/%s/%s" % (pre, kind, sub), body
    if text.startswith("MP-0 H"):
        rec = text[6:]
        i = rec.find(",")
        if i <= 0:
            return None
        name = rec[:i].lstrip("*-").lower().replace("-", ".")
        if not name or "+" in name or "#" in name or "/" in name:
            return None
        return "%s/notify/data/%s" % (pre, name), rec
    return None


def _classify(body):
    if body.startswith("ALERT!!! CRITICAL SOC"):
        return "alert", "batt.soc.critical"
    if body.startswith("Volts: "):
        return "alert", "batt.alert"
    if body.startswith("Charging") or body.startswith("Not charging"):
        return "info", "charge.status"
    if body.startswith("Power -"):
        return "info", "drive.report"
    if body.startswith("SMS FROM:"):
        return "info", "sms.received"
    return "info", "text"


def command(pre, topic):
    # "<pre>/client/<id>/command/<n>" -> the response topic, or None
    head = pre + "/client/"
    if not topic.startswith(head):
        return None
    rest = topic[len(head) :].split("/")
    if len(rest) != 3 or rest[1] != "command" or not rest[0] or not rest[2]:
        return None
    return "%s%s/response/%s" % (head, rest[0], rest[2])


def is_command(text, vehicle=None):
    # the text starts with an SMS command (the framework's or the vehicle's): the same
    # test as the v2 server's command 7 (anything else would be forwarded as "SMS FROM")
    from ovms import sms  # the interpreter's own parser (D90)

    return sms.is_command(text, vehicle)


def run_command(fw, vehicle, owner, text, now_s):
    # a command's text -> the response payload (D78): the SMS interpreter as the owner
    # with command 7's authority; anything that is no command: "Unknown command" (never
    # forwarded as "SMS FROM"); several replies joined by LF
    if fw is None:
        return "Error: no command interpreter"
    if not is_command(text, vehicle):
        return UNKNOWN_COMMAND
    replies = fw.handle(owner, text, now_s, trusted=True)
    return "\n".join(replies).replace("\r\n", "\n").replace("\r", "\n")
