# SIM800 / SIM808 modem driver: supervision, recovery and the public Sim800 class.
# asyncio only; runs under MicroPython and CPython. Licence: MIT (this project).
#
# Built from a ready-made stream pair (asyncio StreamReader/StreamWriter API):
# on the device a machine.UART wrapped in asyncio streams, on the host a TCP
# connection to tools/sim800emu. The optional reset pin is any object with
# value(v) (machine.Pin); it is pulled low for `pin_ms` as the last rung of the
# recovery ladder.
#
# Rooms (one job each):
#   sim800_at.py      AT command engine (ATEngine)
#   sim800_reader.py  line reader: preallocated buffers (LineReader)
#   sim800_sms.py     inbox sweep, exactly-once handling, outbox (SmsRoom)
#   sim800_gprs.py    GPRS bring-up and the TCP stream (GprsRoom, Sim800Stream)
#   sim800_ladder.py  init, the supervisor pass, the recovery ladder (Supervisor)
#   sim800.py         this file: the class, its tasks, URCs and resets
#
# run() runs two tasks: the reader (sim800_at) and the supervisor (init, SMS,
# CSQ/CREG/GNSS polling, recovery). If either ends with an exception (a bug,
# MemoryError), run() cancels the other and raises it, logged with its traceback:
# the driver never dies silently; an outer supervisor restarts it. start()/stop()
# run it as a task. modem.progress advances with every line read and every
# command answered; modem.stuck_off is True once the ladder's top rung (reset pin,
# or CFUN without a pin) failed twice in a row, or the port is gone (D34: the
# ladder's own bound, not a clock: with the default timing that is about two full
# climbs, 1-2 minutes; an outer supervisor may then power-cycle or reboot).
# run() also raises ModemError when the port itself ends (nothing left to read).
#
# state: OFF -> INIT -> READY; RECOVER while climbing the recovery ladder
# (firmware/hal/sim800_ladder.py).
#
# Resets (B, D32): RDY is a reset. +CFUN: 1, +CPIN: READY, Call Ready and SMS
# Ready within t["banner"] ms after it are that same boot's banner (a real SIM800
# sends them seconds after RDY on every boot), counted, not a second reset. One
# of them with no RDY before it is taken as a reset whose RDY was missed (+CFUN
# always, the others while READY), and opens the banner window itself.
#
# D125: the states and errors are read as sim800_at.READY, sim800_at.ModemError (their
# home: import them from there), the clock helpers as aio.ticks_ms, the counter names
# are a folded constant: 13 names in this resident module's globals table, not 23.

import asyncio

from firmware.hal import sim800_at
from firmware.hal.sim800_gprs import GprsRoom
from firmware.hal.sim800_ladder import Supervisor
from firmware.hal.sim800_reader import LineReader
from firmware.hal.sim800_sleep import SleepRoom
from firmware.hal.sim800_sms import SmsRoom
from ovms import aio, at
from ovms.compat import const

_COUNTERS = const((
    "inits",
    "reboots",  # modem resets seen while READY
    "banner",  # boot banner lines that belonged to a reset already handled (B)
    "timeouts",
    "resync",  # ATS7 resyncs after a timeout (D30)
    "errors",  # ERROR / +CME / +CMS results
    "retry",
    "reinit",
    "cipshut",
    "cfun",
    "pin",
    "undervoltage",
    "power_down",
    "pdp_deact",
    "closed",
    "stray",  # lines/payloads with no command waiting, or after its final (D)
    "sms_in",
    "sms_dup",  # seen again after its delete failed: deleted, not answered (A)
    "sms_del_fail",  # AT+CMGD failed; listed and deleted again later (A, E)
    "sms_out",
    "sms_late_ok",  # +CMGS came after the timeout (found by the resync)
    "sms_dropped",
    "sms_cut",  # reply parts beyond REPLY_PARTS_MAX
    "sms_lost",  # +CMT texts beyond PENDING_MAX
    "sms_unconfirmed",  # sent again after a reset took away its +CMGS (may duplicate)
    "handled_overflow",
    "bugs",  # exceptions in callbacks (logged with traceback; should stay 0)
    "dozes",  # sleep mode 1 (sim800_sleep.py): AT+CSCLK=1 and DTR high
    "dtr_wakes",  # DTR pulled low for our own traffic
    "ri",  # RI falls served
))  # fmt: skip


