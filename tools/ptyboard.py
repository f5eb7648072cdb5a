# The MicroPython unix port as a board on a serial line: a pseudo-terminal that mpremote
# connects to, with the unix port's REPL behind it and a folder as its flash.
# Licence: MIT (this project). Host tool, for testing the deploy path without hardware.
#
#   python3 -m tools.ptyboard FLASH_DIR [--seconds S] [--micropython EXE]
#       prints the pty path (e.g. /dev/pts/4) on its first line, then serves until S
#       seconds have passed or it is killed
#
# What it emulates (the hardware edge only; the REPL is MicroPython's own):
#   - a raw serial line: bytes pass both ways unchanged (no CR/LF translation);
#   - the board's soft reset: the unix port ends on Ctrl-D in its raw REPL, where a board
#     soft-reboots. The board here then prints "soft reboot", starts a fresh interpreter
#     and puts it back into the raw REPL, as a board does after Ctrl-D there.
#   - the flash: FLASH_DIR is the interpreter's working folder; sys.path is
#     ['', '.frozen', 'lib'] as on a board ('' = the flash root, 'lib' = /lib).
# Loopback only: nothing here touches a network.

import os
import pty
import select
import subprocess
import sys
import time
import tty


class PtyBoard:
    def __init__(self, flash_dir, micropython=None):
        self.flash = os.path.abspath(flash_dir)
        if micropython is None:
            exe = os.path.join(os.path.dirname(sys.executable), "micropython")
            micropython = exe if os.path.exists(exe) else "micropython"
        self.exe = micropython
        self.child = None
        self.boots = 0
        self._cm, cs = pty.openpty()  # the interpreter's side
        self._hm, hs = pty.openpty()  # the host's side: mpremote opens hs by name
        for fd in (cs, self._hm, hs):
            tty.setraw(fd)
        self._cs, self._hs = cs, hs
        self.path = os.ttyname(hs)

    def _spawn(self, raw):
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:lib"
        self.child = subprocess.Popen(
            [self.exe],
            stdin=self._cs,
            stdout=self._cs,
            stderr=self._cs,
            cwd=self.flash,
            env=env,
            start_new_session=True,
        )
        self.boots += 1
        if raw:
            os.write(self._cm, b"\x01")  # back into the raw REPL, as after a soft reset

    def serve(self, seconds):
        self._spawn(raw=False)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                if self.child.poll() is not None:  # Ctrl-D in the raw REPL: soft reset
                    self._drain_child()
                    os.write(self._hm, b"MPY: soft reboot\r\n")
                    self._spawn(raw=True)
                r, _, _ = select.select([self._cm, self._hm], [], [], 0.05)
                for fd in r:
                    try:
                        data = os.read(fd, 4096)
                    except OSError:
                        data = b""
                    if data:
                        os.write(self._hm if fd == self._cm else self._cm, data)
        finally:
            if self.child is not None and self.child.poll() is None:
                self.child.kill()
                self.child.wait()

    def _drain_child(self):
        # what the old interpreter printed last still reaches the host
        while True:
            r, _, _ = select.select([self._cm], [], [], 0)
            if not r:
                return
            try:
                data = os.read(self._cm, 4096)
            except OSError:
                return
            if not data:
                return
            os.write(self._hm, data)


def main(argv):
    seconds = 600.0
    exe = None
    args = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--seconds", "--micropython") and i + 1 < len(argv):
            if argv[i] == "--seconds":
                seconds = float(argv[i + 1])
            else:
                exe = argv[i + 1]
            i += 2
            continue
        args.append(argv[i])
        i += 1
    if len(args) != 1 or not os.path.isdir(args[0]):
        sys.stderr.write("usage: python3 -m tools.ptyboard FLASH_DIR [--seconds S]\n")
        return 2
    b = PtyBoard(args[0], exe)
    sys.stdout.write(b.path + "\n")
    sys.stdout.flush()
    b.serve(seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
