# SIM800 driver against the emulator (tools/sim800emu) over loopback TCP: init, SMS
# round trip, multi-part SMS, TCP echo, USSD, GNSS/NMEA fixes, recovery after resets.
# Both runtimes. Licence: MIT (this project).
import asyncio

from support import PassWriter, echo_server, modem_on_emu, run_async, stop_modem, wait_until

from firmware.hal.sim800_at import READY
from ovms.config import Config
from ovms.gps import Feed
from ovms.twizy.vehicle import Twizy
from tools.sim800emu import Sim800Emu, parse_track_row

OWNER = "+4915112345678"


def test_init_ready():
    async def go():
        emu, m = await modem_on_emu()
        try:
            assert await m.wait_ready(3000)
            assert m.state == READY
            assert not emu.echo  # ATE0 sent
            assert emu.cmgf == 1 and emu.cnmi
            assert m.rssi == 20 and m.creg == 1
            assert m.counters["bugs"] == 0
        finally:
            await stop_modem(emu, m)

    run_async(go())


def _framework():
    from ovms.sms import SmsInterpreter
    from ovms.smsout import shape

    cfg = Config({0: OWNER})
    fw = SmsInterpreter(cfg, Twizy(cfg))

    def on_sms(sender, text):
        return shape(fw.handle(sender, text))

    return on_sms


def test_sms_round_trip_interpreter():
    async def go():
        expected = _framework()(OWNER, "STAT")
        assert expected and expected[0]
        on_sms = _framework()
        emu, m = await modem_on_emu(on_sms=on_sms)
        try:
            assert await m.wait_ready(3000)
            emu.inject_sms("0049 151 12345678", "STAT")  # normalised to +49151...
            assert await wait_until(lambda: len(emu.sent) >= len(expected), 3000)
            assert emu.sent == [(OWNER, t) for t in expected]
            assert not emu.inbox  # read and deleted
            assert m.counters["sms_in"] == 1 and m.counters["sms_out"] == len(expected)
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_sms_latin1_text_and_password_with_underscore():
    # CSCS "8859-1": "_", "@" and umlauts travel intact both ways
    async def go():
        from ovms.sms import SmsInterpreter
        from ovms.smsout import shape

        cfg = Config({0: OWNER, 1: "my_pw@1"})
        fw = SmsInterpreter(cfg, Twizy(cfg))
        emu, m = await modem_on_emu(on_sms=lambda snd, txt: shape(fw.handle(snd, txt)))
        try:
            assert await m.wait_ready(3000)
            emu.inject_sms("+4917099999999", "RANGE my_pw@1 80")
            assert await wait_until(lambda: len(emu.sent) >= 1, 3000)
            assert emu.sent[0] == ("+4917099999999", "Max ideal range: 80 km")
            emu.inject_sms(OWNER, "Gr\u00fc\u00dfe aus K\u00f6ln")  # not a command
            m.send_sms(OWNER, ["\u00c4rger \u00fcber \u00a35 \u20ac"])
            assert await wait_until(lambda: len(emu.sent) >= 2, 3000)
            assert emu.sent[1] == (OWNER, "\u00c4rger \u00fcber \u00a35 ?")
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_sms_stored_before_start_swept():
    async def go():
        emu = Sim800Emu(seed=2)
        emu.inject_sms(OWNER, "one")  # no +CMTI: the modem is not set up yet
        emu.inject_sms(OWNER, "two")
        emu, m = await modem_on_emu(emu, on_sms=lambda s, t: ["re " + t])
        try:
            assert await wait_until(lambda: len(emu.sent) == 2, 3000)
            assert sorted(emu.sent) == [(OWNER, "re one"), (OWNER, "re two")]
            assert not emu.inbox
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_multipart_and_long_reply():
    async def go():
        long = "x" * 170
        emu, m = await modem_on_emu(on_sms=lambda s, t: ["first", "second", long])
        try:
            assert await m.wait_ready(3000)
            emu.inject_sms(OWNER, "HELP")
            assert await wait_until(lambda: len(emu.sent) == 4, 3000)
            texts = [t for _, t in emu.sent]
            assert texts == ["first", "second", "x" * 160, "x" * 10]
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_multiline_sms_text():
    async def go():
        got = []
        emu, m = await modem_on_emu(on_sms=lambda s, t: got.append((s, t)))
        try:
            assert await m.wait_ready(3000)
            emu.inject_sms(OWNER, "line1\nline2")
            assert await wait_until(lambda: got, 3000)
            assert got == [(OWNER, "line1\nline2")]
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_tcp_echo_through_emulator():
    async def go():
        srv, port = await echo_server()
        emu, m = await modem_on_emu(apn="internet.test", user="u", password="p")
        try:
            assert await m.wait_ready(3000)
            s = await m.open_tcp("127.0.0.1", port)
            assert m.gprs_up and m.ip == "10.64.12.34"
            for i in range(5):
                msg = b"MP-0 A%d\r\n" % i
                s.write(msg)
                await s.drain()
                assert await asyncio.wait_for(s.readexactly(len(msg)), 3) == msg
            big = bytes(range(256)) * 12  # 3072 bytes: several CIPSEND/CIPRXGET chunks
            s.write(big)
            await s.drain()
            assert await asyncio.wait_for(s.readexactly(len(big)), 5) == big
            # several pieces in one drain: CIPSEND payloads gathered across them
            pieces = [bytes([65 + i]) * 700 for i in range(5)]  # 3,500 bytes in all
            for p in pieces:
                s.write(p)
            await s.drain()
            got = await asyncio.wait_for(s.readexactly(3500), 5)
            assert got == b"".join(pieces)
            s.write(b"line one\nline two\n")
            await s.drain()
            assert await asyncio.wait_for(s.readline(), 3) == b"line one\n"
            assert await asyncio.wait_for(s.readline(), 3) == b"line two\n"
            await s.close()
            assert not emu.connected
        finally:
            await stop_modem(emu, m)
            srv.close()

    run_async(go())


