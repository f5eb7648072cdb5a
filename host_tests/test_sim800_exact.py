# SIM800 driver, exactly once: one deterministic test per root cause of issue 8 §2
# (A-E), each a real SIM800's bad day scripted in the emulator (tools/sim800emu).
# Every test here failed on the one-class driver of commit 4cae492.
# Runs under pytest and host_tests/mprunner.py. Licence: MIT (this project).
from support import PassWriter, modem_on_emu, run_async, stop_modem, wait_until

from tools.sim800emu import Sim800Emu

OWNER = "+4915112345678"


def _re(sender, text):
    return ["re " + text]


def _count(emu, text):
    n = 0
    for _, t in emu.sent:
        if t == text:
            n += 1
    return n


def _after(emu, line, start):
    # True when `line` is among the emulator's command lines after index `start`
    # of its history (the history is bounded: an index taken just before)
    return line in emu.history[start:]


def test_a_failed_delete_does_not_stop_the_sweep():
    # A: AT+CMGD=1 fails twice; the sweep still answers slots 2 and 3 at once,
    # and the delete of slot 1 is done later (nothing answered twice)
    async def go():
        emu = Sim800Emu(seed=11)
        for t in ("A1", "A2", "A3"):
            emu.inject_sms(OWNER, t)  # stored before the driver starts: no +CMTI
        emu.script("AT+CMGD=1", "error", count=2)
        emu, m = await modem_on_emu(emu, timing={"sweep": 600000}, on_sms=_re)
        try:
            assert await wait_until(lambda: len(emu.sent) >= 3, 5000), emu.sent
            assert await wait_until(lambda: not emu.inbox, 5000), emu.inbox
            assert sorted([t for _, t in emu.sent]) == ["re A1", "re A2", "re A3"]
            assert m.counters["sms_in"] == 3 and m.counters["sms_del_fail"] == 2
            assert m.counters["sms_dup"] >= 1  # slot 1 seen again: deleted only
            assert m.counters["bugs"] == 0 and m.fatal is None
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_a_delete_pending_outlives_many_other_sms():
    # A: slot 1 cannot be deleted while 17 other SMS come and go (more than the
    # old 16-entry memory); when the SIM lists it again after a reboot it is
    # deleted, not answered a second time
    async def go():
        emu = Sim800Emu(seed=12)
        emu.inject_sms(OWNER, "keep")
        emu.script("AT+CMGD=1", "error", count=100000)
        emu, m = await modem_on_emu(emu, timing={"sweep": 600000}, on_sms=_re)
        try:
            assert await wait_until(lambda: _count(emu, "re keep") == 1, 5000)
            for i in range(17):
                want = "re n%d" % i
                emu.inject_sms(OWNER, "n%d" % i)
                assert await wait_until(lambda w=want: _count(emu, w) == 1, 5000), i
            assert 1 in emu.inbox  # still stored (REC READ)
            h = len(emu.history)
            emu.fault("reboot")  # init, then a full sweep lists slot 1 again
            assert await wait_until(lambda: _after(emu, "AT+CMGD=1", h - 1), 5000)
            assert await wait_until(lambda: m.pending_sms() == 0 and m.state == "READY", 5000)
            assert _count(emu, "re keep") == 1, emu.sent
            emu.clear_scripts()
            assert await wait_until(lambda: not emu.inbox, 5000), emu.inbox
            assert _count(emu, "re keep") == 1 and len(emu.sent) == 18
            assert m.counters["sms_in"] == 18
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_b_late_banner_is_not_a_second_reset():
    # B: Call Ready / SMS Ready come after the driver re-initialised, while it
    # sends a reply: the same reset, so the reply goes out once
    async def go():
        emu = Sim800Emu(seed=13, late_banner=True)
        emu, m = await modem_on_emu(emu, on_sms=_re)
        try:
            assert await m.wait_ready(3000)
            emu.fault("reboot")
            assert await wait_until(lambda: m.counters["inits"] >= 2 and m.state == "READY", 5000)
            emu.inject_sms(OWNER, "B1")
            assert await wait_until(lambda: _count(emu, "re B1") >= 1, 5000)
            assert await wait_until(lambda: m.pending_sms() == 0 and m.state == "READY", 5000)
            assert emu.sent == [(OWNER, "re B1")], emu.sent
            assert m.counters["reboots"] == 1 and m.counters["inits"] == 2, m.counters
            assert m.counters["banner"] >= 4  # +CFUN, +CPIN, Call Ready, SMS Ready
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_c_never_reads_more_sms_than_it_can_answer():
    # C: 20 stored SMS, 3 reply parts each (60 parts for a 32-part outbox):
    # every part goes out once, none dropped
    async def go():
        emu = Sim800Emu(seed=14)
        for i in range(20):
            emu.inject_sms(OWNER, "c%d" % i)
        emu, m = await modem_on_emu(
            emu, on_sms=lambda s, t: ["%s part1" % t, "%s part2" % t, "%s part3" % t]
        )
        try:
            assert await wait_until(lambda: len(emu.sent) >= 60 and not emu.inbox, 10000), len(
                emu.sent
            )
            want = []
            for i in range(20):
                for k in (1, 2, 3):
                    want.append("c%d part%d" % (i, k))
            assert sorted([t for _, t in emu.sent]) == sorted(want)
            assert m.counters["sms_dropped"] == 0 and m.counters["sms_in"] == 20
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_d_line_after_the_final_result_is_a_stray():
    # D: a garbage line right behind AT+CMGR's OK (same write) is not SMS text
    async def go():
        got = []
        emu = Sim800Emu(seed=15)
        emu, m = await modem_on_emu(emu, on_sms=lambda s, t: got.append(t) or ["re " + t])
        try:
            assert await m.wait_ready(3000)
            # the first SIM sweep is done: the SMS comes by +CMTI and AT+CMGR (before
            # D127 wait_ready's wait_for woke a few loop turns late, and the sweep had run)
            assert await wait_until(lambda: not m.busy(), 5000)
            emu.script("AT+CMGR", "tail")
            emu.inject_sms(OWNER, "D1")
            assert await wait_until(lambda: got and m.pending_sms() == 0, 5000)
            assert got == ["D1"], got
            assert emu.sent == [(OWNER, "re D1")]
            assert m.counters["stray"] >= 1
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_e_lost_delete_ok_never_deletes_the_next_sms():
    # E: AT+CMGD=1 is done but its OK is lost, and a new SMS takes slot 1 at
    # once; it must be read and answered, not deleted by a retry
    async def go():
        emu = Sim800Emu(seed=16)
        emu, m = await modem_on_emu(emu, on_sms=_re)
        try:
            assert await m.wait_ready(3000)
            emu.script("AT+CMGD=1", "noreply", after=lambda: emu.inject_sms(OWNER, "E2"))
            emu.inject_sms(OWNER, "E1")
            assert await wait_until(lambda: len(emu.sent) >= 2 and not emu.inbox, 5000), (
                emu.sent,
                emu.inbox,
            )
            assert sorted(emu.sent) == [(OWNER, "re E1"), (OWNER, "re E2")]
            assert m.counters["sms_in"] == 2 and m.counters["resync"] >= 1
        finally:
            await stop_modem(emu, m)

    run_async(go())


