# The one network status of the module: what the modem and uplink tasks know about the
# link, read by the SMS interpreter (DIAG, MODULE?, forwarding), the v2 protocol and the
# vehicle (DEBUG's NET= part, records). Licence: MIT (this project).
#
# D93: one object, framework level. The tasks write it (firmware/tasks/uplink.py: logged
# in or not, apps reset at logout; the server protocol: apps; the app: crash facts), the
# core only reads it. It replaces the vehicle's NetInfo and the SMS interpreter's
# NetStatus, which the uplink had to write twice: the interpreter hands its NetStatus to
# the vehicle (ovms.sms, vehicle.net), so both see the same values. server_ok is a bool
# (DEBUG prints it with %d: "S1" / "S0", as before).


# D130: an object's attributes are a hash table that grows in the steps of the modules'
# globals (..., 12, 17, 23 slots of 8 bytes): 18 attributes took 23 slots (192 bytes).
# The three values the 2013 texts show but nothing here tracks (DIAG's LED codes,
# DEBUG's MSP=) are class attributes, 0 until something sets them on the object: 15
# attributes, 17 slots (144 bytes); the class's own table grows 4 -> 6 slots (+16).
class NetStatus:
    red_led = 0  # LED codes as shown by DIAG
    grn_led = 0
    send_pending = 0  # DEBUG "MSP=<n>"

    def __init__(self):
        self.operator = ""  # current GSM operator (short name), "" = none
        self.state = 0  # network state machine code, shown as 0xNNNN (DIAG)
        self.link = 0  # modem/GPRS link state code (DEBUG "NET=L<n>")
        self.gprs_ok = False  # GSM registered (and GPRS up if an APN is set)
        self.server_ok = False  # logged in to the OVMS server
        self.apps = 0  # apps connected to the server (Z<n>)
        self.crashes = 0  # crash resets counted by the firmware
        self.reset_causes = ()  # last reset cause names: "BOR" "POR" "PD" "TO" ...
        self.crash_reason = None  # 4 hex digits of reset-cause bits (the crash record)
        self.crash_text = None  # the last crash, one line (the crash record)
        self.v12_dv = 0  # 12 V line in 1/10 V, 0 = not measured
        self.outbox_dropped = 0  # entries the full outboxes dropped (uplink keeps it)
        self.power_line = None  # f() -> DIAG's "Power:" line (the power task)
        self.mqtt_line = None  # f() -> DIAG's MQTT line (the MQTT task)
        self.datause = None  # the month's data counter (ovms.datause.DataUse)
