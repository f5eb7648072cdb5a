# SIM800 / SIM808 modem driver: AT engine, SMS, GPRS TCP stream, USSD, GNSS,
# supervision and recovery. asyncio only; runs under MicroPython and CPython.
# Licence: MIT (this project).
#
# Built from a ready-made stream pair (asyncio StreamReader/StreamWriter API):
# on the device a machine.UART wrapped in asyncio streams, on the host a TCP
# connection to tools/sim800emu.py. The optional reset pin is any object with
# value(v) (machine.Pin); it is pulled low for `pin_ms` as the last rung of the
# recovery ladder.
#
# Tasks (both started by run()):
#   reader      splits the byte stream into lines, the "> " prompt and the
#               counted binary payloads (+CIPRXGET: 2,got,left / +IPD,n:), and
#               dispatches URCs at once (no AT traffic from here)
#   supervisor  (run() itself) init, SMS in/out, CSQ/CREG/GNSS polling, and the
#               recovery ladder; AT commands from all tasks are serialised by a
#               lock, one command in flight at a time (half duplex)
# Line classification is pure and lives in lib/ovms/at.py.
#
# state: OFF -> INIT -> READY; RECOVER while climbing the ladder. READY means
# the modem answers and SMS are set up (registration is in .creg).
#
# Recovery ladder, by consecutive failed supervisor passes (fail_streak):
#   1 retry, 2 re-init (all settings), 3 CIPSHUT + re-init, 4 AT+CFUN=1,1,
#   5 reset-pin pulse (or CFUN again without a pin); then it starts over.
# ERROR to AT+CIFSR jumps straight to the CFUN rung (GPRS stuck, spec §7); a
# POWER DOWN message or two init passes without any answer to AT jump to the
# pin rung (the modem is off or deaf).
# Counters for every rung and every fault seen are in .counters.

import asyncio

from firmware.hal.netstream import StreamBase
from ovms import at
from ovms.aio import sleep_ms, ticks_diff, ticks_ms, wait_event

OFF = "OFF"
INIT = "INIT"
READY = "READY"
RECOVER = "RECOVER"

CTRL_Z = b"\x1a"
ESC = b"\x1b"
SMS_LEN = 160  # GSM-7 characters per SMS
TCP_CHUNK = 1460  # bytes per CIPSEND / CIPRXGET
MAX_LINES = 64  # reply lines kept per command
MAX_LINE = 1024  # a line longer than this without LF is garbage: dropped
OUTBOX_MAX = 32
PENDING_MAX = 32
RECENT_MAX = 16

# per-command reply timeouts, ms (platform.md §7); key = command up to = or ?
TIMING = {
    "default": 5000,
    "AT+CGATT": 10000,
    "AT+CIPSHUT": 65000,
    "AT+CIICR": 85000,
    "AT+CIPSTART": 75000,
    "AT+CIPSTART_INITIAL": 160000,  # CIPSTART from the IP INITIAL state
    "AT+CMGS": 60000,
    "AT+CIPSEND": 60000,
    "AT+CMGL": 20000,
    "AT+CMGD": 25000,
    "AT+CFUN": 10000,
    "AT+CUSD": 5000,  # the OK; the +CUSD answer has "ussd" below
    "ussd": 30000,
    "prompt": 5000,  # "> " after CMGS / CIPSEND
    "autobaud": 1000,  # each plain "AT" while waiting for the modem to talk
    "autobaud_tries": 10,
    "quiet": 500,  # after a timeout: wait this long without input, drop late lines
    "idle": 1000,  # supervisor wakes at least this often
    "csq": 60000,  # CSQ + CREG poll period
    "sweep": 300000,  # re-list stored SMS (catches a lost +CMTI)
    "gnss": 5000,  # AT+CGNSINF period (SIM808)
    "rx_poll": 5000,  # TCP: ask for data without a +CIPRXGET: 1 this often
    "backoff": 2000,  # after a failed supervisor pass
    "boot": 3000,  # after CFUN / reset pulse before talking again
    "pin": 200,  # reset pulse length
    "tmo_streak": 3,  # consecutive command timeouts that count as a failed pass
    "sms_tries": 10,  # send attempts per SMS before it is dropped
}


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
    # the modem rebooted (RDY / +CFUN / Call Ready mid-session) or powered down
    pass


