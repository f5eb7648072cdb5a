# Car-side OVMS v2 message handling (lib/ovms/v2/handler.py): every server
# code and command with its exact reply, records and the periodic policy.
# Both runtimes. Licence: MIT (this project).
from twizy_helpers import feed, fresh

from ovms.sms import SmsInterpreter
from ovms.v2 import codec, login
from ovms.v2.handler import Deferred, Handler
from ovms.v2.periodic import interval_s, periodic_due

PHONE = "+4917012345"


def _rand(n):
    return bytes([(7 * i + 3) & 255 for i in range(n)])


def _handler(units="K", params=None, **kw):
    p = {0: PHONE}
    if params:
        for k in params:
            p[k] = params[k]
    v = fresh(units, params=p)
    fw = SmsInterpreter(v.cfg, v)
    h = Handler(v.cfg, v, fw, randbytes=_rand, **kw)
    h.connected(0)
    return h


def _ca_handler():
    # soc 5000, soc_min 5000, soc_min_range 35 (host_tests/test_commands.py)
    h = _handler()
    v = h.vehicle
    feed(v, "597: 00 95 21 41 29 00 01 35")
    feed(v, "599: 00 00 0D 80 FF 23 00 00")
    feed(v, "155: 07 97 C7 54 4E 20 00 00")
    return h


class _Store:
    def __init__(self, fail=False):
        self.fail = fail
        self.saves = 0

    def save(self, cfg):
        if self.fail:
            raise OSError(28)
        self.saves += 1


# ---- server messages (§10) ---------------------------------------------------------
def test_ping_and_ignored_codes():
    h = _handler()
    assert h.handle("MP-0 AFA") == ["MP-0 a"]
    assert h.handle("MP-0 A") == ["MP-0 a"]
    for m in ("MP-0 a", "MP-0 ETxyz", "MP-0 h1", "MP-0 T0", "MP-0 ", "MP-0", "MP-0 Qfoo"):
        assert h.handle(m) == []


def test_z_apps():
    h = _handler()
    assert h.handle("MP-0 Z0") == []
    assert h.apps == 0
    out = h.handle("MP-0 Z2")
    assert h.apps == 2 and h.vehicle.net.apps == 2
    assert [m[:6] for m in out] == ["MP-0 S", "MP-0 L", "MP-0 W", "MP-0 F", "MP-0 D"]
    assert out[2] == "MP-0 W0,0,0,0,0,0,0,0,-1"
    assert out[3] == "MP-0 F3.0.0/RT/VHOST,,0,0,RT,"
    assert out[1] == "MP-0 L0.000000,0.000000,0,0,0,-1"
    # unconditional: a second Z>0 sends the set again
    assert h.handle("MP-0 Z1") == out


def test_f_record_fields():
    h = _handler()
    v = h.vehicle
    v.st.vin[:] = b"1234567"  # as decoded from 0x69F (vin[0] != 0: arrived, D130)
    v.st.net_sq = 17
    h.fw.net.operator = "T-Mobile"
    v.cfg.set_feature(15, "1", save=False)
    from ovms.v2 import commands  # the app set's (D105)

    assert commands.firmware_f(h) == "MP-0 F3.0.0/RT/VHOST,1234567,17,1,RT,T-Mobile"


def test_l_record():
    h = _handler()
    v = h.vehicle
    v.gps_fix(52522468, -13409012, 46, 90)
    assert h.record("L") == "MP-0 L52.522468,-13.409012,90,46,1,120"


def test_login_lines():
    h = _handler()
    assert h.connected(5) == ["MP-0 H*-OVM-DebugCrash,0,2592000,3.0.0/RT2.5/VHOST,0,0000,0"]
    # the boot's crash report (set by firmware/app.py) goes into the record
    n = h.fw.net
    n.crashes, n.crash_reason, n.crash_text = 2, "0008", "modem: MemoryError\r\n"
    assert h.connected(6) == [
        "MP-0 H*-OVM-DebugCrash,0,2592000,3.0.0/RT2.5/VHOST,2,0008,0,modem: MemoryError  "
    ]
    p = _handler(params={10: "PARANOID"})
    out = p.connected(0)
    tok = login.make_token(_rand)
    assert out[0] == "MP-0 ET" + tok
    assert out[1].startswith("MP-0 H*-OVM-DebugCrash")
    assert p.connected(0)[0] == "MP-0 ET" + tok  # token kept across reconnects


