# CAN adapter for machine.CAN (MicroPython >= 1.28; STM32, MIMXRT, Alif). Interface: can.py.
# Licence: MIT (this project).
#
# machine.CAN facts used (platform.md §6, upstream extmod/machine_can.c):
#   init(bitrate, mode=MODE_SILENT)   listen-only: no ACK, no TX
#   set_filters([(id, mask, flags)])  nothing is received before it is called
#   recv(lst) -> lst or None          lst = [id, memoryview, flags, errors]; the data is
#                                     copied into the memoryview's buffer and its length set
#                                     to the DLC: no allocation
#   irq(handler, trigger, hard)       handler(can) on IRQ_RX
#   state() / restart()               STATE_BUS_OFF -> restart()
# Overruns are counted from the RECV_ERR_OVERRUN bit (one count per overflow event: the
# controller cannot say how many frames it lost).
# The memoryview in the receive list is made over the caller's buffer, so a frame is
# received straight into the slot the decoder reads: zero copies, zero allocations.

try:
    from micropython import const
except ImportError:  # CPython (host tests)

    def const(x):
        return x


from firmware.hal.can import CANAdapter

_ID = const(0)
_DATA = const(1)
_FLAGS = const(2)
_ERRORS = const(3)
_FLAG_RTR = const(1)  # CAN.FLAG_RTR
_FLAG_EXT_ID = const(2)  # CAN.FLAG_EXT_ID
_RECV_ERR_OVERRUN = const(2)  # CAN.RECV_ERR_OVERRUN


class CANMachine(CANAdapter):
    def __init__(self, can, **kw):
        super().__init__(**kw)
        self.can = can
        self._rx = [0, memoryview(bytearray(8)), 0, 0]
        self._owner = None  # the buffer self._rx[1] views
        self._on_irq = self._irq  # bound once (IRQ context must not allocate)

    def start(self):
        can = self.can
        mode = getattr(can, "MODE_NORMAL", 0)
        if self.listen_only:
            mode = getattr(can, "MODE_SILENT", None)
            if mode is None:
                mode = can.SILENT
        can.init(self.bitrate, mode=mode)
        can.set_filters([(i, 0x7FF, 0) for i in self.ids])
        if self._flag is not None:
            can.irq(self._on_irq, trigger=can.IRQ_RX, hard=True)
        self.started = True

    def _irq(self, can):
        # IRQ context, heap locked: set the flag, nothing else
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
        if can.state() == can.STATE_BUS_OFF:
            can.restart()  # also zeroes the controller's counters
            self.bus_off += 1
        self.kick()

    def _send(self, can_id, data):
        return self.can.send(can_id, data) is not None


def from_board(board):
    # the bus object from the board's constants, wrapped in the adapter
    import machine

    can = machine.CAN(board.CAN_ID, getattr(board, "CAN_BITRATE", 500_000))
    return CANMachine(can, bitrate=getattr(board, "CAN_BITRATE", 500_000))
