# The one send-on-change memory of the module: per record kind the crc32 of the text
# last handed to the server. Licence: MIT (this project).
#
# D94: one memory for every way a record reaches the server. The vehicle owns it
# (vehicle.sent); its notification pass (ovms/twizy/notify.py), its economy cadence
# (ovms/twizy/cadence.py) and the protocol's periodic status set (ovms/v2/periodic.py)
# all ask it, so a status message S that one path sent is not sent again unchanged by
# the other (two memories before, both sending S). Kinds: the record's code ("S", "L",
# "W", "F", "D", "V"), or the vehicle's names ("pack", cell 0..13, "usage", "gps").
# It survives reconnects; a record moves it forward when the link ACCEPTED the text.

import binascii


def crc_of(text):
    return binascii.crc32(text.encode())


class SentMemory:
    def __init__(self):
        self._crcs = {}  # kind -> crc32 of the text last sent

    def __len__(self):
        return len(self._crcs)

    def same(self, kind, crc):
        # True if the text with this crc32 is what was sent last for kind
        return self._crcs.get(kind) == crc

    def keep(self, kind, crc):
        # the text with this crc32 was sent (accepted) for kind
        self._crcs[kind] = crc

    def forget(self):
        # send every record again (e.g. after the server lost data)
        self._crcs = {}
