# SIM800 AT command engine (the "half duplex" room of the driver).
# Licence: MIT (this project).
#
# ATEngine is a mixin of firmware.hal.sim800.Sim800; the line reader that feeds
# it is firmware/hal/sim800_reader.py.
#   cmd      one command at a time under a lock: write it, collect reply lines
#            (the reader's _line puts them here) until a final result of this
#            command or a deadline.
# Rules of the reply (issue 8, root cause D):
#   * a line that arrives after the command's final result is a stray (counted),
#     never part of that reply;
#   * after a timeout the late reply of the dead command may still come: before
#     the next command the engine re-synchronises (ATS7=k, ATS7? with a fresh k)
#     and counts every line before the answer "0kk" as stray (D30). A serial modem
#     answers in order, so once it answered k nothing older is left in the pipe.
#   * after any failure of a prompt command (CMGS, CIPSEND) between the command
#     line and its payload, ESC (0x1B) is sent so the modem leaves text entry.
# Line classification is pure and lives in lib/ovms/at.py.

# D125: what only this module reads is folded (_ESC, the default tables: _NAME =
# const(...), no globals entry) and the clock helpers are read as aio.ticks_ms: 17 names
# in this resident module's globals table, not 21 (one step, 23 -> 17 slots).

import asyncio

from ovms import aio
from ovms.compat import const

OFF = "OFF"
INIT = "INIT"
READY = "READY"
RECOVER = "RECOVER"

CTRL_Z = b"\x1a"
_ESC = const(b"\x1b")
MAX_LINES = 160  # reply lines kept per command (a full 30-slot CMGL fits)

# D95: the driver's times and its counts are two tables: _TIMING_MS holds only
# milliseconds (self.t_ms), _LIMITS only counts (self.limits). Sim800(timing=...)
# overrides entries of either by key (a key of _LIMITS goes to the counts).
# Per-command reply timeouts, ms (platform.md §7); key = command up to = or ?;
# then the driver's periods and waits, ms. D110: both tables are constant tuples of
# (key, value) pairs (in flash when frozen); each driver makes its own dicts from them
# (overridable), so the defaults cost no second pair of dicts on the heap. D126: the AT
# engine makes them (ATEngine._at_init(timing): its commands read the timeouts first),
# so the tables are this module's own folded constants (D125: no globals entry here nor
# in sim800.py, which made the dicts before)
_TIMING_MS = const((
    ("default", 5000),
    ("AT+CGATT", 10000),
    ("AT+CIPSHUT", 65000),
    ("AT+CIICR", 85000),
    ("AT+CIPSTART", 75000),
    ("AT+CIPSTART_INITIAL", 160000),  # CIPSTART from the IP INITIAL state
    ("AT+CMGS", 60000),
    ("AT+CIPSEND", 60000),
    ("AT+CMGL", 20000),
    ("AT+CMGD", 25000),
    ("AT+CFUN", 10000),
    ("AT+CUSD", 5000),  # the OK; the +CUSD answer has "ussd" below
    ("ussd", 30000),
    ("prompt", 5000),  # "> " after CMGS / CIPSEND
    ("autobaud", 1000),  # each plain "AT" while waiting for the modem to talk
    ("idle", 1000),  # supervisor wakes at least this often
    ("csq", 60000),  # CSQ + CREG poll period
    ("sweep", 300000),  # re-list stored SMS (catches a lost +CMTI)
    ("del_retry", 30000),  # a failed AT+CMGD: list and delete again after this
    ("gnss", 5000),  # AT+CGNSINF period (SIM808)
    ("rx_poll", 5000),  # TCP: ask for data without a +CIPRXGET: 1 this often
    ("backoff", 2000),  # after a failed supervisor pass
    ("boot", 3000),  # after CFUN / reset pulse before talking again
    ("banner", 60000),  # Call Ready / SMS Ready / +CPIN / +CFUN this long after RDY: same boot
    ("pin", 200),  # reset pulse length
))  # fmt: skip

# counts (D95)
_LIMITS = const((
    ("autobaud_tries", 10),  # plain "AT"s while waiting for the modem to talk
    ("sync_tries", 3),  # ATS7 resyncs after a timeout before giving up (D30)
    ("tmo_streak", 3),  # consecutive command timeouts that count as a failed pass
    ("sms_tries", 10),  # send attempts per SMS before it is dropped
    ("cmd_tries", 3),  # tries of a command sent with the lock held (_cmd_locked_retry)
))  # fmt: skip