class _WriteSizes(PassWriter):
    # a writer that records the size of every write (the modem's port)
    def __init__(self, w):
        super().__init__(w)
        self.sizes = []

    def write(self, data):
        self.sizes.append(len(data))
        self.w.write(data)


def test_cipsend_payload_written_in_small_slices_without_a_gathering_buffer():
    # D107: a CIPSEND payload goes to the port in writes of at most 128 bytes, straight
    # from the written pieces: no 1.46 KB buffer for the driver's life, no big write that
    # asyncio's Stream could copy when the port takes only a part of it
    async def go():
        srv, port = await echo_server()
        emu, m = await modem_on_emu(wrap=_WriteSizes)
        try:
            assert await m.wait_ready(3000)
            assert not hasattr(m, "_tx_payload")
            s = await m.open_tcp("127.0.0.1", port)
            pieces = [bytes([48 + i]) * (100 + 300 * i) for i in range(6)]  # 5,100 bytes
            m._w.sizes = []
            for p in pieces:
                s.write(p)
            await s.drain()
            got = await asyncio.wait_for(s.readexactly(5100), 5)
            assert got == b"".join(pieces)
            assert max(m._w.sizes) <= 128, m._w.sizes
            await s.close()
        finally:
            await stop_modem(emu, m)
            srv.close()

    run_async(go())


def test_tcp_refuses_non_loopback():
    async def go():
        emu, m = await modem_on_emu()
        try:
            assert await m.wait_ready(3000)
            try:
                await m.open_tcp("192.0.2.1", 80)  # TEST-NET: must never be contacted
                raise AssertionError("connected")
            except OSError as e:
                assert "CONNECT FAIL" in str(e)
            assert not emu.connected
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_tcp_peer_close_and_drop():
    async def go():
        srv, port = await echo_server()
        emu, m = await modem_on_emu()
        try:
            assert await m.wait_ready(3000)
            s = await m.open_tcp("127.0.0.1", port)
            emu.fault("drop")
            assert await asyncio.wait_for(s.read(10), 3) == b""  # CLOSED: EOF
            try:
                s.write(b"x")
                raise AssertionError("write after CLOSED")
            except OSError:
                pass
            s = await m.open_tcp("127.0.0.1", port)  # reconnect on the same context
            emu.fault("pdp")
            try:
                await asyncio.wait_for(s.read(10), 3)
                raise AssertionError("read after PDP DEACT")
            except OSError:
                pass
            assert not m.gprs_up
            s = await m.open_tcp("127.0.0.1", port)  # full bring-up again
            s.write(b"ping")
            await s.drain()
            assert await asyncio.wait_for(s.readexactly(4), 3) == b"ping"
            await s.close()
            assert m.counters["pdp_deact"] == 1 and m.counters["closed"] >= 1
        finally:
            await stop_modem(emu, m)
            srv.close()

    run_async(go())


def test_ussd_plain_and_ucs2():
    async def go():
        emu = Sim800Emu(seed=3, ussd={"*101#": ("Guthaben 3,50 EUR", 72)})
        emu, m = await modem_on_emu(emu)
        try:
            assert await m.wait_ready(3000)
            assert m._ussd is None  # D109: no lock/event until the first query
            assert await m.ussd("*100#") == "Balance: 5.00 EUR, valid until 31.12.2026"
            assert m._ussd is not None
            assert await m.ussd("*101#") == "Guthaben 3,50 EUR"
            # two at once: one after the other, each with its own answer
            a, b = await asyncio.gather(m.ussd("*101#"), m.ussd("*100#"))
            assert a == "Guthaben 3,50 EUR" and b.startswith("Balance: 5.00 EUR")
            try:
                await m.ussd("*999#")  # no canned answer: +CUSD: 4
                raise AssertionError("no error")
            except OSError:
                pass
        finally:
            await stop_modem(emu, m)

    run_async(go())


TRACK = ["0,51.257704,7.160899,139,48.5,242", "100,-33.868820,-151.209290,-3,0,7"]


