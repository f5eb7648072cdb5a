# ovms — portable core of the Twizy OVMS firmware (runs under CPython and MicroPython).
# Licence: MIT (this project).

# D129: ovms.compat first: under CPython it makes `const` a builtin (MicroPython's compiler
# folds it), so the modules of this package and the firmware's use it without an import.
# No cost on the device: the package binds each submodule it imports anyway.
from ovms import compat  # noqa: F401
