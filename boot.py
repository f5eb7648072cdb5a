# boot.py — runs first on the device; stays tiny and never imports the app.
# Licence: MIT (this project).
# The reset cause is logged and kept by the app (firmware/bootlog.py, called first thing
# in firmware.app.main); a crash loop ends in the safe mode there, and the board's
# SAFE_PIN (PYBV11: the USR button; ESP32: BOOT on GPIO 0) held at reset forces it.
import micropython

micropython.alloc_emergency_exception_buf(100)
try:
    import machine

    print("boot: reset cause", machine.reset_cause())
except (ImportError, AttributeError):
    pass
