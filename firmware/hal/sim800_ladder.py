# SIM800 supervision: init sequence, the periodic pass and the recovery ladder.
# Licence: MIT (this project).
#
# Supervisor is a mixin of firmware.hal.sim800.Sim800 (the supervisor task).
# Recovery ladder, by consecutive failed supervisor passes (fail_streak):
#   1 retry, 2 re-init (all settings), 3 CIPSHUT + re-init, 4 AT+CFUN=1,1,
#   5 reset-pin pulse (or CFUN again without a pin); then it starts over.
# ERROR to AT+CIFSR jumps straight to the CFUN rung (GPRS stuck, spec §7); a
# POWER DOWN message or two init passes without any answer to AT jump to the
# pin rung (the modem is off or deaf). Each top rung (pin, or CFUN without a pin)
# that does not bring READY back counts in _top_fails (stuck_off at 2).

from firmware.hal.sim800_at import (
    INIT,
    OFF,
    READY,
    RECOVER,
    ModemError,
    ModemReset,
    ModemTimeout,
)
from ovms import aio, at  # D125: aio.ticks_ms etc.: 12 globals, not 15 (17 -> 12 slots)


class Supervisor:
    # ---- supervisor ----------------------------------------------------------------
    async def _supervise(self):
        # ModemError: the recovery ladder. Anything else is a bug: it ends the
        # task and run() raises it.
        while self._running and not self._dead:
            self._wake.clear()
            try:
                if self._need_init:
                    await self._init()
                await self._service()
            except ModemError as e:
                self.last_error = repr(e)
                await self._recover(e)
            if not self._wake.is_set() and not self._need_init:
                await self._wake.wait_ms(self.t_ms["idle"])
        self.state = OFF

    async def _init(self):
        self._need_init = False
        if self.state != RECOVER:
            self.state = INIT
        self._ready_ev.clear()
        try:
            await self._init_steps()
        except BaseException:
            self._need_init = True
            raise
        self._sweep_due = True
        self.counters["inits"] += 1
        self.state = READY
        self.fail_streak = 0
        self._top_fails = 0
        self._ready_ev.set()

    async def _init_steps(self):
        async with self._lock:
            for _ in range(self.limits["autobaud_tries"]):
                try:
                    await self._cmd("AT", self.t_ms["autobaud"], ("OK",), None, None, False, "")
                    break
                except ModemTimeout:
                    pass
                except ModemReset:
                    self._need_init = False  # the banner of the reset we wait for
                except ModemError:
                    pass  # ERROR: garbage in the autobaud line; try again
            else:
                self._mute += 1
                raise ModemTimeout("AT", "no answer")
            self._mute = 0  # (also the POWER DOWN mark: it answers again)
            self._need_init = False
            c = self._cmd_locked_retry
            await c("ATE0")  # a timed-out "AT" above: this resyncs first
            await c("AT+CMEE=2")
            lines = await c("AT+CPIN?", "+CPIN:")
            if "+CPIN: READY" not in lines:
                raise ModemError("AT+CPIN?", "SIM not ready")
            await c("AT+CREG=1")
            lines = await c("AT+CREG?", "+CREG:")
            self._creg_lines(lines)
            await self._csq_locked()
            await c("AT+CMGF=1")
            # ISO 8859-1: the modem converts to/from the GSM alphabet, so "@", "_",
            # "$" and umlauts arrive intact ("GSM" would hand us GSM codes)
            await c('AT+CSCS="8859-1"')
            self._set_sim_slots(await c('AT+CPMS="SM","SM","SM"', "+CPMS:"))
            await c("AT+CSDH=1")
            await c("AT+CNMI=2,1,0,0,0")
            if self.gnss:
                await c("AT+CGNSPWR=1")
        if self._need_init:
            raise ModemReset("init", "reset during init")

    def _creg_lines(self, lines):
        for ln in lines:
            if ln.startswith("+CREG:"):
                self.creg = at.parse_creg(ln)

    async def _csq_locked(self):
        lines = await self._cmd_locked_retry("AT+CSQ", "+CSQ:")
        for ln in lines:
            if ln.startswith("+CSQ:"):
                self.rssi = at.parse_csq(ln)
                self._callback(self.on_csq, self.rssi)
        self._t_csq = aio.ticks_ms()

    async def _service(self):
        self._serve_ri()  # RI fell: list the SIM (sim800_sleep.py)
        if self._dozing():  # asleep and idle: no polls (they would wake the modem)
            self.fail_streak = 0
            return
        if self._tmo_streak >= self.limits["tmo_streak"]:
            self._tmo_streak = 0
            raise ModemTimeout("streak", "commands unanswered")
        await self._sms_service()
        now = aio.ticks_ms()
        if aio.ticks_diff(now, self._t_csq) >= self.t_ms["csq"]:
            async with self._lock:
                await self._csq_locked()
                self._creg_lines(await self._cmd_locked_retry("AT+CREG?", "+CREG:"))
        if self.gnss and aio.ticks_diff(now, self._t_gnss) >= self.t_ms["gnss"]:
            self._t_gnss = now
            lines = await self.cmd("AT+CGNSINF", expect="+CGNSINF:", tries=2)
            for ln in lines:
                if ln.startswith("+CGNSINF:"):
                    self._callback(self.on_gnss, ln)
        if self.state == RECOVER:
            self.state = READY
            self._ready_ev.set()
        self.fail_streak = 0

    # ---- recovery ladder ---------------------------------------------------------
    async def _recover(self, e):
        if isinstance(e, ModemReset) and not self._dead:
            await aio.sleep_ms(self.t_ms["backoff"])
            return  # a reset is not a failure of ours: just init again
        self.fail_streak += 1
        n = self.fail_streak
        if self._cifsr_stuck:
            self._cifsr_stuck = False
            n = 4
            self.fail_streak = 4
        if self._mute >= 2 and n < 5:  # mute twice, or POWER DOWN (sim800._urc)
            # a modem that is off or deaf answers neither CIPSHUT nor CFUN
            n = 5
            self.fail_streak = 5
        self.state = RECOVER
        self._ready_ev.clear()
        if n == 1:
            self.counters["retry"] += 1
        elif n == 2:
            self.counters["reinit"] += 1
            self._need_init = True
        elif n == 3:
            self.counters["cipshut"] += 1
            self._gprs_down()
            try:
                await self.cmd("AT+CIPSHUT", until=("SHUT OK",))
            except ModemError:
                pass
            self._need_init = True
        elif n == 4 or self.pin is None:
            self.counters["cfun"] += 1
            self._gprs_down()
            try:
                await self.cmd("AT+CFUN=1,1")
            except ModemError:
                pass
            self._need_init = True
            await aio.sleep_ms(self.t_ms["boot"])
            if self.pin is None:
                self._top_fails += 1
                self.fail_streak = 3
        else:
            self.counters["pin"] += 1
            self._top_fails += 1
            self._gprs_down()
            await self.pulse_reset()
            self._need_init = True
            self.fail_streak = 0
            await aio.sleep_ms(self.t_ms["boot"])
        await aio.sleep_ms(self.t_ms["backoff"])