class ModemError(OSError):
    # a command ended with an error result (final = its tag), or see below
    def __init__(self, cmd, final=None, code=None):
        super().__init__("%s: %s %s" % (cmd, final, "" if code is None else code))
        self.cmd = cmd
        self.final = final
        self.code = code


class ModemTimeout(ModemError):
    pass


class ModemReset(ModemError):
    # the modem rebooted (RDY / +CFUN mid-session) or powered down
    pass


FAIL_FINALS = ("SEND FAIL", "CONNECT FAIL")


def _key(cmd):
    i = 0
    for ch in cmd:
        if ch == "=" or ch == "?":
            break
        i += 1
    return cmd[:i]


class ATEngine:
    def _at_init(self, timing=None):
        # the driver's times and counts (D95, D110, D126): timing= overrides entries by key
        # milliseconds only; made at its size (D127: dict() added the 25 pairs one by one,
        # a 29-slot table)
        t = self.t_ms = dict.fromkeys([p[0] for p in _TIMING_MS])
        for k, v in _TIMING_MS:
            t[k] = v
        self.limits = dict(_LIMITS)  # counts only
        if timing:
            for k in timing:
                (self.limits if k in self.limits else self.t_ms)[k] = timing[k]
        # command in flight (owned by _cmd under the lock; read by the reader)
        self._lock = asyncio.Lock()
        self._done = aio.Flag()  # the reply ended (D127: its timed wait makes no task)
        self._active = False
        self._lines = []
        self._final = None
        self._code = None
        self._expect = None
        self._until = ("OK",)  # its finals; "IP" among them: an IP address line ends it
        self._echo = None
        self._mark = None  # resync: every line before this exact one is a stray
        self._want_prompt = False
        self._rxget = False  # a CIPRXGET=2 is running: payloads go to the stream
        self._rx_left = 0
        self._stale = False  # a command timed out: resync before the next one
        self._nonce = 0  # the last resync's S7 value
        self._esc_due = False  # a prompt command failed before its payload: send ESC
        self._tmo_streak = 0  # consecutive command timeouts (any task)
        self.truncated = False  # the last reply had more than MAX_LINES lines
        self.payload_sent = False  # the modem has the payload (e.g. an SMS text)
        self.late_cmgs = False  # a stray "+CMGS:" came (a late SMS confirmation)
        self.progress = 0  # advances with every line read and every command answered

    # ---- commands ------------------------------------------------------------
    async def cmd(
        self, text, ms=None, until=("OK",), expect=None, payload=None, ip=False, tries=1
    ):
        # send one AT command; returns its intermediate lines. Raises
        # ModemError (an OSError) on an error result, ModemTimeout, ModemReset.
        # tries > 1: repeat after an error or timeout (not after a reset); only
        # for commands that are safe to repeat. payload: bytes written after the
        # prompt, or an async callable (text) that writes them (D107, sim800_gprs).
        n = 0
        while True:
            n += 1
            try:
                async with self._lock:
                    return await self._cmd(text, ms, until, expect, payload, ip)
            except ModemReset:
                raise
            except ModemError:
                if n >= tries:
                    raise
                self.counters["retry"] += 1

    async def _cmd_locked_retry(self, text, expect=None):
        # _cmd with the lock already held, up to limits["cmd_tries"] tries (the init
        # sequence, the supervisor's CSQ/CREG polls)
        n = 0
        while True:
            n += 1
            try:
                return await self._cmd(text, None, ("OK",), expect, None, False)
            except ModemReset:
                raise
            except ModemError:
                if n >= self.limits["cmd_tries"]:
                    raise
                self.counters["retry"] += 1

    def _timeout(self, text):
        k = _key(text)
        if k in self.t_ms:
            return self.t_ms[k]
        return self.t_ms["default"]

    async def _write(self, data, text="write"):
        if self.asleep or self._t_awake_wait:  # sleep mode 1: DTR low first
            await self._wake_for_write()
        if isinstance(data, str):
            data = data.encode()
        try:
            self._w.write(data)
            await self._w.drain()
        except OSError as e:  # the port is gone: a modem failure, not a bug
            raise ModemError(text, "write failed", repr(e))

    async def _sync(self):
        # after a timeout (lock held): set S7 to a fresh nonce k, then ask for it;
        # every line before the reply "0kk" is a stray late reply (D30). S7 (wait
        # for a data call's carrier) is unused by SMS and GPRS.
        n = 0
        while True:
            n += 1
            self._nonce = self._nonce % 255 + 1
            try:
                await self._write("ATS7=%d\r" % self._nonce, "ATS7")  # its OK: a stray
                await self._cmd("ATS7?", None, ("OK",), None, None, False, "%03d" % self._nonce)
                self.counters["resync"] += 1
                self._stale = False
                return
            except ModemReset:
                raise
            except ModemError:
                if n >= self.limits["sync_tries"]:
                    raise ModemTimeout("sync", "no answer")

    async def _cmd(self, text, ms, until, expect, payload, ip, mark=None):
        # mark: None = resync first if a command timed out; "" = no resync (the
        # autobaud "AT"); "0kk" = the resync's own marker line
        if self._dead:
            raise ModemError(text, "port closed")
        if ms is None:
            ms = self._timeout(text)
        if self._esc_due:
            await self._write(_ESC, text)
            self._esc_due = False
        if self._stale and mark is None:
            await self._sync()
        self._lines = []
        self.truncated = False
        self._final = None
        self._code = None
        self._expect = expect
        self._until = until + ("IP",) if ip else until  # (AT+CIFSR, at GPRS bring-up)
        self._echo = text
        self._mark = mark if mark else None
        self._want_prompt = payload is not None
        self._rxget = text.startswith("AT+CIPRXGET=2")
        self._rx_left = 0
        self._done.clear()
        self._active = True
        self.payload_sent = False
        if payload is not None:
            self._esc_due = True  # until the payload is written (or no prompt came)
        t0 = aio.ticks_ms()
        try:
            await self._write(text + "\r", text)
            if payload is not None:
                if not await self._wait_final(self.t_ms["prompt"]):
                    self._timed_out()
                    raise ModemTimeout(text, "no prompt")
                if self._final != "PROMPT":
                    if self._final != "RESET":
                        self._esc_due = False  # the modem answered: no text entry
                    self._check(text)  # raises: ERROR instead of the prompt
                    raise ModemError(text, self._final)  # an OK: not what we asked
                self._final = None
                self._want_prompt = False
                self._done.clear()
                if callable(payload):  # the GPRS stream writes its pieces (D107)
                    await payload(text)
                else:
                    await self._write(payload, text)
                self._esc_due = False
                self.payload_sent = True
            if not await self._wait_final(ms):
                self._timed_out()
                raise ModemTimeout(text, "timeout")
            self._check(text)
            return self._lines
        finally:
            self._active = False
            self._expect = None
            self._mark = None
            self._want_prompt = False
            self._rxget = False
            if self._esc_due and not self._dead:
                try:  # leave text entry now; if this fails, the next command sends it
                    await self._write(_ESC, text)
                    self._esc_due = False
                except BaseException:  # noqa: S110 (cancelled / port gone: _esc_due stays)
                    pass
            if self.trace is not None:
                self.trace(text, self._final, aio.ticks_diff(aio.ticks_ms(), t0))

    async def _wait_final(self, ms):
        # True when the reply's end (or the prompt) came within ms. The result
        # is _final, not the wait: when the deadline and the final meet in one
        # loop turn, the wait may report a timeout although the reply came, and
        # a confirmed SMS would then be taken as lost and sent again (the soak's
        # duplicates, both runtimes)
        await self._done.wait_ms(ms)
        return self._final is not None

    def _timed_out(self):
        self.counters["timeouts"] += 1
        self._tmo_streak += 1
        self._stale = True

    def _check(self, text):
        self._tmo_streak = 0
        f = self._final
        if f == "RESET":
            raise ModemReset(text, "modem reset")
        if f == "PORT":
            raise ModemError(text, "port closed")
        if f == "IP" or f in self._until:
            return
        self.counters["errors"] += 1
        raise ModemError(text, f, self._code)

    def _finish(self, final, code=None):
        if self._active and self._final is None:
            self._final = final
            self._code = code
            self.progress += 1
            self._done.set()
