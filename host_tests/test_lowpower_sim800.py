# SIM800 sleep mode 1 (issue 13): AT+CSCLK=1, DTR and RI, in the driver
# (firmware/hal/sim800_sleep.py) and the emulator (tools/sim800emu/sleep.py), over
# loopback TCP. Wall-clock waits here only bound a hang. Both runtimes.
# Licence: MIT (this project).
from support import modem_on_emu, run_async, stop_modem, wait_until

from ovms.aio import sleep_ms
from tools.sim800emu import Sim800Emu

OWNER = "+4915100000000"


def _replies(sender, text):
    return ["re: " + text]


async def _asleep_modem(**emu_kw):
    emu = Sim800Emu(seed=3)
    for k in emu_kw:
        setattr(emu, k, emu_kw[k])
    emu, m = await modem_on_emu(emu, dtr_pin=emu.dtr, on_sms=_replies)
    assert await m.wait_ready(5000)
    assert await wait_until(lambda: not m.busy(), 5000)  # the first SIM sweep is done
    assert await m.doze()
    return emu, m


def test_doze_sets_csclk_and_dtr_and_the_modem_sleeps_quietly():
    async def body():
        emu, m = await _asleep_modem()
        try:
            assert emu.csclk == 1 and emu.dtr.value() == 1 and emu.asleep
            assert m.asleep and not m.busy() and m.counters["dozes"] == 1
            n = emu.commands
            await sleep_ms(700)  # awake, the driver would poll CSQ (500 ms) in this time
            assert emu.commands == n and emu.sleep_drops == 0 and emu.sleeps == 1
            assert await m.doze()  # already asleep: nothing sent
            assert emu.cmd_counts["+CSCLK"] == 1
        finally:
            await stop_modem(emu, m)

    run_async(body())


def test_sms_while_asleep_raises_ri_and_is_answered():
    async def body():
        emu, m = await _asleep_modem()
        emu.ri.irq(handler=m.ring)  # the board's RI interrupt
        try:
            emu.inject_sms(OWNER, "hello")
            assert emu.ri.pulses == 1 and m.ri_flag
            assert await wait_until(lambda: (OWNER, "re: hello") in emu.sent, 5000)
            # the driver woke the modem with DTR before it wrote: nothing was dropped
            assert m.counters["dtr_wakes"] >= 1 and emu.sleep_drops == 0
            assert emu.dtr.value() == 0 and not emu.asleep and not m.asleep
            assert await wait_until(lambda: not m.busy(), 5000)
            assert await m.doze() and emu.asleep and emu.sleeps == 2
            assert emu.cmd_counts["+CSCLK"] == 1  # once per modem boot
        finally:
            await stop_modem(emu, m)

    run_async(body())


def test_a_lost_cmti_is_found_through_ri():
    # the MCU slept through the +CMTI: only RI tells; the driver lists the SIM
    async def body():
        emu, m = await _asleep_modem(urc_asleep=False)
        emu.ri.irq(handler=m.ring)
        try:
            emu.inject_sms(OWNER, "where")
            assert emu.urc_lost == 1
            assert await wait_until(lambda: (OWNER, "re: where") in emu.sent, 5000)
            assert m.counters["ri"] == 1 and emu.sleep_drops == 0
        finally:
            await stop_modem(emu, m)

    run_async(body())


def test_without_ri_an_sms_waits_while_the_modem_sleeps():
    # the negative control: RI not wired and the URC lost -> nothing happens while
    # asleep (the driver's polls pause); RI afterwards gets it answered
    async def body():
        emu, m = await _asleep_modem(urc_asleep=False)
        try:
            emu.inject_sms(OWNER, "later")
            await sleep_ms(600)
            assert emu.sent == [] and emu.asleep
            m.ring()
            assert await wait_until(lambda: (OWNER, "re: later") in emu.sent, 5000)
        finally:
            await stop_modem(emu, m)

    run_async(body())


def test_data_to_send_wakes_the_modem_through_dtr():
    async def body():
        emu, m = await _asleep_modem()
        try:
            m.send_sms(OWNER, "Charging Done")
            assert m.busy()
            assert await wait_until(lambda: (OWNER, "Charging Done") in emu.sent, 5000)
            assert m.counters["dtr_wakes"] == 1 and emu.sleep_drops == 0
            assert not emu.asleep
        finally:
            await stop_modem(emu, m)

    run_async(body())


def test_writing_to_a_sleeping_modem_is_dropped_by_the_emulator():
    # the emulator's side of the rule: asleep, its UART takes nothing (counted)
    async def body():
        emu, m = await _asleep_modem()
        try:
            n = emu.commands
            m._w.write(b"AT\r")  # bypasses the driver's DTR wake on purpose
            await m._w.drain()
            assert await wait_until(lambda: emu.sleep_drops == 3, 2000)
            assert emu.commands == n
        finally:
            await stop_modem(emu, m)

    run_async(body())


def test_a_modem_reset_clears_csclk_and_doze_sends_it_again():
    async def body():
        emu, m = await _asleep_modem()
        try:
            emu.fault("reboot")
            assert emu.csclk == 0 and not emu.asleep
            assert await wait_until(lambda: m.counters["reboots"] == 1 and not m.busy(), 5000)
            assert not m.asleep and emu.dtr.value() == 0
            assert await m.doze() and emu.asleep
            assert emu.cmd_counts["+CSCLK"] == 2
        finally:
            await stop_modem(emu, m)

    run_async(body())


def test_emulator_csclk_query_and_bad_values():
    emu = Sim800Emu()
    from tools.sim800emu import commands

    assert commands.execute(emu, "AT+CSCLK?") == ["+CSCLK: 0", "OK"]
    assert commands.execute(emu, "AT+CSCLK=9") == ["ERROR"]
    assert commands.execute(emu, "AT+CSCLK=1") == ["OK"] and not emu.asleep
    emu.dtr.value(1)
    assert emu.asleep and emu.sleeps == 1
    emu.dtr.value(0)
    assert not emu.asleep and emu._deaf(1)  # DTR just fell: not listening yet
    assert commands.execute(emu, "AT+CSCLK?") == ["+CSCLK: 1", "OK"]
