# The six real Twizy recordings replayed through the core (both runtimes).
# Values asserted here are read off the frames themselves.
from support import trace

from tools import replay


def _replay(*names, until=None, sms=(), feature=(), exact=False):
    # exact=True: the 2013 module (--exact); else the owner decisions D65-D68
    opts = replay.parse_args(
        ["--state"] + (["--exact"] if exact else []) + [trace(n) for n in names]
    )
    opts["state"] = False
    opts["until"] = until
    opts["features"] = list(feature)
    vehicle = replay.build_vehicle(opts)
    link = _Collect()
    rp = replay.Replayer(vehicle, link)
    for t, _kind, _seq, a, b in replay.timeline(opts):
        rp.frame(t, a, b)
    rp.finish(until)
    return vehicle, link


class _Collect:
    def __init__(self):
        self.lines = []
        self.sms = []

    def server_ready(self):
        return True

    def sms_ready(self):
        return True

    def send_server(self, lines):
        self.lines.extend(lines)

    def send_sms(self, text):
        self.sms.append(text)


def test_init_drv():
    v, _ = _replay("Init-Drv")
    st = v.st
    # 155#..9606.. : last 0x155 S = 0x9618 -> 9606 = 96.06 %
    assert st.soc == 9606
    assert st.odo == 4220776  # 42207.76 km (5D7 b2..b5 >> 4)
    assert st.odo // 100 == 42207
    assert st.vin_text() == "7378280"
    assert st.status == 0x95 and st.car_doors1 & 0x80  # key on, ready
    assert st.range_km == 46
    assert st.car_chargestate == 4
    # battery set: 554#302F2F.., 55F#FFFF73000023D23D
    assert st.pack_act == 573
    assert [t - 40 for t in st.temp_act] == [8, 7, 7, 7, 7, 7, 7]
    assert st.sensor_sets >= 1
    assert st.dropped[0] == 0  # no short frames in a real log
    # the switch-on phase frames (0x94 / FF markers) were ignored, not counted as damage
    assert v.stat_text() == (
        "Not charging\n Full charge: 26 min.\n Range: 46 - 46 km\n"
        " SOC: 96.06% (96.06%..96.06%)\n ODO: 42206 km"
    )


def test_init_drv_phase_byte_goes_valid():
    # 0x155 b3 0x94 -> 0x54 after about 0.2 s: SOC known only from then on
    frames = replay.read_log(trace("Init-Drv"))
    phases = [d[3] for t, i, d in frames if i == 0x155]
    assert phases[0] == 0x94 and phases[-1] == 0x54


def test_end_drv_key_off():
    v, _ = _replay("End-Drv")
    st = v.st
    # 0x597 b1 0x95 -> 0x85 -> 0xE5 -> 0xE4 -> 0xE0
    frames = replay.read_log(trace("End-Drv"))
    seen = []
    for _t, i, d in frames:
        if i == 0x597 and (not seen or seen[-1] != d[1]):
            seen.append(d[1])
    assert seen == [0x95, 0x85, 0xE5, 0xE4, 0xE0]
    assert st.status == 0xE0
    assert not st.car_doors1 & 0x80  # switch-off seen
    assert st.car_chargestate == 4


def test_end_chg_reaches_100():
    v, _ = _replay("End-Chg")
    assert v.st.soc == 10000
    assert v.st.soc_max == 10000


def test_init_chg_charging():
    v, _ = _replay("Init-Chg")
    st = v.st
    assert st.status & 0x60 == 0x20  # charging, key off
    assert st.car_chargestate in (1, 2)
    assert st.power < 0  # energy into the battery
    assert st.power * 16 < -1500  # current ramps to ~-35 A at ~57 V (~-2 kW)
    assert st.speedpwr[2] > 0


def test_init_then_end_charge_walks_state_machine():
    # the 2013 module: every state change at once, the range from the 50 km placeholder
    v, link = _replay("Init-Chg", "End-Chg", exact=True)
    st = v.st
    assert st.car_chargestate == 4  # done: soc_max reached 100 %
    assert st.car_doors1 & 0x04  # port bit kept until the next switch-on
    assert v.stat_text() == (
        "Charging Done\n CHG: 4 Wh\n Range: 50 - 50 km\n"
        " SOC: 100.00% (98.10%..100.00%)\n ODO: 31000 km"
    )
    # notifications: start (S charging), topping off (S topoff), done (PA + S done)
    s_states = [x.split(",")[4] for x in link.lines if x.startswith("MP-0 S")]
    assert s_states == ["charging", "topoff", "done"]
    assert [x for x in link.lines if x.startswith("MP-0 PA")][0].startswith(
        "MP-0 PACharging Done\r"
    )
    assert link.sms[0].startswith("Charging Done\n")


def test_init_then_end_charge_owner_view():
    # D67: the state must hold 3 s before it is sent, so the replay ticks on past the
    # recording's end (the module keeps ticking on the car too); D65: the car never
    # reported a range (0x599's range is refused while charging), so no Range line
    v, link = _replay("Init-Chg", "End-Chg", until=20 * 1000000)
    st = v.st
    assert st.car_chargestate == 4 and st.car_doors1 & 0x04
    assert v.stat_text() == (
        "Charging Done\n CHG: 4 Wh\n SOC: 100.00% (98.10%..100.00%)\n ODO: 31000 km"
    )
    s_states = [x.split(",")[4] for x in link.lines if x.startswith("MP-0 S")]
    assert s_states == ["topoff", "done"]  # each once the state had held 3 s
    assert [x for x in link.lines if x.startswith("MP-0 PA")] == [
        "MP-0 PA" + v.stat_text().replace("\n", "\r")
    ]
    assert link.sms == [v.stat_text()]


def test_trickle_charge_traces():
    for name in ("Init-Trc", "End-Trc"):
        v, _ = _replay(name)
        assert v.st.sensor_sets >= 1
        assert 5700 <= v.st.pack_act * 10 <= 5800


def test_until_runs_minute_work():
    v, link = _replay("Init-Drv", until=125 * 1000000)
    assert v.st.tick == 125
    assert len([x for x in link.lines if "UsageStats" in x]) >= 1
    assert len([x for x in link.lines if "BattPack" in x]) == 1