def split_sms(text, n=SMS_LEN):
    # one reply text -> SMS-sized parts; characters beyond ISO 8859-1 (the
    # CSCS character set) become "?", ^Z/ESC are removed
    out = []
    clean = []
    for ch in text:
        o = ord(ch)
        if o == 0x1A or o == 0x1B:
            continue
        clean.append(ch if o < 256 else "?")
    s = "".join(clean)
    while len(s) > n:
        out.append(s[:n])
        s = s[n:]
    out.append(s)
    return out


def _key(cmd):
    i = 0
    for ch in cmd:
        if ch == "=" or ch == "?":
            break
        i += 1
    return cmd[:i]


class Sim800:
    def __init__(
        self,
        reader,
        writer,
        reset_pin=None,
        on_sms=None,
        on_csq=None,
        on_gnss=None,
        apn="",
        user="",
        password="",
        gnss=False,
        timing=None,
        log=None,
    ):
        self._r = reader
        self._w = writer
        self.pin = reset_pin
        self.on_sms = on_sms  # (sender, text) -> list of reply texts (or None)
        self.on_csq = on_csq  # (rssi 0..31/99)
        self.on_gnss = on_gnss  # ("+CGNSINF: ..." line)
        self.on_urc = None  # optional (tag, arg) observer
        self.trace = None  # optional (command, final, ms) observer, for debugging
        self.apn = apn
        self.user = user
        self.password = password
        self.gnss = gnss
        self.t = dict(TIMING)
        if timing:
            for k in timing:
                self.t[k] = timing[k]
        self.log = log
        self.state = OFF
        self.creg = -1  # registration stat (at.CREG_*)
        self.rssi = 99
        self.ip = ""
        self.gprs_up = False
        self.fail_streak = 0
        self.payload_sent = False  # see _cmd
        self.counters = {
            "inits": 0,
            "reboots": 0,  # modem resets seen while READY
            "timeouts": 0,
            "errors": 0,  # ERROR / +CME / +CMS results
            "retry": 0,
            "reinit": 0,
            "cipshut": 0,
            "cfun": 0,
            "pin": 0,
            "undervoltage": 0,
            "power_down": 0,
            "pdp_deact": 0,
            "closed": 0,
            "stray": 0,  # lines/payloads with no command waiting
            "sms_in": 0,
            "sms_dup": 0,  # already answered (seen again after a lost CMGD)
            "sms_out": 0,
            "sms_dropped": 0,
            "sms_unconfirmed": 0,  # sent again after a lost +CMGS (may duplicate)
            "bugs": 0,  # exceptions in callbacks / passes (should stay 0)
        }
        self.last_error = None
        # command in flight (owned by _cmd under the lock; read by the reader)
        self._lock = asyncio.Lock()
        self._gprs_lock = asyncio.Lock()
        self._ussd_lock = asyncio.Lock()
        self._done = asyncio.Event()
        self._active = False
        self._lines = []
        self._final = None
        self._code = None
        self._expect = None
        self._until = ("OK",)
        self._until_ip = False
        self._echo = None
        self._want_prompt = False
        self._rxget = False  # a CIPRXGET=2 is running: payloads go to the stream
        self._rx_left = 0
        self._stale = False  # a command timed out: flush late replies first
        self._t_stale = ticks_ms()
        self._tmo_streak = 0  # consecutive command timeouts (any task)
        # reader state
        self._need = 0  # binary payload bytes still to come
        self._to_stream = False  # that payload belongs to the TCP stream
        self._cmt = None  # +CMT header seen: (sender, ts); the text is the next line
        self._last_rx = ticks_ms()
        self._dead = False  # the port itself ended (host: emulator gone)
        # supervisor state
        self._need_init = True
        self._wake = asyncio.Event()
        self._ready_ev = asyncio.Event()
        self._pending = []  # SMS storage indexes announced by +CMTI
        self._direct = []  # (sender, ts, text) from +CMT
        self._outbox = []  # [number, text, tries]
        self._recent = []  # (sender, ts, text) of handled SMS (exactly-once guard)
        self._sweep_due = True
        self._t_csq = ticks_ms()
        self._t_sweep = ticks_ms()
        self._t_gnss = ticks_ms()
        self._cifsr_stuck = False
        self._powered_down = False  # POWER DOWN seen: jump to the pin rung
        self._mute = 0  # init passes in a row without any answer to AT
        self._cusd = None
        self._cusd_ev = asyncio.Event()
        self._stream = None
        self._tasks = []
        self._running = False

    # ---- public --------------------------------------------------------------
    def start(self):
        # create the reader and supervisor tasks; returns the supervisor task
        self._running = True
        self._tasks.append(asyncio.create_task(self._reader()))
        t = asyncio.create_task(self.run())
        self._tasks.append(t)
        return t

    async def stop(self):
        self._running = False
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except BaseException:  # CancelledError is a BaseException on CPython
                pass
        self._tasks = []
        try:
            self._w.close()
            await self._w.wait_closed()
        except Exception:
            pass

    async def wait_ready(self, ms=None):
        # True once READY (within ms, if given)
        while self.state != READY:
            if ms is None:
                await self._ready_ev.wait()
            elif not await wait_event(self._ready_ev, ms):
                return self.state == READY
        return True

    def send_sms(self, number, texts):
        # queue one text or a list of texts (several SMS) to `number`
        if isinstance(texts, str):
            texts = [texts]
        for t in texts:
            for part in split_sms(t):
                if len(self._outbox) >= OUTBOX_MAX:
                    self._outbox.pop(0)
                    self.counters["sms_dropped"] += 1
                self._outbox.append([number, part, 0])
        self._wake.set()

    def pending_sms(self):
        return len(self._outbox)

    async def cmd(
        self, text, ms=None, until=("OK",), expect=None, payload=None, ip=False, tries=1
    ):
        # send one AT command; returns its intermediate lines. Raises
        # ModemError (an OSError) on an error result, ModemTimeout, ModemReset.
        # tries > 1: repeat after an error or timeout (not after a reset); only
        # for commands that are safe to repeat.
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

    async def _cmd_r(self, text, expect=None):
        # _cmd with the lock already held, up to 3 tries (init sequence)
        n = 0
        while True:
            n += 1
            try:
                return await self._cmd(text, None, ("OK",), expect, None, False)
            except ModemReset:
                raise
            except ModemError:
                if n >= 3:
                    raise
                self.counters["retry"] += 1

    async def ussd(self, code, ms=None):
        # AT+CUSD=1,"code" -> the network's answer text (UCS2 decoded)
        async with self._ussd_lock:
            if not await self.wait_ready(self.t["ussd"]):
                raise ModemError("CUSD", "not ready")
            self._cusd = None
            self._cusd_ev.clear()
            await self.cmd('AT+CUSD=1,"%s"' % code)
            if not await wait_event(self._cusd_ev, ms or self.t["ussd"]):
                raise ModemTimeout("CUSD", "no answer")
            m, text, dcs = self._cusd
            if m == 1:  # the network expects an answer: end the session
                try:
                    await self.cmd("AT+CUSD=2")
                except ModemError:
                    pass
            if m < 0 or m > 2:
                raise ModemError("CUSD", "m=%d" % m)
            return text

    async def open_tcp(self, host, port):
        # GPRS up (if needed), then one TCP connection (CIPMUX=0) as a stream.
        # An ERROR to CIPSTART (context gone, a link the modem still holds)
        # gets one full bring-up (starting with CIPSHUT) and a second try.
        if self._stream is not None:
            await self._stream.close()
        if not await self.wait_ready(self.t["AT+CIICR"]):
            raise ModemError("CIPSTART", "not ready")
        tries = 0
        while True:
            tries += 1
            await self._gprs_bringup()
            s = Sim800Stream(self)
            self._stream = s
            try:
                await self.cmd(
                    'AT+CIPSTART="TCP","%s","%d"' % (host, port),
                    until=("CONNECT OK", "ALREADY CONNECT"),
                )
                return s
            except ModemError as e:
                s.dropped = True
                s.closed = True
                if self._stream is s:
                    self._stream = None
                if isinstance(e, ModemReset) or e.final == "CONNECT FAIL":
                    raise
                self.gprs_up = False  # full bring-up next time
                if tries >= 2:
                    raise

    # ---- AT engine -------------------------------------------------------------
    def _timeout(self, text):
        k = _key(text)
        if k in self.t:
            return self.t[k]
        return self.t["default"]

    async def _write(self, data):
        if isinstance(data, str):
            data = data.encode()
        self._w.write(data)
        await self._w.drain()

    async def _flush(self):
        # after a timeout: give a late reply `quiet` ms to arrive and be
        # dropped as stray (no command is waiting) before the next command
        wait = self.t["quiet"] - ticks_diff(ticks_ms(), self._t_stale)
        if wait > 0:
            await sleep_ms(wait)
        self._stale = False

    async def _cmd(self, text, ms, until, expect, payload, ip):
        if self._dead:
            raise ModemError(text, "port closed")
        if ms is None:
            ms = self._timeout(text)
        if self._stale:
            await self._flush()
        self._lines = []
        self._final = None
        self._code = None
        self._expect = expect
        self._until = until
        self._until_ip = ip
        self._echo = text
        self._want_prompt = payload is not None
        self._rxget = text.startswith("AT+CIPRXGET=2")
        self._rx_left = 0
        self._done.clear()
        self._active = True
        self.payload_sent = False  # the modem has the payload (e.g. an SMS text)
        t0 = ticks_ms()
        try:
            await self._write(text + "\r")
            if payload is not None:
                if not await wait_event(self._done, self.t["prompt"]):
                    await self._write(ESC)  # leave the prompt in case we missed it
                    self._timed_out()
                    raise ModemTimeout(text, "no prompt")
                if self._final != "PROMPT":
                    self._check(text)  # raises: ERROR instead of the prompt
                    raise ModemError(text, self._final)  # an OK: not what we asked
                self._final = None
                self._want_prompt = False
                self._done.clear()
                await self._write(payload)
                self.payload_sent = True
            if not await wait_event(self._done, ms):
                self._timed_out()
                raise ModemTimeout(text, "timeout")
            self._check(text)
            return self._lines
        finally:
            self._active = False
            self._expect = None
            self._want_prompt = False
            self._rxget = False
            if self.trace is not None:
                self.trace(text, self._final, ticks_diff(ticks_ms(), t0))

    def _timed_out(self):
        self.counters["timeouts"] += 1
        self._tmo_streak += 1
        self._stale = True
        self._t_stale = ticks_ms()

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
            self._done.set()

    # ---- reader task ---------------------------------------------------------------
    async def _reader(self):
        buf = b""
        r = self._r
        while True:
            try:
                chunk = await r.read(256)
            except asyncio.CancelledError:
                raise
            except Exception:
                chunk = b""
            if not chunk:
                self._dead = True
                self._finish("PORT")
                self._wake.set()
                return
            self._last_rx = ticks_ms()
            buf = self._split(buf + chunk)

    def _split(self, buf):
        # consume complete items from buf; returns the unconsumed tail
        while buf:
            if self._need:
                take = self._need if self._need < len(buf) else len(buf)
                self._payload(buf[:take])
                buf = buf[take:]
                self._need -= take
                continue
            c = buf[0]
            if c == 13 or c == 10 or c == 0:
                buf = buf[1:]
                continue
            if c == 0x3E and self._want_prompt and self._active:  # "> "
                buf = buf[2:] if buf[1:2] == b" " else buf[1:]
                self._want_prompt = False
                self._finish("PROMPT")
                continue
            if c == 0x2B and buf[:5] == b"+IPD,":  # "+IPD,n:" payload without LF
                colon = buf.find(b":")
                nl = buf.find(b"\n")
                if colon > 0 and (nl < 0 or colon < nl):
                    n = at.parse_ipd(at.decode(buf[: colon + 1]))
                    buf = buf[colon + 1 :]
                    if n > 0:
                        self._need = n
                        self._to_stream = True
                    continue
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > MAX_LINE:
                    self.counters["stray"] += 1
                    buf = b""
                break
            raw = buf[:nl]
            buf = buf[nl + 1 :]
            try:
                self._line(at.decode(raw))
            except Exception as e:  # a bug here must not kill the reader
                self.counters["bugs"] += 1
                self.last_error = repr(e)
        return buf

    def _payload(self, data):
        s = self._stream
        if self._to_stream and s is not None:
            s._feed(data)
        else:
            self.counters["stray"] += 1

    def _line(self, line):
        if not line:
            return
        if self._cmt is not None:  # text line of a +CMT
            sender, ts = self._cmt
            self._cmt = None
            if len(self._direct) < PENDING_MAX:
                self._direct.append((sender, ts, line))
            self._wake.set()
            return
        if line.startswith("+CIPRXGET: 2,"):
            # the payload follows without LF; its byte count is honoured even
            # for a late reply (then the bytes are dropped as stray)
            got, left = at.parse_rxget2(line)
            if self._rxget:
                self._rx_left = left if left > 0 else 0
            if got > 0:
                self._need = got
                self._to_stream = self._rxget
            return
        kind, tag, arg = at.classify(line, self._expect)
        if kind == at.URC:
            self._urc(tag, arg, line)
            return
        if not self._active:
            self.counters["stray"] += 1
            return
        if kind == at.DATA:
            if line == self._echo:
                return
            if self._until_ip and at.looks_like_ip(line):
                self._lines.append(line)
                self._finish("IP")
                return
            if len(self._lines) < MAX_LINES:
                self._lines.append(line)
        elif kind == at.FINAL:
            # success finals of this command, generic errors and the fail
            # finals end it; an OK before CONNECT OK (CIPSTART) or a stray
            # SHUT OK / CLOSE OK does not
            if tag in self._until or at.is_error(tag) or tag in _FAIL_FINALS:
                self._finish(tag, arg)
        elif kind == at.PROMPT and self._want_prompt:
            self._want_prompt = False
            self._finish("PROMPT")

    def _urc(self, tag, arg, line):
        if self.on_urc is not None:
            try:
                self.on_urc(tag, arg)
            except Exception:
                self.counters["bugs"] += 1
        if tag == at.U_CMTI:
            idx = at.parse_cmti(arg)[1]
            if idx >= 0 and idx not in self._pending and len(self._pending) < PENDING_MAX:
                self._pending.append(idx)
            self._wake.set()
        elif tag == at.U_CMT:
            self._cmt = at.parse_cmt(line) or ("", "")
        elif tag == at.U_CUSD:
            self._cusd = at.parse_cusd(arg)
            self._cusd_ev.set()
        elif tag == at.U_CIPRXGET:
            if arg[:1] == "1" and self._stream is not None:
                self._stream._avail()
        elif tag == at.U_CLOSED:
            self.counters["closed"] += 1
            if self._stream is not None:
                self._stream._eof()

        elif tag == at.U_PDP_DEACT:
            self.counters["pdp_deact"] += 1
            self._gprs_down()

        elif tag == at.U_UNDERVOLT or tag == at.U_OVERVOLT:
            self.counters["undervoltage"] += 1
        elif tag == at.U_POWER_DOWN:
            self.counters["power_down"] += 1
            self._powered_down = True  # only the reset pin brings it back
            self._rebooted()
        elif tag == at.U_RDY or tag == at.U_CFUN:
            self._rebooted()
        elif tag == at.U_CPIN or tag == at.U_CALL_READY or tag == at.U_SMS_READY:
            if self.state == READY:
                self._rebooted()
        elif tag == at.U_CREG:
            self.creg = at.parse_creg(line)
        elif tag == at.U_CGNSINF or tag == at.U_UGNSINF:
            self._gnss_line(line)

    def _rebooted(self):
        # modem reset: every setting is gone, so is GPRS; abort what is running
        if self.state == READY:
            self.counters["reboots"] += 1
        if self.state != OFF:
            self.state = INIT
        self._ready_ev.clear()
        self._need_init = True
        self._gprs_down()
        self._need = 0
        if self._active:
            self._stale = True
            self._t_stale = ticks_ms()
        self._finish("RESET")
        self._wake.set()

    def _gprs_down(self):
        self.gprs_up = False
        s = self._stream
        if s is not None:
            s._drop()
            self._stream = None

    # ---- supervisor ----------------------------------------------------------------
    async def run(self):
        self._running = True
        if not self._tasks:
            self._tasks.append(asyncio.create_task(self._reader()))
        while self._running and not self._dead:
            self._wake.clear()
            try:
                if self._need_init:
                    await self._init()
                await self._service()
            except ModemError as e:
                self.last_error = repr(e)
                await self._recover(e)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a bug, or a callback that raised
                self.counters["bugs"] += 1
                self.last_error = repr(e)
                await sleep_ms(self.t["backoff"])
            if not self._wake.is_set() and not self._need_init:
                await wait_event(self._wake, self.t["idle"])
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
        self._ready_ev.set()

    async def _init_steps(self):
        async with self._lock:
            for _ in range(self.t["autobaud_tries"]):
                try:
                    await self._cmd("AT", self.t["autobaud"], ("OK",), None, None, False)
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
            self._mute = 0
            self._powered_down = False
            self._need_init = False
            c = self._cmd_r
            await c("ATE0")
            await c("AT+CMEE=2")
            lines = await c("AT+CPIN?", "+CPIN:")
            if not _has(lines, "+CPIN: READY"):
                raise ModemError("AT+CPIN?", "SIM not ready")
            await c("AT+CREG=1")
            lines = await c("AT+CREG?", "+CREG:")
            for ln in lines:
                if ln.startswith("+CREG:"):
                    self.creg = at.parse_creg(ln)
            await self._csq_locked()
            await c("AT+CMGF=1")
            # ISO 8859-1: the modem converts to/from the GSM alphabet, so "@", "_",
            # "$" and umlauts arrive intact ("GSM" would hand us GSM codes)
            await c('AT+CSCS="8859-1"')
            await c('AT+CPMS="SM","SM","SM"', "+CPMS:")
            await c("AT+CSDH=1")
            await c("AT+CNMI=2,1,0,0,0")
            if self.gnss:
                await c("AT+CGNSPWR=1")
        if self._need_init:
            raise ModemReset("init", "reset during init")

    async def _csq_locked(self):
        lines = await self._cmd_r("AT+CSQ", "+CSQ:")
        for ln in lines:
            if ln.startswith("+CSQ:"):
                self.rssi = at.parse_csq(ln)
                if self.on_csq is not None:
                    self.on_csq(self.rssi)
        self._t_csq = ticks_ms()

    async def _service(self):
        if self._tmo_streak >= self.t["tmo_streak"]:
            self._tmo_streak = 0
            raise ModemTimeout("streak", "commands unanswered")
        now = ticks_ms()
        if ticks_diff(now, self._t_sweep) >= self.t["sweep"]:
            self._sweep_due = True
        # back-pressure: while many replies wait, new SMS stay in SIM storage
        # (read later) instead of pushing replies out of a full outbox
        if self._sweep_due and len(self._outbox) < OUTBOX_MAX // 2:
            await self._sweep()
        while self._pending and len(self._outbox) < OUTBOX_MAX // 2:
            idx = self._pending.pop(0)
            await self._read_sms(idx)
        while self._direct:
            sender, ts, text = self._direct.pop(0)
            self._handle_sms(sender, ts, text)
        while self._outbox:
            await self._send_first()
        now = ticks_ms()
        if ticks_diff(now, self._t_csq) >= self.t["csq"]:
            async with self._lock:
                await self._csq_locked()
                lines = await self._cmd_r("AT+CREG?", "+CREG:")
            for ln in lines:
                if ln.startswith("+CREG:"):
                    self.creg = at.parse_creg(ln)
        if self.gnss and ticks_diff(now, self._t_gnss) >= self.t["gnss"]:
            self._t_gnss = now
            lines = await self.cmd("AT+CGNSINF", expect="+CGNSINF:", tries=2)
            for ln in lines:
                if ln.startswith("+CGNSINF:"):
                    self._gnss_line(ln)
        if self.state == RECOVER:
            self.state = READY
            self._ready_ev.set()
        self.fail_streak = 0

    def _gnss_line(self, line):
        if self.on_gnss is not None:
            self.on_gnss(line)

    # ---- SMS ---------------------------------------------------------------------------
    async def _sweep(self):
        # list every stored SMS: handle the received ones, delete them
        lines = await self.cmd('AT+CMGL="ALL"', expect="+CMGL:", tries=2)
        self._sweep_due = False
        self._t_sweep = ticks_ms()
        msgs = []
        cur = None
        for ln in lines:
            h = at.parse_cmgl(ln) if ln.startswith("+CMGL:") else None
            if h is not None:
                cur = [h, []]
                msgs.append(cur)
            elif cur is not None:
                cur[1].append(ln)
        for h, text in msgs:
            idx, status, sender, ts = h
            if idx in self._pending:
                self._pending.remove(idx)
            if status.startswith("REC"):
                self._handle_sms(sender, ts, "\n".join(text))
                await self.cmd("AT+CMGD=%d" % idx, tries=2)

    async def _read_sms(self, idx):
        lines = await self.cmd("AT+CMGR=%d" % idx, expect="+CMGR:", tries=2)
        hdr = None
        text = []
        for ln in lines:
            if hdr is None:
                if ln.startswith("+CMGR:"):
                    hdr = at.parse_cmgr(ln)
            else:
                text.append(ln)
        if hdr is None:
            return  # empty slot (already handled by a sweep)
        self._handle_sms(hdr[1], hdr[2], "\n".join(text))
        await self.cmd("AT+CMGD=%d" % idx, tries=2)

    def _handle_sms(self, sender, ts, text):
        # exactly once: an SMS seen again (its delete got lost) is only deleted
        key = (sender, ts, text)
        if key in self._recent:
            self.counters["sms_dup"] += 1
            return
        self._recent.append(key)
        if len(self._recent) > RECENT_MAX:
            self._recent.pop(0)
        self.counters["sms_in"] += 1
        replies = None
        if self.on_sms is not None:
            try:
                replies = self.on_sms(sender, text)
            except Exception as e:
                self.counters["bugs"] += 1
                self.last_error = repr(e)
        if replies:
            self.send_sms(sender, replies)

    async def _send_first(self):
        item = self._outbox[0]
        number, text, tries = item
        item[2] = tries + 1
        try:
            await self.cmd(
                'AT+CMGS="%s"' % number,
                expect="+CMGS:",
                payload=at.encode(text) + CTRL_Z,
            )
        except ModemError:
            # At least once: when the text reached the modem but its +CMGS
            # confirmation was lost (timeout, reset), the SMS may be out already;
            # it is sent again (a duplicate reply beats a lost alert) and counted.
            if self.payload_sent:
                self.counters["sms_unconfirmed"] += 1
            if item[2] >= self.t["sms_tries"]:
                if self._outbox and self._outbox[0] is item:
                    self._outbox.pop(0)
                self.counters["sms_dropped"] += 1
            raise
        if self._outbox and self._outbox[0] is item:
            self._outbox.pop(0)
        self.counters["sms_out"] += 1

    # ---- GPRS ----------------------------------------------------------------------------
    async def _gprs_bringup(self):
        async with self._gprs_lock:
            if self.gprs_up:
                return
            await self.cmd("AT+CIPSHUT", until=("SHUT OK",), tries=3)
            await self.cmd("AT+CIPMUX=0", tries=3)
            await self.cmd("AT+CIPRXGET=1", tries=3)
            await self.cmd("AT+CGATT=1", tries=3)
            await self.cmd(
                'AT+CSTT="%s","%s","%s"' % (self.apn, self.user, self.password), tries=3
            )
            await self.cmd("AT+CIICR", tries=3)
            try:
                lines = await self.cmd("AT+CIFSR", ip=True, tries=3)
            except ModemError as e:
                if e.final == "ERROR" or e.final == "+CME ERROR":
                    self._cifsr_stuck = True  # only a reset helps (spec §7)
                    self._wake.set()
                raise
            self.ip = lines[-1] if lines else ""
            self.gprs_up = True

    async def _rx_get(self, n):
        # pull up to n bytes of the TCP stream (manual receive mode)
        await self.cmd("AT+CIPRXGET=2,%d" % n, expect="+CIPRXGET: 2")
        return self._rx_left

    # ---- recovery ladder ---------------------------------------------------------
    async def _recover(self, e):
        if isinstance(e, ModemReset) and not self._dead:
            await sleep_ms(self.t["quiet"])
            return  # a reset is not a failure of ours: just init again
        self.fail_streak += 1
        n = self.fail_streak
        if self._cifsr_stuck:
            self._cifsr_stuck = False
            n = 4
            self.fail_streak = 4
        if (self._powered_down or self._mute >= 2) and n < 5:
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
            await sleep_ms(self.t["boot"])
            if self.pin is None:
                self.fail_streak = 3
        else:
            self.counters["pin"] += 1
            self._gprs_down()
            await self.pulse_reset()
            self._need_init = True
            self.fail_streak = 0
            await sleep_ms(self.t["boot"])
        await sleep_ms(self.t["backoff"])

    async def pulse_reset(self):
        if self.pin is None:
            return
        self.pin.value(0)
        await sleep_ms(self.t["pin"])
        self.pin.value(1)


