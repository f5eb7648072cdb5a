# Modules loaded for one job and dropped after it (D98, D99, D100). Licence: MIT (this project).
#
# A frozen module's bytecode stays in flash, but importing it still puts its globals
# dict, function and class objects on the heap, and sys.modules keeps them for good. Code
# that runs a few times a day (the SMS command bodies) is loaded for the run and
# unloaded after it; once nothing refers to the module, the next gc frees it. Works the
# same in CPython and MicroPython (both put "a.b" in sys.modules and set b on a).
#
#   cmds = lazy.load("ovms.sms_cmds")  # may raise ImportError, MemoryError, ...
#   try:
#       out = cmds.something(...)
#   finally:
#       lazy.unload("ovms.sms_cmds")
#
# The caller keeps no reference to the module or its functions after unload(): objects
# made by the module that are still referenced keep its globals alive until they go too.
# load() raises ImportError, and MemoryError when a fragmented heap has no room for the
# module: the caller decides what that means (a reply saying so, never a traceback).
import sys


def load(name):
    # import "a.b" (again, after an unload) and return it: __import__ returns "a"
    __import__(name)
    return sys.modules[name]


def unload(name):
    # forget "a.b": its sys.modules entry and the attribute b of package a (set on
    # import); nothing happens for a module that is not loaded
    sys.modules.pop(name, None)
    dot = name.rfind(".")
    if dot > 0:
        parent = sys.modules.get(name[:dot])
        child = name[dot + 1 :]
        if parent is not None and hasattr(parent, child):  # MicroPython: deleting a
            delattr(parent, child)  # missing module attribute raises KeyError
