# Home Assistant MQTT discovery: one retained config topic per metric, behind
# parameter 22 (lib/ovms/mqtt/topics.py). Pure.
# Licence: MIT (this project).
#
#   for topic, payload in configs(pre, node, table, booleans, name, version): publish
#
# Topic: homeassistant/<sensor|binary_sensor>/<node>/<metric, "." -> "_">/config, node
# = the MQTT client id with anything but letters, digits, "_" and "-" replaced by "_".
# Payload (JSON): name, unique_id, state_topic (the metric's OVMS v3 topic), the unit
# and device class of the vehicle's metric table, state_class "measurement" for the
# numbers, availability on <prefix>/metric/s/v3/connected ("yes"/"no", which the
# broker's will keeps true when the module drops off), one device per car.
# D79 (Home Assistant): lists (cell voltages, module temperatures) and texts (charge
# state, vehicle type) get neither a unit nor a state class (Home Assistant would refuse
# their values as numbers); booleans ("yes"/"no") are binary sensors. Switching
# parameter 22 off stops the config topics being sent; entities already known to Home
# Assistant stay until deleted there (no clearing on every connect: mobile data).

import json

from ovms.mqtt.topics import CONNECTED, metric

PREFIX = "homeassistant"
_NUMERIC_UNITS = ("%", "km", "V", "A", "kW", "°C", "m", "km/h", "dBm", "°")
_TEXTS = ("v.c.state", "v.type", "v.b.c.voltage", "v.b.c.temp")


def node_id(client_id):
    ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
    return "".join([c if c in ok else "_" for c in client_id])


def configs(pre, client_id, table, booleans, car_name, version):
    node = node_id(client_id)
    device = {
        "identifiers": [node],
        "name": car_name,
        "manufacturer": "Renault",
        "model": "Twizy (OVMS RT2.5 module)",
        "sw_version": version,
    }
    out = []
    for name, unit, dclass, _slow, label in table:
        obj = name.replace(".", "_")
        cfg = {
            "name": label,
            "unique_id": "%s_%s" % (node, obj),
            "object_id": "%s_%s" % (node, obj),
            "state_topic": metric(pre, name),
            "availability_topic": "%s/%s" % (pre, CONNECTED),
            "payload_available": "yes",
            "payload_not_available": "no",
            "device": device,
        }
        if name in booleans:
            comp = "binary_sensor"
            cfg["payload_on"] = "yes"
            cfg["payload_off"] = "no"
            if dclass:
                cfg["device_class"] = dclass
        else:
            comp = "sensor"
            if name not in _TEXTS and unit in _NUMERIC_UNITS:
                cfg["unit_of_measurement"] = unit
                cfg["state_class"] = "measurement"
                if dclass:
                    cfg["device_class"] = dclass
        topic = "%s/%s/%s/%s/config" % (PREFIX, comp, node, obj)
        out.append((topic, json.dumps(cfg)))
    return out
