# ovms — portable core of the Twizy OVMS firmware (runs under CPython and MicroPython).
# Licence: MIT (this project).
