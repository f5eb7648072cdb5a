# The machine.CAN and pyb.CAN adapters against small scripted stand-ins that behave like
# the documented APIs (recv fills the caller's list, the data goes into the list's
# memoryview and its length becomes the DLC). Runs the adapter contract, proves the
# receive path allocates nothing (heap_lock on the unix port), IRQ wake-ups, bus-off
# recovery, filters and modes: listen-only from the constructor on, never a mode change,
# deinit on a start-up failure, masks when the controller has fewer filters than IDs.
# Both runtimes. Licence: MIT (this project).
from support import CAN_USED, can_contract, can_wakes, recv_locked, run_async

from firmware.hal import can_machine, can_pyb
from firmware.hal.can_machine import CANMachine
from ovms.twizy.frames import USED_IDS


class _Bus:
    # frames waiting in the controller (a preallocated ring: recv must not allocate)
    def __init__(self, n=16):
        self.ids = [0] * n
        self.data = [b""] * n
        self.flags = [0] * n
        self.head = 0
        self.count = 0
        self.n = n
        self._mv = None
        self._views = None

    def push(self, can_id, data, flags=0):
        i = (self.head + self.count) % self.n
        self.ids[i] = can_id
        self.data[i] = bytes(data)
        self.flags[i] = flags
        self.count += 1

    def pop(self):
        i = self.head
        self.head = (i + 1) % self.n
        self.count -= 1
        return i

    def write(self, lst, k, i):
        # copy frame i into the memoryview lst[k] and "set its length" to the DLC: the
        # C driver resizes the view in place; here one view per length, made up front.
        if lst[k] is not self._mv:
            self._build(lst[k])  # not inline: a comprehension would make lst/k cells
        self._copy(self.data[i])
        self._mv = self._views[len(self.data[i])]
        lst[k] = self._mv

    def _build(self, mv):
        self._views = [mv[:n] for n in range(9)]

    def _copy(self, d):
        full = self._views[8]
        for j in range(len(d)):
            full[j] = d[j]


class _Irq:
    # machine.CAN's irq object: flags() reads and clears the pending triggers
    def __init__(self):
        self.pending = 0
        self.reads = 0

    def flags(self):
        self.reads += 1
        f = self.pending
        self.pending = 0
        return f


class FakeMachineCAN:
    # machine.CAN as documented for 1.28: CAN(id, bitrate, mode=...) constructs and inits
    MODE_NORMAL = 0
    MODE_SILENT = 3
    STATE_ACTIVE = 1
    STATE_BUS_OFF = 4
    IRQ_RX = 2
    FLAG_RTR = 1
    FLAG_EXT_ID = 2
    RECV_ERR_OVERRUN = 2
    FILTERS_MAX = 14
    made = []  # every controller constructed (from_board tests)

    def __init__(self, can_id=1, bitrate=500_000, mode=MODE_NORMAL, **kw):
        self.bus = _Bus()
        self.can_id = can_id
        self.kw = kw
        self.filters = None  # nothing received before set_filters
        self.mode_log = [mode]  # every mode the controller was in, in order
        self.bitrate = bitrate
        self.handler = None
        self.hard = None
        self.irq_obj = _Irq()
        self.st = self.STATE_ACTIVE
        self.restarts = 0
        self.overrun_next = False
        self.deinits = 0
        self.fail_filters = False
        FakeMachineCAN.made.append(self)

    def init(self, bitrate, mode=MODE_NORMAL):
        self.bitrate = bitrate
        self.mode_log.append(mode)

    def mode(self, m=None):
        assert m is None, "the adapter never changes the mode of a running controller"
        return self.mode_log[-1]

    def deinit(self):
        self.deinits += 1
        self.mode_log.append(None)

    def set_filters(self, filters):
        filters = list(filters)
        if self.fail_filters or len(filters) > self.FILTERS_MAX:
            raise ValueError("too many filters")
        self.filters = filters

    def irq(self, handler, trigger=0, hard=False):
        assert trigger == self.IRQ_RX
        self.handler = handler
        self.hard = hard
        return self.irq_obj

    def inject(self, can_id, data, flags=0):
        if self.filters is None:
            return
        if not [1 for i, m, f in self.filters if can_id & m == i & m]:
            return
        self.bus.push(can_id, data, flags)
        if self.handler is not None:
            self.irq_obj.pending = self.IRQ_RX
            self.handler(self)

    def recv(self, lst):
        b = self.bus
        if not b.count:
            return None
        i = b.pop()
        b.write(lst, 1, i)
        lst[0] = b.ids[i]
        lst[2] = b.flags[i]
        lst[3] = self.RECV_ERR_OVERRUN if self.overrun_next else 0
        self.overrun_next = False
        return lst

    def get_state(self):
        return self.st

    def restart(self):
        self.restarts += 1
        self.st = self.STATE_ACTIVE

    def send(self, can_id, data):
        return 0


