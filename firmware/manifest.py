# MicroPython freeze manifest of the firmware: give it to any port build as
#   make ... FROZEN_MANIFEST=<repo>/firmware/manifest.py
# Licence: MIT (this project).
#
# It freezes, as bytecode in flash (no heap for code):
#   - the port's own frozen modules where the port has a boards/manifest.py (ESP32's
#     _boot.py/inisetup.py mount the filesystem; stm32's brings asyncio), else asyncio
#     from the MicroPython tree with task.py, for ports without the C _asyncio (qemu);
#   - the vendored micropython-lib logging (lib/logging, see lib/VENDORED.md);
#   - the portable core lib/ovms;
#   - the device firmware (firmware/), without the host-only parts below.
# One manifest serves PYBV11, ESP32_GENERIC, the emulated Cortex-M (ports/qemu) and the
# 32-bit unix build of `make heap-report` (see the README, "Build and flash").
#
# Paths are relative to this file (the manifest loader runs it from its folder).

import os

# Host-only: the simulation drives the emulators in tools/; the host board points at the
# emulators and at files on the PC. A board image never imports either.
HOST_ONLY = ("firmware/boards/host.py", "firmware/manifest.py")

try:
    include("$(PORT_DIR)/boards/manifest.py")  # noqa: F821 (manifest API)
except Exception:  # no port manifest (qemu, unix): asyncio in Python, incl. task.py
    package(  # noqa: F821
        "asyncio",
        ("__init__.py", "core.py", "event.py", "funcs.py", "lock.py", "stream.py", "task.py"),
        base_path="$(MPY_DIR)/extmod",
    )

package("logging", base_path="../lib")  # noqa: F821
package("ovms", base_path="../lib")  # noqa: F821

for _root, _dirs, _files in os.walk("."):
    _dirs.sort()
    for _f in sorted(_files):
        if not _f.endswith(".py"):
            continue
        _rel = os.path.normpath(os.path.join("firmware", _root, _f)).replace(os.sep, "/")
        if _rel not in HOST_ONLY:
            module(_rel, base_path="..")  # noqa: F821
