# SIM800 emulator: SIM storage, SMS in (inject, CMGR, CMGL, CMGD) and out (CMGS), USSD.
# Licence: MIT (this project).
#
# SIM storage keeps `sm_slots` messages (AT+CPMS reports that size) over a
# reboot; a new SMS takes the lowest free slot, like a real SIM, and is lost
# when the storage is full (counted in lost_sms).

from ovms import at
from ovms.aio import sleep_ms, ticks_diff, ticks_ms
from ovms.units import dec_int
from tools.sim800emu.base import text_of


class EmuSms:
    def inject_sms(self, sender, text):
        # an SMS arrives from the network: store it, announce it (+CMTI) if the
        # modem is set up for that. Returns the slot, or -1 when storage is full.
        for i in range(1, self.sm_slots + 1):
            if i not in self.inbox:
                self._smsno += 1
                n = self._smsno
                ts = "26/01/%02d,%02d:%02d:%02d+04" % (
                    1 + (n // 86400) % 28,
                    (n // 3600) % 24,
                    (n // 60) % 60,
                    n % 60,
                )
                self.inbox[i] = ["REC UNREAD", sender, ts, text]
                booting = ticks_diff(self.booting_until, ticks_ms()) > 0
                if not self.off and not booting:
                    self.ri.pulse()  # RI low 120 ms per SMS, asleep or not (sleep.py)
                if self.cnmi and not self.off and not booting:
                    self.urc('+CMTI: "SM",%d' % i)
                return i
        self.lost_sms += 1
        return -1

    def _header(self, m):
        return '"%s","%s","","%s",145,4,0,0,"+491770000000",145,%d' % (
            m[0],
            m[1],
            m[2],
            len(m[3]),
        )

    def _cpms(self, c, line):
        n = len(self.inbox)
        s = self.sm_slots
        return ["+CPMS: %d,%d,%d,%d,%d,%d" % (n, s, n, s, n, s), "OK"]

    def _cmgr(self, c, line):
        if self.cmgf != 1:
            return ["+CMS ERROR: 302"]
        i = dec_int(c[6:])
        if i < 1 or i > self.sm_slots:
            return ["+CMS ERROR: 321"]
        m = self.inbox.get(i)
        if m is None:
            return ["OK"]
        out = ["+CMGR: " + self._header(m), m[3], "OK"]
        if m[0] == "REC UNREAD":
            m[0] = "REC READ"
        return out

    def _cmgl(self, c, line):
        if self.cmgf != 1:
            return ["+CMS ERROR: 302"]
        out = []
        for i in sorted(self.inbox):
            m = self.inbox[i]
            out.append("+CMGL: %d,%s" % (i, self._header(m)))
            out.append(m[3])
            if m[0] == "REC UNREAD":
                m[0] = "REC READ"
        out.append("OK")
        return out

    def _cmgd(self, c, line):
        f = c[6:].split(",")
        idx = dec_int(f[0])
        if len(f) > 1 and f[1].strip() == "4":
            self.inbox = {}
        elif idx in self.inbox:
            del self.inbox[idx]
        return ["OK"]

    def _cmgs(self, c, line):
        if self.cmgf != 1:
            return ["+CMS ERROR: 302"]
        num = at.fields(line[8:])[0]
        self.mode = ("sms", num)
        self._out(b"\r\n> ")
        return None

    def _sms_send(self, number, raw):
        text = at.decode(raw) if b"\n" not in raw else text_of(raw)
        self.sent.append((number, text))
        lines = ["+CMGS: %d" % (len(self.sent) % 256), "OK"]
        if self._held_banner:  # late_banner: Call Ready / SMS Ready come now
            lines = self._held_banner + lines
            self._held_banner = []
        if self.cmgs_delay_ms:
            self._late = lines  # _input answers after the delay
        else:
            self._reply(lines)

    def _cusd(self, c, line):
        f = at.fields(line[8:])
        if f[0] == "1" and len(f) > 1:
            self._spawn(self._ussd_answer(f[1], self._gen))
        return ["OK"]

    async def _ussd_answer(self, code, gen):
        await sleep_ms(self.ussd_delay_ms)
        if gen != self._gen:
            return
        a = self.ussd.get(code)
        if a is None:
            self.urc("+CUSD: 4")
            return
        text, dcs = a
        if dcs == 72:
            text = "".join(["%04X" % ord(ch) for ch in text])
        self.urc('+CUSD: 0,"%s",%d' % (text, dcs))