class FakePybCAN:
    # pyb.CAN: CAN(bus, mode, baudrate=, sample_point=) constructs and inits in one call
    NORMAL = 1
    SILENT = 3
    LIST16 = 1
    MASK16 = 2
    ERROR_ACTIVE = 1
    BUS_OFF = 4

    def __init__(self, bus=1, mode=None, **kw):
        self.bus = _Bus()
        self.bus_id = bus
        self.banks = {}
        self.mode = mode
        self.modes = [mode]
        self.kw = kw
        self.cb = None
        self.st = self.ERROR_ACTIVE
        self.restarts = 0
        self.deinits = 0
        self.fail_filters = False

    def init(self, mode, **kw):
        self.mode = mode
        self.modes.append(mode)
        self.kw = kw

    def deinit(self):
        self.deinits += 1
        self.mode = None

    def setfilter(self, bank, mode, fifo, params):
        if self.fail_filters:
            raise OSError(5)
        assert mode == self.LIST16 and fifo == 0 and len(params) == 4
        self.banks[bank] = tuple(params)

    def rxcallback(self, fifo, fn):
        self.cb = fn

    def inject(self, can_id, data, ext=False, rtr=False):
        ok = [1 for b in self.banks.values() if can_id in b]
        if not ok:
            return
        self.bus.push(can_id, data, (1 if ext else 0) | (2 if rtr else 0))
        if self.cb is not None:
            self.cb(self, 0)

    def any(self, fifo):
        return self.bus.count > 0

    def recv(self, fifo, lst, timeout=5000):
        b = self.bus
        if not b.count:
            raise OSError(110)  # ETIMEDOUT, as pyb does
        i = b.pop()
        b.write(lst, 4, i)
        lst[0] = b.ids[i]
        lst[1] = bool(b.flags[i] & 1)
        lst[2] = bool(b.flags[i] & 2)
        lst[3] = 0
        return lst

    def state(self):
        return self.st

    def restart(self):
        self.restarts += 1
        self.st = self.ERROR_ACTIVE


class _Board:
    CAN_ID = 1
    CAN_BITRATE = 500_000


def _machine():
    a = can_machine.from_board(_Board, USED_IDS, can_class=FakeMachineCAN)
    return a, a.can


def _pyb():
    a = can_pyb.from_board(_Board, USED_IDS, can_class=FakePybCAN)
    return a, a.can


def test_machine_contract():
    def make():
        a, hw = _machine()
        return a, hw.inject

    a = can_contract(make)
    hw = a.can
    # listen-only from the constructor on; never initialised again, never another mode
    assert hw.mode_log == [hw.MODE_SILENT] and hw.bitrate == 500_000
    assert sorted([f[0] for f in hw.filters]) == sorted(USED_IDS)
    assert all([f[1] == 0x7FF and f[2] == 0 for f in hw.filters])
    assert hw.hard is True and hw.irq_obj.reads > 0  # the IRQ reads flags() (until 0)