# ---- commands (§8) ---------------------------------------------------------------------
def test_c_vehicle_first():
    h = _ca_handler()
    assert h.handle("MP-0 C204,30,60") == ["MP-0 c204,0,30,60,0,19,124"]
    assert h.handle("MP-0 C203") == ["MP-0 c203,0,30,60,0,19,124"]
    assert h.handle("MP-0 C201") == ["MP-0 c201,0,0"]
    assert h.handle("MP-0 C202,80") == ["MP-0 c202,0,80"]
    out = h.handle("MP-0 C6")
    assert out[0].startswith("MP-0 PA") and out[1] == "MP-0 c6,0"
    assert h.handle("MP-0 C205") == ["MP-0 c205,0"]


def test_c1_features():
    h = _handler()
    h.cfg.set_feature(9, "20", save=False)
    out = h.handle("MP-0 C1")
    assert len(out) == 16
    assert out[0] == "MP-0 c1,0,0,16,0"
    assert out[9] == "MP-0 c1,0,9,16,20"
    assert out[15] == "MP-0 c1,0,15,16,0"


def test_c2_set_feature():
    reinit = []
    h = _handler()
    h.fw.on_vehicle_reinit = lambda: reinit.append(1)
    store = _Store()
    h.cfg.store = store
    assert h.handle("MP-0 C2,9,25") == ["MP-0 c2,0"]
    assert h.cfg.features[9] == 25 and h.cfg.params[25] == "25" and store.saves == 1
    assert h.handle("MP-0 C2,3,7") == ["MP-0 c2,0"]
    assert h.cfg.features[3] == 7
    assert reinit == []
    assert h.handle("MP-0 C2,15,1") == ["MP-0 c2,0"]
    assert reinit == [1]
    assert h.handle("MP-0 C2,16,1") == ["MP-0 c2,1,Parameter out of range"]
    assert h.handle("MP-0 C2,x,1") == ["MP-0 c2,1,Parameter out of range"]
    assert h.handle("MP-0 C2,-1,1") == ["MP-0 c2,1,Parameter out of range"]
    assert h.handle("MP-0 C2") == ["MP-0 c2,1,Invalid syntax"]
    assert h.handle("MP-0 C2,9") == ["MP-0 c2,1,Invalid syntax"]
    h.cfg.store = _Store(fail=True)
    assert h.handle("MP-0 C2,9,40") == ["MP-0 c2,1,Error: settings could not be saved"]
    assert h.cfg.features[9] == 25 and h.cfg.params[25] == "25"


def test_c3_params():
    h = _handler(params={4: "ovms.example.org", 9: "SECRET", 3: "SMS,IP"})
    out = h.handle("MP-0 C3")
    assert len(out) == 32
    assert out[0] == "MP-0 c3,0,0,32," + PHONE
    assert out[3] == "MP-0 c3,0,3,32,SMS,IP"
    assert out[4] == "MP-0 c3,0,4,32,ovms.example.org"
    assert out[9] == "MP-0 c3,0,9,32,"
    assert out[31] == "MP-0 c3,0,31,32,"


def test_c4_set_param():
    net = []
    reinit = []
    h = _handler()
    h.fw.on_net_change = lambda: net.append(1)
    h.fw.on_vehicle_reinit = lambda: reinit.append(1)
    assert h.handle("MP-0 C4,3,SMS,IP") == ["MP-0 c4,0"]
    assert h.cfg.params[3] == "SMS,IP"
    # over-long values are refused, never clipped (D39: the SMS path's checks)
    r = h.handle("MP-0 C4,5," + "x" * 40)
    assert r == ["MP-0 c4,1,Error: parameter 5 is longer than 31 characters"], r
    assert h.cfg.params[5] == ""
    assert h.handle("MP-0 C4,5,inter\rnet")[0].startswith("MP-0 c4,1,")
    assert h.handle("MP-0 C2,9,500")[0].startswith("MP-0 c2,1,")
    assert net == []
    assert h.handle("MP-0 C4,5,internet") == ["MP-0 c4,0"]
    assert net == [1] and reinit == []
    assert h.handle("MP-0 C4,2,M") == ["MP-0 c4,0"]
    assert reinit == [1] and h.cfg.units() == "M"
    assert h.handle("MP-0 C4,23,") == ["MP-0 c4,0"]
    assert h.handle("MP-0 C4,24,1") == ["MP-0 c4,1,Parameter out of range"]
    assert h.handle("MP-0 C4,5") == ["MP-0 c4,1,Invalid syntax"]
    assert h.handle("MP-0 C4") == ["MP-0 c4,1,Invalid syntax"]


