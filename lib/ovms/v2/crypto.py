# RC4 and base64 for the OVMS v2 "MP-0" protocol (MD5 / HMAC-MD5: ovms/v2/login.py).
# Licence: MIT (this project).
#
# Spec: ovms-v2-protocol.md §2.2-§2.6, §9. Pure Python, both runtimes.

import binascii

from ovms.compat import const

_DROP = const(1024)  # RC4 bytes discarded after keying ("RC4 drop 1024")


class RC4:
    # state: permutation s (bytearray(256)) and the two indices i, j
    def __init__(self, key):
        s = bytearray(range(256))
        n = len(key)
        j = 0
        for i in range(256):
            j = (j + s[i] + key[i % n]) & 255
            s[i], s[j] = s[j], s[i]
        self.s = s
        self.i = 0
        self.j = 0

    def crypt(self, data):
        # data XOR keystream -> new bytes; the state continues
        return bytes(self.crypt_in(bytearray(data)))

    def crypt_in(self, buf):
        # the keystream XORed into the bytearray buf in place -> buf (the uplink's lines:
        # no second copy of each line); the state continues
        s = self.s
        i = self.i
        j = self.j
        for n in range(len(buf)):
            i = (i + 1) & 255
            si = s[i]
            j = (j + si) & 255
            sj = s[j]
            s[i] = sj
            s[j] = si
            buf[n] ^= s[(si + sj) & 255]
        self.i = i
        self.j = j
        return buf

    def skip(self, n):
        # advance the keystream by n bytes without producing output
        s = self.s
        i = self.i
        j = self.j
        for _ in range(n):
            i = (i + 1) & 255
            si = s[i]
            j = (j + si) & 255
            s[i] = s[j]
            s[j] = si
        self.i = i
        self.j = j


def rc4_drop(key, drop=_DROP):
    # an RC4 keyed with `key` and primed by discarding `drop` bytes
    r = RC4(key)
    r.skip(drop)
    return r


def b64encode(data):
    # -> str without the trailing newline binascii adds
    return binascii.b2a_base64(data).decode().rstrip("\n")


def b64decode(text):
    # str/bytes -> bytes; missing "=" padding is tolerated; ValueError if bad
    if isinstance(text, str):
        text = text.encode()
    text = text.strip()
    pad = (-len(text)) & 3
    if pad == 3:
        raise ValueError("bad base64 length")
    if pad:
        text = text + b"=" * pad
    try:
        return binascii.a2b_base64(text)
    except Exception as e:  # binascii.Error (CPython) / ValueError (MicroPython)
        raise ValueError("bad base64: %s" % e)