def test_pyb_contract():
    def make():
        a, hw = _pyb()
        return a, hw.inject

    a = can_contract(make)
    hw = a.can
    assert hw.modes == [hw.SILENT]  # constructed silent, init() never called again
    assert hw.kw["baudrate"] == 500_000 and hw.kw["sample_point"] == 75
    assert len(hw.banks) == 3  # 11 IDs, four per LIST16 bank
    seen = set()
    for b in hw.banks.values():
        seen.update(b)
    assert seen == set(USED_IDS)


def test_machine_irq_wakes_waiter():
    async def go():
        a, hw = _machine()
        a.start()
        return await can_wakes(a, hw.inject)

    assert run_async(go())


def test_pyb_irq_wakes_waiter():
    async def go():
        a, hw = _pyb()
        a.start()
        return await can_wakes(a, hw.inject)

    assert run_async(go())


def test_polling_fallback_without_irq():
    async def go():
        from ovms.aio import sleep_ms

        hw = FakeMachineCAN(1, 500_000, mode=FakeMachineCAN.MODE_SILENT)
        a = CANMachine(hw, irq=False, poll_ms=5, ids=USED_IDS)
        a.start()
        assert hw.handler is None
        woke = [0]

        async def waiter():
            while True:
                await a.wait()
                woke[0] += 1

        import asyncio

        t = asyncio.create_task(waiter())
        await sleep_ms(60)
        t.cancel()
        return woke[0]

    assert run_async(go()) >= 4


def test_machine_drops_rtr_ext_counts_overrun():
    a, hw = _machine()
    a.start()
    buf = bytearray(8)
    hw.inject(CAN_USED, b"\x00")  # warm up: the first frame into a new slot makes views
    assert a.recv(buf) == CAN_USED
    hw.inject(CAN_USED, b"", flags=hw.FLAG_RTR)
    hw.inject(CAN_USED, b"\x01" * 8, flags=hw.FLAG_EXT_ID)
    hw.inject(CAN_USED, b"\x02\x03")
    hw.overrun_next = True
    assert recv_locked(a, buf) == CAN_USED and a.dlc == 2 and buf[:2] == b"\x02\x03"
    assert a.errors == 2 and a.frames == 2 and a.overruns == 1


def test_pyb_overflow_callback_and_ext():
    a, hw = _pyb()
    a.start()
    buf = bytearray(8)
    hw.inject(CAN_USED, b"\x00")  # warm up (see above)
    assert a.recv(buf) == CAN_USED
    hw.inject(CAN_USED, b"\x01", ext=True)
    hw.inject(CAN_USED, b"\x05\x06\x07")
    assert recv_locked(a, buf) == CAN_USED and a.dlc == 3 and a.errors == 1
    hw.cb(hw, 2)  # FIFO overflow reported by the IRQ
    hw.cb(hw, 2)
    a.check()
    assert a.overruns == 2


def test_bus_off_recovery():
    for make in (_machine, _pyb):
        a, hw = make()
        a.start()
        a.check()
        assert hw.restarts == 0 and a.bus_off == 0
        hw.st = hw.STATE_BUS_OFF if hasattr(hw, "STATE_BUS_OFF") else hw.BUS_OFF
        a.check()
        assert hw.restarts == 1 and a.bus_off == 1
        a.check()
        assert hw.restarts == 1


def test_new_buffer_rebinds_once():
    # a different slot works too (one memoryview made for it, then none)
    a, hw = _machine()
    a.start()
    b1 = bytearray(8)
    b2 = bytearray(8)
    hw.inject(0x597, b"\x11\x22")
    assert a.recv(b1) == 0x597 and b1[:2] == b"\x11\x22"
    hw.inject(0x597, b"\x33")
    assert a.recv(b2) == 0x597 and b2[0] == 0x33 and b1[:2] == b"\x11\x22"
    hw.inject(0x597, b"\x44")
    assert recv_locked(a, b2) == 0x597 and b2[0] == 0x44