def test_gnss_fix_cgnsinf():
    async def go():
        v = Twizy(Config())
        feed = Feed(v)
        emu = Sim800Emu(seed=4, track=[parse_track_row(TRACK[0])])
        emu, m = await modem_on_emu(emu, gnss=True, on_csq=feed.csq, on_gnss=feed.cgnsinf)
        try:
            assert await m.wait_ready(3000)
            assert await wait_until(lambda: v.st.gpslock == 1, 3000)
            st = v.st
            assert (st.lat_e6, st.lon_e6, st.altitude, st.direction) == (
                51257704,
                7160899,
                139,
                242,
            )
            assert st.stale_gps == 120 and st.net_sq == 20
            assert feed.gnss.speed == 4850
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_gps_fix_nmea_uart():
    async def go():
        from firmware.tasks.gps import nmea_task

        v = Twizy(Config())
        feed = Feed(v)
        emu = Sim800Emu(seed=5, track=[parse_track_row(TRACK[1])])
        port = await emu.start_nmea(0, period_ms=20)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        t = asyncio.create_task(nmea_task(r, feed))
        try:
            assert await wait_until(lambda: feed.nmea is not None and feed.nmea.good >= 4, 3000)
            st = v.st
            assert st.gpslock == 1 and st.stale_gps == 120
            assert (st.lat_e6, st.lon_e6, st.altitude, st.direction) == (
                -33868820,
                -151209290,
                -3,
                7,
            )
            assert feed.nmea.bad == 0
        finally:
            t.cancel()
            w.close()
            await w.wait_closed()
            await emu.close()

    run_async(go())


def test_reboot_recovery_and_ladder_to_pin():
    async def go():
        replies = []
        emu, m = await modem_on_emu(on_sms=lambda s, t: replies.append(t) or ["ok " + t])
        try:
            assert await m.wait_ready(3000)
            emu.fault("reboot")
            assert await wait_until(lambda: m.counters["reboots"] == 1, 2000)
            assert await m.wait_ready(3000)
            assert not emu.echo and emu.cnmi  # settings sent again
            emu.fault("powerdown")  # silent until the reset pin is pulsed
            assert await wait_until(lambda: m.counters["pin"] == 1, 15000)
            assert await m.wait_ready(5000)
            assert emu.pin.pulses == 1
            emu.inject_sms(OWNER, "after")
            assert await wait_until(lambda: emu.sent == [(OWNER, "ok after")], 3000)
            assert m.counters["bugs"] == 0
        finally:
            await stop_modem(emu, m)

    run_async(go())


def _raiser(exc):
    def f(*args):
        raise exc

    return f


def test_run_raises_when_the_reader_dies():
    # a reader bug (URC handling) or MemoryError ends run() with it: no half-dead driver
    for exc in (RuntimeError("urc bug"), MemoryError()):

        async def go(exc=exc):
            emu, m = await modem_on_emu()
            try:
                assert await m.wait_ready(3000)
                t = m._task
                m._urc = _raiser(exc)
                emu.fault("undervolt")
                assert await wait_until(lambda: t.done(), 3000)
                assert m.fatal is exc and m.state != READY
                try:
                    await t
                    raise AssertionError("run() returned")
                except type(exc) as e:
                    assert e is exc
            finally:
                await stop_modem(emu, m)

        run_async(go())


def test_run_raises_when_the_supervisor_dies():
    async def go():
        emu, m = await modem_on_emu()
        try:
            assert await m.wait_ready(3000)
            t = m._task
            m._sms_service = _raiser(ValueError("pass bug"))
            assert await wait_until(lambda: t.done(), 3000)
            assert isinstance(m.fatal, ValueError)
            try:
                await t
                raise AssertionError("run() returned")
            except ValueError:
                pass
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_callback_error_counted_and_driver_goes_on():
    async def go():
        emu, m = await modem_on_emu(on_sms=_raiser(ValueError("app bug")))
        try:
            assert await m.wait_ready(3000)
            emu.inject_sms(OWNER, "one")
            assert await wait_until(lambda: m.counters["bugs"] == 1 and not emu.inbox, 3000)
            assert "app bug" in m.last_error and m.fatal is None
            p = m.progress
            assert await wait_until(lambda: m.progress > p, 3000)  # CSQ polls go on
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_stuck_off_after_the_ladder_without_pin():
    # powered down, no reset pin: after the top rung failed twice the driver says so
    async def go():
        emu, m = await modem_on_emu(reset_pin=None)
        try:
            assert await m.wait_ready(3000)
            assert not m.stuck_off
            emu.fault("powerdown")
            assert await wait_until(lambda: m.stuck_off, 15000)
            assert m.state != READY and m.counters["cfun"] >= 2
            emu.reboot()  # power is back: READY again, no longer stuck
            assert await m.wait_ready(10000)
            assert not m.stuck_off
        finally:
            await stop_modem(emu, m)

    run_async(go())