def test_c5_reboot_after_send():
    boots = []
    h = _handler(on_reboot=lambda: boots.append(1))
    assert h.handle("MP-0 C5") == ["MP-0 c5,0"]
    assert boots == []  # not before the reply is out
    h.after_send()
    assert boots == [1]
    h.after_send()
    assert boots == [1]


def test_c7_sms_command():
    h = _ca_handler()
    out = h.handle("MP-0 C7,VERSION")
    assert out == ["MP-0 c7,0,OVMS Firmware version: 3.0.0/RT2.5/VHOST"]
    out = h.handle("MP-0 C7,CA 30 60%")
    assert out == ["MP-0 c7,0,Charge Alert: 60% or 30 km\r Time: 19 min.\r Full charge: 124 min."]
    out = h.handle("MP-0 C7,PARAMS?")
    assert out[0].startswith("MP-0 c7,0,") and "," not in out[0][10:]
    assert h.handle("MP-0 C7,hello there") == ["MP-0 c7,1,Unknown command"]
    assert h.fw.outbox == []  # not forwarded as "SMS FROM"
    assert h.handle("MP-0 C7") == ["MP-0 c7,1,Unknown command"]
    # D90: the interpreter's own parser decides (TAB, CR, LF separate words)
    assert h.handle("MP-0 C7,\tVERSION") == ["MP-0 c7,0,OVMS Firmware version: 3.0.0/RT2.5/VHOST"]
    assert h.handle("MP-0 C7,\tVERSION\r") == h.handle("MP-0 C7,VERSION")
    # works before an owner phone is registered (authenticated connection)
    h2 = _handler(params={0: ""})
    assert h2.handle("MP-0 C7,STAT")[0].startswith("MP-0 c7,0,")


def test_c40_sms():
    sent = []
    h = _handler(send_sms=lambda phone, text: sent.append((phone, text)))
    assert h.handle("MP-0 C40,+491234,hello, world") == ["MP-0 c40,0"]
    assert sent == [("+491234", "hello, world")]
    assert h.handle("MP-0 C40,+491234") == ["MP-0 c40,1,Invalid syntax"]
    assert h.handle("MP-0 C40") == ["MP-0 c40,1,Invalid syntax"]
    assert _handler().handle("MP-0 C40,1,x") == ["MP-0 c40,1,Not available"]

    def boom(phone, text):
        raise OSError("modem busy")

    assert _handler(send_sms=boom).handle("MP-0 C40,1,x") == ["MP-0 c40,1,modem busy"]


def test_c41_ussd_single_reply():
    h = _handler(send_ussd=lambda code: "Balance: 5,00 EUR\nValid" if code == "*100#" else None)
    assert h.handle("MP-0 C41,*100#") == ["MP-0 c41,0,Balance: 5.00 EUR\rValid"]
    assert h.handle("MP-0 C41,*999#") == ["MP-0 c41,1,Invalid USSD result"]
    assert h.handle("MP-0 C41") == ["MP-0 c41,1,Invalid syntax"]
    assert h.handle("MP-0 C41,") == ["MP-0 c41,1,Invalid syntax"]


def test_c41_deferred():
    async def ussd(code):
        return "A,B"

    h = _handler(send_ussd=ussd)
    d = h.handle("MP-0 C41,*100#")
    assert isinstance(d, Deferred)
    from support import run_async

    assert run_async(d.aw) == "A,B"
    assert d.done("A,B") == ["MP-0 c41,0,A.B"]
    assert d.fail(OSError("timeout")) == ["MP-0 c41,1,timeout"]


