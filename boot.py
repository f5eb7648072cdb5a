# boot.py — runs first on the device; stays tiny and never imports the app.
# Licence: MIT (this project).
import micropython

micropython.alloc_emergency_exception_buf(100)
