# The generic car values of the OVMS framework: bit and state codes of the fields every
# vehicle fills (car_doors1, car_chargestate) and the server's S record carries.
# Licence: MIT (this project).
#
# Framework level: the SMS interpreter, the v2 protocol and the tasks read them without
# knowing the vehicle; a vehicle (ovms/twizy/state.py) sets the fields with these names.

# car_doors1 bits
DOORS1_PORT = const(0x04)  # charge port open (cable in)
DOORS1_CHARGING = const(0x10)
DOORS1_CARON = const(0x80)  # key on

# car_chargestate codes (the S record's state field)
CHG_CHARGING = const(1)
CHG_TOPOFF = const(2)
CHG_DONE = const(4)
CHG_PREPARING = const(13)
CHG_HEATING = const(15)
CHG_STOPPED = const(21)