def test_c49_at():
    cmds = []
    h = _handler(send_at=lambda c: cmds.append(c))
    assert h.handle("MP-0 C49,AT+CSQ") == ["MP-0 c49,0"]
    assert cmds == ["AT+CSQ"]
    assert h.handle("MP-0 C49") == ["MP-0 c49,1,Invalid syntax"]


def test_unknown_commands():
    h = _handler()
    for n in (0, 10, 11, 24, 30, 99, 209, 65535):
        assert h.handle("MP-0 C%d" % n) == ["MP-0 c%d,3" % n]
    assert h.handle("MP-0 C18,1") == ["MP-0 c18,3"]


def test_no_c_before_first_command():
    h = _handler()
    lines = ["MP-0 c41,0,late answer", "MP-0 S1", "MP-0 a"]
    assert h.outgoing(lines) == ["MP-0 S1", "MP-0 a"]
    h.handle("MP-0 A")  # not a command
    assert h.outgoing(lines) == ["MP-0 S1", "MP-0 a"]
    h.handle("MP-0 C1")
    assert h.outgoing(lines) == lines
    h.connected(100)  # new connection: guard again
    assert h.outgoing(lines) == ["MP-0 S1", "MP-0 a"]


# ---- paranoid mode (§9) -----------------------------------------------------------------
def test_paranoid_in_and_out():
    h = _handler(params={1: "OVMS", 10: "P"})  # the spec vector's modpass
    h.connected(0)
    pd = login.paranoid_digest("OVMS", h.ptoken)
    assert h.pdigest() == pd
    wrapped_cmd = codec.wrap("MP-0 C201", pd)
    assert wrapped_cmd.startswith("MP-0 EMC")
    out = h.handle(wrapped_cmd)
    assert out == ["MP-0 c201,0,0"]
    tail = ["MP-0 HRT-X,1,1,a", "MP-0 h3,-60,RT-X,1,1,a", "MP-0 PAhi", "MP-0 a", "MP-0 ETtok"]
    sent = h.outgoing(out + tail)
    assert sent[0] == codec.wrap("MP-0 c201,0,0", pd) and sent[0].startswith("MP-0 EMc")
    assert codec.unwrap(sent[0], pd) == "MP-0 c201,0,0"
    assert sent[1:] == tail  # H and h records are never wrapped (§9)
    # a wrapped command that does not unwrap still gets one reply (D43)
    assert h.handle("MP-0 EMC!!!") == ["MP-0 c0,1,Invalid syntax"]
    # paranoid switched off: plain again
    h.cfg.set_param(10, "", save=False)
    assert h.outgoing(["MP-0 c1,0"]) == ["MP-0 c1,0"]


def test_paranoid_token_and_digest_load_the_login_code_per_use_d105():
    # D105: the login code makes the token and the digest, then goes; without room for
    # it the message is garbled (one reply) or the session ends (ProtocolError)
    import sys

    from ovms import lazy

    name = "ovms.v2.login"
    saved = sys.modules.get(name)
    real = lazy.load

    def failing(n):
        raise MemoryError("no room")

    try:
        h = _handler(params={1: "OVMS", 10: "P"})
        assert h.connected(0)[0] == "MP-0 ET" + h.ptoken and len(h.ptoken) == 22
        assert name not in sys.modules
        pd = h.pdigest()
        assert name not in sys.modules
        lazy.load = failing
        assert h.pdigest() == pd  # made once per token and module password
        h.cfg.set_param(1, "OTHER", save=False)
        assert h.handle(codec.wrap("MP-0 C201", pd)) == ["MP-0 c0,1,Invalid syntax"]
        try:
            h.outgoing(["MP-0 S1"])
            raise AssertionError("no ProtocolError")
        except codec.ProtocolError as e:
            assert "login code not loaded" in str(e)
        h.ptoken = None  # a new token (a new Handler) without room for the login code
        try:
            h.connected(0)
            raise AssertionError("no ProtocolError")
        except codec.ProtocolError:
            pass
    finally:
        lazy.load = real
        if saved is not None:
            sys.modules[name] = saved


