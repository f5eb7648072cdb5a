# The server commands of the OVMS v2 protocol (§8): what a "MP-0 C<code>,<params>" does
# and its reply lines. Loaded by ovms/v2/handler.py only while a command runs and
# unloaded after it (D99, ovms/lazy.py); the state it reads and writes is the handler's
# (h.cfg, h.vehicle, h.fw, h.reboot_pending, the modem callbacks h.send_sms ...).
# Licence: MIT (this project).
#
# Decisions where the spec is silent (D43, one c per C, is ovms/v2/handler.py's):
# - C2/C4: k must be decimal digits, else "Parameter out of range". A failed
#   flash write answers ",1,Error: settings could not be saved" and restores
#   the parameters.
# - C7 runs the text through the SMS framework as the registered phone with
#   the authority of the DIAG console (trusted: the server connection is
#   authenticated with the server password). Several reply texts are joined
#   with CR; an empty reply is "c7,0,"; a text that is no command at all is
#   "c7,1,Unknown command" (and is not forwarded as "SMS FROM").
# - D90: whether the text is a command is decided by the interpreter's own parser
#   (ovms.sms.is_command, also used for MQTT commands): CR, LF and TAB separate words.
#   Before, C7 had a copy that did not treat TAB as a blank, so "\tSTAT" was "Unknown
#   command" here although the interpreter runs it.
# - C40/C41/C49 without their callback: ",1,Not available".
# - C41: today's server routes c replies FIFO (§8.6), so exactly one reply is
#   sent, after the answer arrived: "c41,0,<answer>" (commas -> ".", LF -> CR)
#   or "c41,1,Invalid USSD result". No early "c41,0". A modem action that must be
#   awaited (USSD, SMS, AT) is answered by a Deferred (ovms/v2/handler.py) whose
#   finish is one of ok40, ok49, ussd_reply: the function keeps this module's globals
#   alive until the answer is made, although the module itself is unloaded.

import binascii

from ovms.compat import const
from ovms.config import (
    FEATURE_CANWRITE,
    N_FEATURES,
    N_PARAMS,
    PARAM_GPRSAPN,
    PARAM_GPRSPASS,
    PARAM_GPRSUSER,
    PARAM_GSMLOCK,
    PARAM_MILESKM,
    PARAM_REGPHONE,
    PARAM_SERVERIP,
    PARAM_SERVERPASS,
    PARAM_VEHICLEID,
    PARAM_VEHICLETYPE,
    check_feature,
    check_param,
)
from ovms.sms import is_command, rollback, save_or_rollback
from ovms.sms_table import ERR_NOT_SAVED
from ovms.units import digits
from ovms.v2 import codec
from ovms.v2.handler import Deferred

_INVALID_SYNTAX = const("Invalid syntax")
_OUT_OF_RANGE = const("Parameter out of range")
_NOT_AVAILABLE = const("Not available")
_UNKNOWN_COMMAND = const("Unknown command")
_USSD_FAILED = const("Invalid USSD result")

_N_PARAMS_SETTABLE = const(24)  # C4 accepts 0..23
_REINIT_PARAMS = (PARAM_MILESKM, PARAM_VEHICLETYPE)
_NET_PARAMS = (
    PARAM_SERVERIP,
    PARAM_GPRSAPN,
    PARAM_GPRSUSER,
    PARAM_GPRSPASS,
    PARAM_VEHICLEID,
    PARAM_SERVERPASS,
    PARAM_GSMLOCK,
)


def run(h, code, has, params, now_s):
    # command `code` of handler h; has: a "," followed the number, params: the text after
    # it. Returns the reply lines ([] or None: "c<code>,3" unknown), or a Deferred.
    if h.vehicle is not None:
        cfg = h.cfg
        undo = list(cfg.params)
        try:
            out = h.vehicle.server_command(code, params)
        except OSError as e:  # C202/C204: the flash write failed, nothing changes
            rollback(cfg, undo, e, "v2")
            return [fail(code, ERR_NOT_SAVED)]
        if out is not None:
            return out
    if code == 1:
        f = h.cfg.features
        return ["MP-0 c1,0,%d,%d,%d" % (k, N_FEATURES, f[k]) for k in range(N_FEATURES)]
    if code == 2:
        return _set(h, 2, has, params, N_FEATURES)
    if code == 3:
        p = h.cfg.params
        return [
            "MP-0 c3,0,%d,%d,%s" % (k, N_PARAMS, "" if k == PARAM_SERVERPASS else p[k])
            for k in range(N_PARAMS)
        ]
    if code == 4:
        return _set(h, 4, has, params, _N_PARAMS_SETTABLE)
    if code == 5:
        h.reboot_pending = True  # Handler.after_send reboots once the reply is out
        return ["MP-0 c5,0"]
    if code == 7:
        return _sms_command(h, params, now_s)
    if code == 40:
        j = params.find(",")
        if not has or j < 0:
            return [fail(40, _INVALID_SYNTAX)]
        return _call(40, h.send_sms, (params[:j], params[j + 1 :]), ok40)
    if code == 41:
        if not has or not params:
            return [fail(41, _INVALID_SYNTAX)]
        return _call(41, h.send_ussd, (params,), ussd_reply)
    if code == 49:
        if not has or not params:
            return [fail(49, _INVALID_SYNTAX)]
        return _call(49, h.send_at, (params,), ok49)
    return ["MP-0 c%d,3" % code]


