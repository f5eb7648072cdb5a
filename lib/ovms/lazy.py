# Modules that are imported for one job and forgotten after it, so that code which runs a
# few times a day does not hold heap all day (its globals dict, function and class objects:
# a frozen module's bytecode stays in flash, but these are made in the heap at import).
# Licence: MIT (this project).
#
#   m = load("ovms.v2.commands")    # import it (again) and return the module itself
#   try:
#       m.run(...)
#   finally:
#       unload("ovms.v2.commands")  # the GC frees it once nothing else holds it
#
# An import holds a module in two places: sys.modules and an attribute of its parent
# package (ovms.v2.commands); unload() drops both. Objects made by the module that are
# still referenced (a function returned to the caller) keep its globals alive, and only
# those, until they go too. load() can raise ImportError, and MemoryError when a
# fragmented heap has no room for the module: the caller decides what that means.

import sys


def load(name):
    # __import__("a.b.c") returns the top package "a": the module itself is sys.modules'
    __import__(name)
    return sys.modules[name]


def unload(name):
    sys.modules.pop(name, None)
    i = name.rfind(".")
    if i < 0:
        return
    parent = sys.modules.get(name[:i])
    leaf = name[i + 1 :]
    if parent is not None and hasattr(parent, leaf):  # MicroPython: deleting a missing
        delattr(parent, leaf)  # module attribute raises KeyError, not AttributeError