def test_app_set_loads_its_code_per_use_d105():
    # D105: Z>0's set is made by ovms/v2/commands.py, loaded for it and dropped after;
    # without room for it: no set (counted, logged), never an exception
    import sys

    from ovms import lazy

    name = "ovms.v2.commands"
    h = _handler()
    out = h.handle("MP-0 Z1")
    assert [m[:6] for m in out] == ["MP-0 S", "MP-0 L", "MP-0 W", "MP-0 F", "MP-0 D"]
    assert name not in sys.modules and h.apps == 1 and h.errors == 0
    real = lazy.load

    def failing(n):
        raise MemoryError("no room")

    lazy.load = failing
    try:
        assert h.handle("MP-0 Z2") == [] and h.apps == 2 and h.errors == 1
    finally:
        lazy.load = real
    assert name not in sys.modules


def test_paranoid_vector_through_handler():
    h = _handler(params={1: "OVMS", 10: "P"})  # the spec vector's modpass
    h.ptoken = "Pq7Wm2Xk9Rt4Zs1Vb6Nc3D"
    s = "MP-0 S81,K,230,10,done,standard,80,72,0,0,0,0,0,4,0,0,0,-1"
    assert h.outgoing([s]) == [
        "MP-0 EMSUfMp9WtxKRdssAvT8Ofs3tYyDBYZZGeQAG6Y0BWRONeKfRtRe2snKiMxwz4yRXKO5bTgRw=="
    ]


def test_wrapped_message_without_paranoid_ignored():
    h = _handler()
    h.ptoken = None
    assert h.handle("MP-0 EMCabc") == ["MP-0 c0,1,Invalid syntax"]  # D43
    assert h.handle("MP-0 EMSabc") == []


# ---- periodic policy (§6.10) ------------------------------------------------------------------
def test_interval_policy():
    assert interval_s(1, False) == 60
    assert interval_s(3, True) == 60
    assert interval_s(0, True) == 600
    assert interval_s(0, False) == 3600
    assert periodic_due(0, None, 0, False)
    assert not periodic_due(3599, 0, 0, False)
    assert periodic_due(3600, 0, 0, False)
    assert periodic_due(600, 0, 0, True)
    assert not periodic_due(59, 0, 1, False)
    assert periodic_due(60, 0, 1, False)


def test_periodic_sends_changed_only():
    h = _handler()
    h.connected(1000)
    assert h.periodic(1005) == []  # first set 10 s after login
    out = h.periodic(1010)
    assert [m[:6] for m in out] == ["MP-0 S", "MP-0 L", "MP-0 W", "MP-0 D", "MP-0 V"]
    assert out[4] == "MP-0 VC6,C200-208,C1-6,C40-41,C49"
    assert h.periodic(1011) == []
    assert h.periodic(1010 + 3600) == []  # due, nothing changed
    h.vehicle.gps_fix(1000000, 2000000, 10, 20)
    assert h.periodic(1010 + 3601) == []  # changed but not due (idle: 60 min)
    assert h.periodic(1010 + 7200) == ["MP-0 L1.000000,2.000000,20,10,1,120"]
    # the memory survives a reconnect
    h.connected(9000)
    assert h.periodic(9010) == []


def test_periodic_busy_and_apps():
    h = _handler()
    h.connected(0)
    h.periodic(10)
    st = h.vehicle.st
    st.car_doors1 |= 0x80  # key on: busy
    st.car_soc = 42
    assert h.periodic(609) == []
    assert h.periodic(610)[0].startswith("MP-0 S42,")
    st.car_doors1 = 0
    h.handle("MP-0 Z1")  # app set, remembered
    st.car_soc = 43
    assert h.periodic(669) == []
    assert h.periodic(670)[0].startswith("MP-0 S43,")


def test_streaming_location():
    h = _handler()
    h.cfg.set_feature(8, "1", save=False)
    h.connected(0)
    h.handle("MP-0 Z1")
    h.periodic(10)
    st = h.vehicle.st
    st.car_speed = 30
    h.vehicle.gps_fix(1000000, 2000000, 10, 20)
    assert h.periodic(11) == ["MP-0 L1.000000,2.000000,20,10,1,120"]
    assert h.periodic(12) == []
    st.car_speed = 0
    h.vehicle.gps_fix(1100000, 2000000, 10, 20)
    assert h.periodic(13) == []  # standing: only in the periodic set
