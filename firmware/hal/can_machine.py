# CAN adapter for machine.CAN (MicroPython >= 1.28: STM32, MIMXRT, Alif; ESP32 TWAI with
# PR #19461). Interface: can.py. Licence: MIT (this project).
#
# machine.CAN facts used (docs/library/machine.CAN.rst of MicroPython 1.28):
#   CAN(id, bitrate, mode=MODE_SILENT)  constructs AND initialises: listen-only (no ACK,
#                                     no error frames, no TX) from the first instruction
#   mode() -> current mode            checked at start: never a running NORMAL controller
#   FILTERS_MAX                       hardware filter count (ESP32 TWAI: 4); more IDs than
#                                     that are merged into masks (can.plan_filters)
#   set_filters([(id, mask, flags)])  nothing is received before it is called
#   recv(lst) -> lst or None          lst = [id, memoryview, flags, errors]; the data is
#                                     copied into the memoryview's buffer and its length set
#                                     to the DLC: no allocation
#   irq(handler, trigger, hard)       handler(can) on IRQ_RX; returns the irq object whose
#                                     flags() the handler reads until 0
#   get_state() / restart()           STATE_BUS_OFF -> restart()
#   deinit()                          on any start-up failure: the controller leaves the bus
# Overruns are counted from the RECV_ERR_OVERRUN bit (one count per overflow event: the
# controller cannot say how many frames it lost).
# The memoryview in the receive list is made over the caller's buffer, so a frame is
# received straight into the slot the decoder reads: zero copies, zero allocations.
# The mode is never changed on a running controller: a controller not in MODE_SILENT at
# start() is deinitialised and start() raises (listen_only=False is for bench tests).

from firmware.hal.can import BITRATE, CANAdapter, plan_filters
from ovms.compat import const

_ID = const(0)
_DATA = const(1)
_FLAGS = const(2)
_ERRORS = const(3)
_FLAG_RTR = const(1)  # CAN.FLAG_RTR
_FLAG_EXT_ID = const(2)  # CAN.FLAG_EXT_ID
_RECV_ERR_OVERRUN = const(2)  # CAN.RECV_ERR_OVERRUN
_IRQ_FLAG_READS = const(4)  # flags() reads per interrupt at most


class CANMachine(CANAdapter):
    def __init__(self, can, **kw):
        super().__init__(**kw)
        self.can = can
        self.filters = []  # (id, mask) pairs in the controller
        self._rx = [0, memoryview(bytearray(8)), 0, 0]
        self._owner = None  # the buffer self._rx[1] views
        self._irq_obj = None
        self._on_irq = self._irq  # bound once (IRQ context must not allocate)

    def start(self):
        can = self.can
        try:
            want = can.MODE_SILENT if self.listen_only else can.MODE_NORMAL
            if hasattr(can, "mode") and can.mode() != want:
                raise OSError("CAN controller not in the mode it was built for")
            if self.ids is None:
                self.filters = []
                can.set_filters([])  # accept all
            else:
                n = getattr(can, "FILTERS_MAX", len(self.ids))
                self.filters = plan_filters(self.ids, n)
                can.set_filters([(i, m, 0) for i, m in self.filters])
            if self._flag is not None:
                self._irq_obj = can.irq(self._on_irq, trigger=can.IRQ_RX, hard=True)
        except BaseException:
            self.stop()
            raise
        self.started = True

    def stop(self):
        # the controller leaves the bus (start-up failure, app stop)
        self.started = False
        try:
            self.can.deinit()
        except (OSError, AttributeError):
            pass

    def _irq(self, can):
        # IRQ context, heap locked: acknowledge, set the flag, nothing else
        irq = self._irq_obj
        if irq is not None:
            for _ in range(_IRQ_FLAG_READS):
                if not irq.flags():
                    break
        self._flag.set()

    def recv(self, buf):
        rx = self._rx
        if buf is not self._owner:  # once per buffer
            rx[_DATA] = memoryview(buf)
            self._owner = buf
        can = self.can  # a method called directly, never stored: no bound-method block
        while True:
            if can.recv(rx) is None:
                return -1
            if rx[_ERRORS] & _RECV_ERR_OVERRUN:
                self.overruns += 1
            if rx[_FLAGS] & (_FLAG_RTR | _FLAG_EXT_ID):
                self.errors += 1  # not a Twizy frame: drop, take the next
                continue
            self.frames += 1
            self.dlc = len(rx[_DATA])
            return rx[_ID]

    def check(self):
        can = self.can
        if can.get_state() == can.STATE_BUS_OFF:
            can.restart()  # also zeroes the controller's counters
            self.bus_off += 1
        self.kick()

    def _send(self, can_id, data):
        r = self.can.send(can_id, data)
        return r is not None and r >= 0  # -1 (None before 1.28 final): queue full


def from_board(board, ids, can_class=None):
    # the controller from the board's constants, listen-only from its construction on,
    # wrapped in the adapter; ids: the vehicle's CAN IDs (the app passes them)
    if can_class is None:
        from machine import CAN as can_class
    bitrate = getattr(board, "CAN_BITRATE", BITRATE)
    kw = {}
    if hasattr(board, "CAN_TX"):  # ESP32 TWAI: the transceiver's GPIOs (PR #19461)
        kw = {"tx": board.CAN_TX, "rx": board.CAN_RX}
    can = can_class(board.CAN_ID, bitrate, mode=can_class.MODE_SILENT, **kw)
    try:
        return CANMachine(can, bitrate=bitrate, ids=ids)
    except BaseException:
        can.deinit()
        raise