class Sim800(sim800_at.ATEngine, LineReader, SmsRoom, GprsRoom, Supervisor, SleepRoom):
    # D127: what a board's driver never sets is a class default, not an attribute of its
    # own: the debugging observers, the logger (the app passes none), the USSD slot
    # (D109: made by the first ussd()), the task start() makes (the app runs run() as a
    # supervised job). With the folds in the rooms (the GPRS login one tuple, the banner
    # window's flag its time, POWER DOWN the mute count, the IP reply among the finals,
    # the read buffer's view local to the reader, the line buffer only a view, an
    # over-long line a negative length) the driver keeps 72 attributes, not 85: its
    # attribute table is 73 slots, not 97 (584 bytes, not 776)
    on_urc = None  # optional (tag, arg) observer
    trace = None  # optional (command, final, ms) observer, for debugging
    log = None
    _ussd = None  # [lock, answer flag, answer]: made by the first ussd() (D109)
    _task = None  # start()'s task

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
        dtr_pin=None,
    ):
        self._r = reader
        self._w = writer
        self.pin = reset_pin
        self.on_sms = on_sms  # (sender, text) -> list of reply texts (or None)
        self.on_csq = on_csq  # (rssi 0..31/99)
        self.on_gnss = on_gnss  # ("+CGNSINF: ..." line)
        self._cstt = (apn, user, password)  # the GPRS login: AT+CSTT's arguments
        self.gnss = gnss
        if log is not None:
            self.log = log
        self.state = sim800_at.OFF
        self.creg = -1  # registration stat (at.CREG_*)
        self.rssi = 99
        self.fail_streak = 0
        # D127: made at its size (30 slots; 37 when the keys were added one by one)
        self.counters = dict.fromkeys(_COUNTERS, 0)
        self.last_error = None
        self.fatal = None  # the exception that ended run(), if any
        self._wake = aio.Flag()  # D127: Flags, whose timed waits make no task
        self._ready_ev = aio.Flag()
        self._need_init = True
        self._t_banner = None  # when a reset was seen (its boot banner may follow)
        self._t_csq = aio.ticks_ms()
        self._t_gnss = aio.ticks_ms()
        self._mute = 0  # init passes in a row without any answer to AT (POWER DOWN: 2)
        self._top_fails = 0  # top ladder rungs since the last READY
        self._running = False
        self._at_init(timing)  # self.t_ms, self.limits (D95)
        self._reader_init()
        self._sms_init()
        self._gprs_init()
        self._sleep_init(dtr_pin)  # sleep mode 1: DTR and RI (sim800_sleep.py)

    # ---- public --------------------------------------------------------------
    @property
    def stuck_off(self):
        return self._dead or (self.state != sim800_at.READY and self._top_fails >= 2)

    def start(self):
        # run() as a task; returns it
        self._task = asyncio.create_task(self.run())
        return self._task

    async def stop(self):
        self._running = False
        t = self._task
        if t is not None:
            self._task = None
            t.cancel()
            try:
                await t
            except BaseException:  # noqa: S110 (cancelled; a fatal error was logged by run)
                pass
        try:
            self._w.close()
            await self._w.wait_closed()
        except Exception:  # noqa: S110 (closing a dead port)
            pass

    async def run(self):
        # the reader and the supervisor; raises what ended either of them
        self._running = True
        self.fatal = None
        self._need_init = True  # a restart (outer supervisor) starts from init
        ended = aio.Flag()  # its wait() makes no coroutine (D127)
        tasks = [
            asyncio.create_task(self._guard(self._reader(), "reader", ended)),
            asyncio.create_task(self._guard(self._supervise(), "supervisor", ended)),
        ]
        try:
            await ended.wait()
        finally:
            self._running = False
            for t in tasks:
                t.cancel()
            for t in tasks:
                try:
                    await t
                except BaseException:  # noqa: S110 (cancelled)
                    pass
            self.state = sim800_at.OFF
            self._ready_ev.clear()
        if self.fatal is not None:
            raise self.fatal
        if self._dead:
            raise sim800_at.ModemError("port", "port closed")

    async def _guard(self, coro, name, ended):
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as e:  # MemoryError included: logged, then raised by run()
            self.fatal = e
            self.last_error = repr(e)
            self._report("sim800 %s died" % name, e)
        finally:
            ended.set()

    def _report(self, what, e):
        # an error with its traceback: to the log if there is one, else stderr. sys is
        # imported here: an error path, and one name fewer in the module's globals
        import sys

        if self.log is not None:
            try:
                self.log.error("%s: %r", what, e)
            except Exception:  # noqa: S110 (a broken logger must not hide the error)
                pass
        sys.stderr.write("%s: %r\n" % (what, e))
        if hasattr(sys, "print_exception"):
            sys.print_exception(e)
        else:
            import traceback

            traceback.print_exception(type(e), e, e.__traceback__)

    def _callback(self, fn, *args):
        # a user callback; its exception is counted and logged, never hidden
        if fn is None:
            return None
        try:
            return fn(*args)
        except MemoryError:
            raise
        except Exception as e:
            self.counters["bugs"] += 1
            self.last_error = repr(e)
            self._report("sim800 callback %r" % (fn,), e)
            return None

    async def wait_ready(self, ms=None):
        # True once READY (within ms, if given)
        while self.state != sim800_at.READY:
            if ms is None:
                await self._ready_ev.wait()
            elif not await self._ready_ev.wait_ms(ms):
                return self.state == sim800_at.READY
        return True

    async def ussd(self, code, ms=None):
        # AT+CUSD=1,"code" -> the network's answer text (UCS2 decoded). D109: its lock,
        # event and answer slot are made by the first call (a balance query now and
        # then, if ever) and kept: a driver that never asks costs neither (about 0.1 KB)
        u = self._ussd
        if u is None:
            u = self._ussd = [asyncio.Lock(), aio.Flag(), None]
        async with u[0]:
            if not await self.wait_ready(self.t_ms["ussd"]):
                raise sim800_at.ModemError("CUSD", "not ready")
            u[2] = None
            u[1].clear()
            await self.cmd('AT+CUSD=1,"%s"' % code)
            if not await u[1].wait_ms(ms or self.t_ms["ussd"]):
                raise sim800_at.ModemTimeout("CUSD", "no answer")
            m, text, dcs = u[2]
            if m == 1:  # the network expects an answer: end the session
                try:
                    await self.cmd("AT+CUSD=2")
                except sim800_at.ModemError:
                    pass
            if m < 0 or m > 2:
                raise sim800_at.ModemError("CUSD", "m=%d" % m)
            return text

    async def pulse_reset(self):
        if self.pin is None:
            return
        self.pin.value(0)
        await aio.sleep_ms(self.t_ms["pin"])
        self.pin.value(1)

    # ---- URCs (reader context: no AT traffic from here) ------------------------------
    def _urc(self, tag, arg, line):
        if self.on_urc is not None:
            self._callback(self.on_urc, tag, arg)
        if tag == at.U_CMTI:
            self._cmti(arg)
        elif tag == at.U_CMT:
            self._cmt = at.parse_cmt(line) or ("", "")
        elif tag == at.U_CUSD:
            u = self._ussd
            if u is not None:  # (none: nobody ever asked; ussd() clears a stale one)
                u[2] = at.parse_cusd(arg)
                u[1].set()
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
            if self._mute < 2:  # off: only the reset pin brings it back (the ladder's
                self._mute = 2  # pin rung, as for a modem mute twice), until an init
            self._rebooted()
        elif tag == at.U_RDY:
            self._t_banner = aio.ticks_ms()
            self._rebooted()
        elif (
            tag == at.U_CFUN or tag == at.U_CPIN or tag == at.U_CALL_READY or tag == at.U_SMS_READY
        ):
            self._banner(tag)
        elif tag == at.U_CREG:
            self.creg = at.parse_creg(line)
        elif tag == at.U_CGNSINF or tag == at.U_UGNSINF:
            self._callback(self.on_gnss, line)

    def _banner(self, tag):
        # B: a boot banner line after RDY belongs to that reset (D32)
        now = aio.ticks_ms()
        t = self._t_banner
        if t is not None and aio.ticks_diff(now, t) < self.t_ms["banner"]:
            self.counters["banner"] += 1
            return
        self._t_banner = now
        if tag == at.U_CFUN or self.state == sim800_at.READY:
            self._rebooted()

    def _rebooted(self):
        # modem reset: every setting is gone, so is GPRS; abort what is running.
        # Nothing older than the reset can still answer: no resync needed.
        if self.state == sim800_at.READY:
            self.counters["reboots"] += 1
        if self.state != sim800_at.OFF:
            self.state = sim800_at.INIT
        self._ready_ev.clear()
        self._need_init = True
        self._sleep_reset()  # AT+CSCLK is 0 again after a reset
        self._gprs_down()
        self._need = 0
        self._stale = False
        self._finish("RESET")
        self._wake.set()
