# ticker task: the vehicle's per-second tick (spec §3.1) and notification dispatch.
# Licence: MIT (this project).
#
# Every period_ms (1000 on the car) on the ticks clock, drift-free: the next due time is
# the previous due time plus the period, not "now + period", so the tick count follows
# the clock however long a tick takes. After a stall (a long flash write, a blocking
# driver) up to MAX_CATCHUP missed ticks run back to back; beyond that the schedule
# restarts from now and .skipped counts the ticks lost.
#
# Link: what vehicle.dispatch(link) talks to.
#   server_ready()       uplink is not None and uplink.ready()
#   send_server(lines)   uplink.send(lines): one transmission of record lines
#   sms_ready()          the modem is READY
#   send_sms(text)       to the owner (parameter 0) through modem.send_sms, shaped by
#                        ovms.smsout.shape (GSM-7, 160 septets a part); without a
#                        registered owner the text is dropped and counted
# The uplink (OVMS v2 server session, firmware/tasks/uplink.py) plugs in through a
# two-method object:
#   uplink.ready() -> bool   logged in, records can be queued now
#   uplink.send(lines)       queue one transmission (list of "MP-0 ..." lines); must not
#                            block: the tick runs it synchronously
# and can be attached later: link.uplink = obj.

from ovms import log, smsout
from ovms.aio import sleep_ms, ticks_add, ticks_diff, ticks_ms
from ovms.config import PARAM_REGPHONE

MAX_CATCHUP = 3  # missed ticks run back to back after a stall
_NOPHONE = "NOPHONE"


class Link:
    def __init__(self, config, modem=None, uplink=None, on_sms=None):
        self.cfg = config
        self.modem = modem
        self.uplink = uplink
        self.on_sms = on_sms  # optional observer (number, text) of every SMS queued
        self.sms_out = 0  # SMS texts queued to the modem
        self.sms_dropped = 0  # no owner registered
        self.server_out = 0  # transmissions handed to the uplink

    def server_ready(self):
        u = self.uplink
        return u is not None and u.ready()

    def send_server(self, lines):
        self.server_out += 1
        self.uplink.send(lines)

    def sms_ready(self):
        m = self.modem
        return m is not None and m.state == "READY"

    def send_sms(self, text):
        owner = self.cfg.param(PARAM_REGPHONE)
        if not owner or owner == _NOPHONE:
            self.sms_dropped += 1
            return
        parts = smsout.shape([text])
        if not parts:
            return
        self.sms_out += 1
        self.modem.send_sms(owner, parts)
        if self.on_sms is not None:
            self.on_sms(owner, text)


class Ticker:
    def __init__(self, vehicle, link, period_ms=1000, on_tick=None):
        self.vehicle = vehicle
        self.link = link
        self.period_ms = period_ms
        self.on_tick = on_tick  # optional f(tick count), after dispatch
        self.ticks = 0
        self.late = 0  # ticks run late (behind schedule by a period or more)
        self.skipped = 0  # ticks given up after a long stall
        self.errors = 0  # exceptions from tick/dispatch (logged, the ticker keeps going)
        self._log = log.get("tick")

    async def run(self):
        period = self.period_ms
        due = ticks_add(ticks_ms(), period)
        while True:
            wait = ticks_diff(due, ticks_ms())
            if wait > 0:
                await sleep_ms(wait)
            elif wait <= -period:
                self.late += 1
            self.step()
            due = ticks_add(due, period)
            behind = ticks_diff(ticks_ms(), due)
            if behind >= MAX_CATCHUP * period:
                missed = behind // period
                self.skipped += missed
                due = ticks_add(due, missed * period)
            if wait <= 0:
                await sleep_ms(0)  # a catch-up run still lets the others in

    def step(self):
        # one tick: vehicle.tick() then vehicle.dispatch(link)
        self.ticks += 1
        v = self.vehicle
        try:
            v.tick()
            v.dispatch(self.link)
        except Exception as e:  # a bug in the core must not stop the clock
            self.errors += 1
            self._log.error("tick %d failed: %r", self.ticks, e)
        if self.on_tick is not None:
            self.on_tick(self.ticks)
