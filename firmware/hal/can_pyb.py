# CAN adapter for pyb.CAN (STM32 bxCAN, every MicroPython version). Interface: can.py.
# Licence: MIT (this project).
#
# pyb.CAN facts used (platform.md §6, docs/library/pyb.CAN.rst):
#   CAN(bus, SILENT, baudrate=, sample_point=)   constructs AND initialises in one call:
#                                           listen-only (no ACK) from the first instruction;
#                                           the adapter never calls init() again (no mode
#                                           change on a running controller)
#   setfilter(bank, LIST16, fifo, (a, b, c, d))   four exact 11-bit IDs per bank: the
#                                           Twizy's 11 IDs take 3 of CAN1's 14 banks
#   any(fifo) -> bool                       checked first: recv() on an empty FIFO would
#                                           raise (allocation, exception as control flow)
#   recv(fifo, lst, timeout=0)              lst = [id, extended, rtr, fmi, memoryview];
#                                           the data goes into the memoryview's buffer and
#                                           its length becomes the DLC: no allocation
#   rxcallback(fifo, fn)                    fn(can, reason) in IRQ context, heap locked;
#                                           reason 0 pending, 1 full, 2 overflow. Switched
#                                           off after an exception: only a flag and a
#                                           small-int counter here
#   state() / restart()                     BUS_OFF -> restart()
#   deinit()                                on any start-up failure
# Every filter bank feeds FIFO 0.

from firmware.hal.can import BITRATE, STD_MASK, CANAdapter, plan_filters
from ovms.compat import const

_FIFO = const(0)
_EXT = const(1)
_RTR = const(2)
_DATA = const(4)
_REASON_OVERFLOW = const(2)
_SAMPLE_POINT = const(75)  # %
_BANKS = const(14)  # CAN1's filter banks (bxCAN default split)


class CANPyb(CANAdapter):
    def __init__(self, can, **kw):
        super().__init__(**kw)
        self.can = can
        self.banks = 0  # filter banks in use
        self._rx = [0, False, False, 0, memoryview(bytearray(8))]
        self._owner = None  # the buffer self._rx[4] views
        self._hw_overflows = 0  # written by the IRQ handler only
        self._on_rx = self._rx_irq  # bound once (IRQ context must not allocate)

    def start(self):
        can = self.can
        try:
            if self.ids is None:
                can.setfilter(0, can.MASK16, _FIFO, (0, 0, 0, 0))  # accept all
                self.banks = 1
            else:
                ids = [i for i, m in plan_filters(self.ids, 4 * _BANKS) if m == STD_MASK]
                if len(ids) != len(set(self.ids)):
                    raise ValueError("more CAN IDs than list filters")
                bank = 0
                for k in range(0, len(ids), 4):
                    four = ids[k : k + 4]
                    while len(four) < 4:
                        four.append(four[-1])  # pad a bank with repeats
                    can.setfilter(bank, can.LIST16, _FIFO, four)
                    bank += 1
                self.banks = bank
            if self._flag is not None:
                can.rxcallback(_FIFO, self._on_rx)
        except BaseException:
            self.stop()
            raise
        self.started = True

    def stop(self):
        self.started = False
        try:
            self.can.deinit()
        except (OSError, AttributeError):
            pass

    def _rx_irq(self, can, reason):
        # IRQ context, heap locked
        if reason == _REASON_OVERFLOW:
            self._hw_overflows += 1
        self._flag.set()

    def recv(self, buf):
        rx = self._rx
        if buf is not self._owner:  # once per buffer
            rx[_DATA] = memoryview(buf)
            self._owner = buf
        can = self.can
        while can.any(_FIFO):
            can.recv(_FIFO, rx, timeout=0)
            if rx[_EXT] or rx[_RTR]:
                self.errors += 1  # not a Twizy frame: drop, take the next
                continue
            self.frames += 1
            self.dlc = len(rx[_DATA])
            return rx[0]
        return -1

    def check(self):
        can = self.can
        self.overruns = self._hw_overflows
        if can.state() == can.BUS_OFF:
            can.restart()
            self.bus_off += 1
        self.kick()

    def _send(self, can_id, data):
        self.can.send(data, can_id, timeout=0)
        return True


def from_board(board, ids, can_class=None):
    # the controller listen-only from its construction on, wrapped in the adapter;
    # ids: the vehicle's CAN IDs (the app passes them)
    if can_class is None:
        from pyb import CAN as can_class
    bitrate = getattr(board, "CAN_BITRATE", BITRATE)
    can = can_class(board.CAN_ID, can_class.SILENT, baudrate=bitrate, sample_point=_SAMPLE_POINT)
    try:
        return CANPyb(can, bitrate=bitrate, ids=ids)
    except BaseException:
        can.deinit()
        raise