def app_set(h):
    # Z>0 (an app connected): S, L, W, F, D unconditionally (and remembered as sent);
    # loaded for it by ovms/v2/handler.py (D105)
    out = []
    for code in "SLWFD":
        text = firmware_f(h) if code == "F" else h.record(code)
        if text is None:
            continue
        h.vehicle.sent.keep(code, binascii.crc32(text.encode()))
        out.append(text)
    return out


def firmware_f(h):
    # F: firmware version, VIN, GSM signal, CAN write access, operator
    st = h.vehicle.st
    vin = st.vin_text() or ""
    net = h.fw.net if h.fw is not None else None
    operator = net.operator if net is not None else ""
    return "MP-0 F%s/RT/V%s,%s,%d,%d,RT,%s" % (
        h.version,
        h.hardware,
        vin,
        st.net_sq,
        h.cfg.features[FEATURE_CANWRITE],
        operator,
    )


def _call(code, cb, args, finish):
    if cb is None:
        return [fail(code, _NOT_AVAILABLE)]
    try:
        r = cb(*args)
    except OSError as e:
        return [fail(code, e)]
    if is_awaitable(r):
        return Deferred(r, finish, code)
    return finish(r)


def _set(h, code, has, params, limit):
    # C2 (features) / C4 (parameters): "<k>,<value>"
    if not has:
        return [fail(code, _INVALID_SYNTAX)]
    j = params.find(",")
    if j < 0:
        return [fail(code, _INVALID_SYNTAX)]
    k_text = params[:j]
    value = params[j + 1 :]
    if not digits(k_text) or int(k_text) >= limit:
        return [fail(code, _OUT_OF_RANGE)]
    k = int(k_text)
    # the same value checks as the SMS path (D39): a server cannot store what an SMS
    # could not (control characters towards AT commands, over-long values, caps)
    err = check_feature(k, value) if code == 2 else check_param(k, value)
    if err:
        return [fail(code, err.replace(",", ";"))]
    cfg = h.cfg
    undo = list(cfg.params)
    if code == 2:
        cfg.set_feature(k, value, save=False)
    else:
        cfg.set_param(k, value, save=False)
    if not save_or_rollback(cfg, undo):
        return [fail(code, ERR_NOT_SAVED)]
    fw = h.fw
    if fw is not None:
        reinit = (code == 2 and k == FEATURE_CANWRITE) or (code == 4 and k in _REINIT_PARAMS)
        if reinit and fw.on_vehicle_reinit is not None:
            fw.on_vehicle_reinit()
        if code == 4 and k in _NET_PARAMS and fw.on_net_change is not None:
            fw.on_net_change()
    return ["MP-0 c%d,0" % code]


def _sms_command(h, text, now_s):
    # C7: an SMS command run as the registered phone (§8.4)
    fw = h.fw
    if fw is None:
        return ["MP-0 c7,3"]
    if not is_command(text, h.vehicle):
        return [fail(7, _UNKNOWN_COMMAND)]
    replies = fw.handle(h.cfg.params[PARAM_REGPHONE], text, now_s, trusted=True)
    body = "\r".join(replies).replace("\r\n", "\r").replace("\n", "\r").replace(",", ";")
    return ["MP-0 c7,0," + body]


# ---- replies -----------------------------------------------------------------------
def is_awaitable(r):
    # coroutine / generator (MicroPython coroutines are generators)
    return r is not None and not isinstance(r, (str, bytes, bool, int)) and hasattr(r, "send")


def fail(code, reason):
    return "MP-0 c%d,1,%s" % (code, reason)


def ok40(result):
    return ["MP-0 c40,0"]


def ok49(result):
    return ["MP-0 c49,0"]


def ussd_reply(answer):
    if answer is None:
        return [fail(41, _USSD_FAILED)]
    answer = codec.text(answer) if isinstance(answer, bytes) else answer
    answer = answer.replace("\r\n", "\r").replace("\n", "\r").replace(",", ".")
    return ["MP-0 c41,0," + answer]