class _PayloadFails(PassWriter):
    # a writer whose first SMS text (ending in ^Z) fails, as a UART write may
    def __init__(self, w):
        super().__init__(w)
        self.failed = 0

    def write(self, data):
        if self.failed == 0 and data[-1:] == b"\x1a":
            self.failed += 1
            raise OSError("uart write failed")
        self.w.write(data)


def test_e_esc_after_a_failure_between_prompt_and_text():
    # E: the text could not be written after "> ": ESC takes the modem out of
    # text entry at once, so no later command is swallowed as SMS text
    async def go():
        emu = Sim800Emu(seed=17)
        emu, m = await modem_on_emu(emu, on_sms=_re, wrap=_PayloadFails)
        try:
            assert await m.wait_ready(3000)
            emu.inject_sms(OWNER, "E3")
            assert await wait_until(lambda: emu.sent and m.pending_sms() == 0, 5000)
            assert emu.sent == [(OWNER, "re E3")]
            assert m._w.failed == 1
            assert m.counters["timeouts"] == 0, m.counters  # nothing was swallowed
            assert m.counters["bugs"] == 0
        finally:
            await stop_modem(emu, m)

    run_async(go())


def test_late_cmgs_confirmation_is_not_a_second_send():
    # the network confirms an SMS after the driver's timeout: the resync finds
    # the late +CMGS, the reply is not sent again
    async def go():
        emu = Sim800Emu(seed=18)
        # MODEM_FAST waits 200 ms for +CMGS, then 3 resyncs of 100 ms each: the +CMGS
        # comes in the middle of the resync (500 ms, its very end, passed on wait_for's
        # few loop turns of slack after each deadline, which D127's waits do not have)
        emu.cmgs_delay_ms = 350
        emu, m = await modem_on_emu(emu, on_sms=_re)
        try:
            assert await m.wait_ready(3000)
            emu.inject_sms(OWNER, "L1")
            assert await wait_until(lambda: emu.sent and m.pending_sms() == 0, 5000)
            assert await wait_until(lambda: m.state == "READY" and not emu._late, 3000)
            assert emu.sent == [(OWNER, "re L1")], emu.sent
            assert m.counters["sms_late_ok"] == 1 and m.counters["sms_out"] == 1
        finally:
            await stop_modem(emu, m)

    run_async(go())