_FAIL_FINALS = ("SEND FAIL", "CONNECT FAIL")


def _has(lines, text):
    for ln in lines:
        if ln == text:
            return True
    return False


class Sim800Stream(StreamBase):
    # the single GPRS TCP connection (CIPMUX=0) in manual receive mode
    def __init__(self, modem):
        super().__init__()
        self._m = modem
        self._in = b""  # payload delivered by the reader
        self._tx = b""
        self._ev = asyncio.Event()
        self._ready = True  # ask once at start: data may already be waiting
        self.closed = False
        self.eof = False  # the peer closed (CLOSED)
        self.dropped = False  # link lost (PDP deact, modem reset, send failure)

    # reader-side hooks (sync)
    def _feed(self, data):
        self._in += data
        self._ev.set()

    def _avail(self):
        self._ready = True
        self._ev.set()

    def _eof(self):
        self.eof = True
        self._ev.set()

    def _drop(self):
        self.dropped = True
        self._ev.set()

    async def _recv(self, n):
        m = self._m
        while True:
            if self._in:
                out = self._in
                self._in = b""
                return out
            if self.dropped:
                raise OSError("link dropped")
            if self.eof or self.closed:
                return b""
            if self._ready:
                self._ready = False
                try:
                    left = await m._rx_get(n if n < TCP_CHUNK else TCP_CHUNK)
                except ModemError as e:
                    if isinstance(e, ModemTimeout):
                        raise
                    if self.eof:
                        continue
                    self.dropped = True
                    raise
                if left > 0:
                    self._ready = True
                continue
            self._ev.clear()
            if not await wait_event(self._ev, m.t["rx_poll"]):
                self._ready = True  # a lost +CIPRXGET: 1 must not stall us

    def write(self, data):
        if self.closed or self.dropped or self.eof:
            raise OSError("link closed")
        self._tx += data

    async def drain(self):
        while self._tx:
            if self.closed or self.dropped or self.eof:
                raise OSError("link closed")
            chunk = self._tx[:TCP_CHUNK]
            try:
                await self._m.cmd(
                    "AT+CIPSEND=%d" % len(chunk),
                    until=("SEND OK", "DATA ACCEPT"),
                    payload=chunk,
                )
            except ModemError:
                self.dropped = True  # unknown how much went out: the session is over
                raise
            self._tx = self._tx[len(chunk) :]

    async def close(self):
        if self.closed:
            return
        self.closed = True
        self._ev.set()
        m = self._m
        if m._stream is self:
            m._stream = None
        if not self.dropped and not self.eof:
            try:
                await m.cmd("AT+CIPCLOSE", until=("CLOSE OK",))
            except ModemError:
                pass
