# The whole firmware parked on the host board (issue 13): it falls asleep after the quiet
# window, an SMS while asleep is answered through RI within 60 s, alerts queued while it
# sleeps all arrive once on both channels, a key-on reaches DRIVING within 2 s of the
# first CAN frame, every second is ticked, and the modelled draw stays under 2 Wh/day.
# The simulated time is the virtual clock (tools/power_report.py runs it as fast as the
# machine goes and holds it while the emulated modem works); nothing here depends on
# the machine's speed. Both runtimes (sockets: not on the emulated Cortex-M).
# Licence: MIT (this project).
from support import rmtree, tmpdir

from ovms.powerledger import COL_WAKES, HOUR_MS
from ovms.powerstate import PARKED_ASLEEP, PARKED_AWAKE
from tools import power_report as pr

_RUN = []


def _run():
    # one 3-hour parked run shared by the tests (the +CMTI is lost while the modem
    # sleeps, so only RI can bring the owner's SMS in)
    if not _RUN:
        d = tmpdir("lowpower")
        try:
            r = pr.parked(
                d, hours=3, sms=((1, "DIAG"),), alert_every_h=1, keyon=True, urc_asleep=False
            )
        finally:
            rmtree(d)
        _RUN.append(r)
    return _RUN[0]


def test_parked_module_sleeps_and_ticks_every_second():
    r = _run()
    a = r["app"]
    t = r["ledger"].totals()
    # awake for the 5-minute quiet window after boot, then asleep but for the work
    assert t[PARKED_ASLEEP] > 2 * HOUR_MS + 40 * 60_000
    assert 5 * 60_000 <= t[PARKED_AWAKE] < 7 * 60_000
    assert t[COL_WAKES] > 150 and a.modem.counters["dozes"] >= 3
    assert a.sup.failure is None and a.crashes == 0 and r["pm"].stuck_work == 0
    # the vehicle saw every second although the MCU slept between minutes
    s = a.summary()
    assert a.clock.now // 1000 - 5 <= s["ticks"] <= a.clock.now // 1000
    assert a.ticker.skipped == 0
    # the modem was never written to while asleep
    assert a.emu.sleep_drops == 0 and a.emu.sleeps >= 3


def test_sms_while_asleep_is_answered_through_ri_within_60_s():
    r = _run()
    a = r["app"]
    lat = r["sms_latency_ms"]
    assert len(lat) == 1 and lat[0] is not None and lat[0] <= 60_000
    assert a.emu.urc_lost >= 1  # the +CMTI never reached the MCU: RI did it
    assert r["pm"].sleeper.wakes[2] == 1 and a.modem.counters["ri"] == 1
    # the reply is the DIAG text with the owner's power line
    diag = [s for s in r["watch"].sms if s[2].startswith("DIAG")]
    assert len(diag) == 1 and "Power: PARKED-" in diag[0][2] and "Wh/day" in diag[0][2]


def test_alerts_queued_while_asleep_arrive_once_on_both_channels():
    r = _run()
    a = r["app"]
    assert r["alerts_sms_missing"] == [] and r["alerts_server_missing"] == []
    assert r["outbox_left"] == 0 and r["outbox_dropped"] == 0
    sent = [s[2] for s in r["watch"].sms]
    for k in (1, 2):
        assert sent.count("Test alert %d while parked" % k) == 1
    srv = a.server.received
    assert len([x for x in srv if x.startswith("MP-0 PATest alert")]) == 2
    dropped = a.link.outbox.dropped + a.link.sms_outbox.dropped
    assert dropped == 0


def test_key_on_while_asleep_reaches_driving_within_2_s():
    r = _run()
    assert r["keyon_latency_ms"] is not None and r["keyon_latency_ms"] <= 2_000
    assert r["pm"].sleeper.wakes[1] >= 1  # the CAN line woke it
    assert r["pm"].transitions[-1][1] == "DRIVING"


def test_modelled_draw_under_2_wh_per_day_on_both_boards():
    r = _run()
    for name in pr.BOARDS:
        ua, mwh = pr.price(r["row"], name)  # the parked stretch, up to the key-on
        assert 0 < mwh <= 2_000, (name, mwh)
        assert ua < 7_000
