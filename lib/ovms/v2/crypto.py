# RC4, MD5 / HMAC-MD5 and base64 for the OVMS v2 "MP-0" protocol.
# Licence: MIT (this project).
#
# Spec: ovms-v2-protocol.md §2.2-§2.6, §9. Pure Python, both runtimes.
# hashlib.md5 is used when the port has it (unix, ESP32); the pure-Python
# MD5 below is the fallback (PYBV11 builds without it). HMAC is the RFC 2104
# construction (MicroPython has no hmac module).

import binascii

from ovms.compat import const

try:
    from hashlib import md5 as _md5
except ImportError:  # pragma: no cover - port without hashlib / md5
    _md5 = None

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
        s = self.s
        i = self.i
        j = self.j
        out = bytearray(len(data))
        for n in range(len(data)):
            i = (i + 1) & 255
            si = s[i]
            j = (j + si) & 255
            sj = s[j]
            s[i] = sj
            s[j] = si
            out[n] = data[n] ^ s[(si + sj) & 255]
        self.i = i
        self.j = j
        return bytes(out)

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


# ---- MD5 (RFC 1321), pure-Python fallback ------------------------------------
# Integer-only, masks every sum to 32 bits (values stay below 2^34, small ints
# on 64-bit hosts; heap ints on 32-bit ports, which is acceptable for a
# fallback that runs a few times per connection).

_S = (7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21)
# K[i] = floor(abs(sin(i + 1)) * 2^32), precomputed (no float math)
_K = (
    0xD76AA478, 0xE8C7B756, 0x242070DB, 0xC1BDCEEE, 0xF57C0FAF, 0x4787C62A, 0xA8304613, 0xFD469501,
    0x698098D8, 0x8B44F7AF, 0xFFFF5BB1, 0x895CD7BE, 0x6B901122, 0xFD987193, 0xA679438E, 0x49B40821,
    0xF61E2562, 0xC040B340, 0x265E5A51, 0xE9B6C7AA, 0xD62F105D, 0x02441453, 0xD8A1E681, 0xE7D3FBC8,
    0x21E1CDE6, 0xC33707D6, 0xF4D50D87, 0x455A14ED, 0xA9E3E905, 0xFCEFA3F8, 0x676F02D9, 0x8D2A4C8A,
    0xFFFA3942, 0x8771F681, 0x6D9D6122, 0xFDE5380C, 0xA4BEEA44, 0x4BDECFA9, 0xF6BB4B60, 0xBEBFBC70,
    0x289B7EC6, 0xEAA127FA, 0xD4EF3085, 0x04881D05, 0xD9D4D039, 0xE6DB99E5, 0x1FA27CF8, 0xC4AC5665,
    0xF4292244, 0x432AFF97, 0xAB9423A7, 0xFC93A039, 0x655B59C3, 0x8F0CCC92, 0xFFEFF47D, 0x85845DD1,
    0x6FA87E4F, 0xFE2CE6E0, 0xA3014314, 0x4E0811A1, 0xF7537E82, 0xBD3AF235, 0x2AD7D2BB, 0xEB86D391,
)  # fmt: skip
_M32 = const(0xFFFFFFFF)


def md5_pure(data):
    # MD5 digest (16 bytes) of `data` without hashlib
    n = len(data)
    msg = bytearray(data)
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    bits = (n * 8) & 0xFFFFFFFFFFFFFFFF
    for k in range(8):
        msg.append((bits >> (8 * k)) & 255)
    h0, h1, h2, h3 = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    w = [0] * 16
    for off in range(0, len(msg), 64):
        for k in range(16):
            p = off + 4 * k
            w[k] = msg[p] | (msg[p + 1] << 8) | (msg[p + 2] << 16) | (msg[p + 3] << 24)
        a, b, c, d = h0, h1, h2, h3
        for i in range(64):
            r = i >> 4
            if r == 0:
                f = (b & c) | (~b & d)
                g = i
            elif r == 1:
                f = (d & b) | (~d & c)
                g = (5 * i + 1) & 15
            elif r == 2:
                f = b ^ c ^ d
                g = (3 * i + 5) & 15
            else:
                f = c ^ (b | (~d & _M32))
                g = (7 * i) & 15
            f = (f + a + _K[i] + w[g]) & _M32
            sh = _S[(r << 2) | (i & 3)]
            a = d
            d = c
            c = b
            b = (b + (((f << sh) | (f >> (32 - sh))) & _M32)) & _M32
        h0 = (h0 + a) & _M32
        h1 = (h1 + b) & _M32
        h2 = (h2 + c) & _M32
        h3 = (h3 + d) & _M32
    out = bytearray(16)
    for k, h in enumerate((h0, h1, h2, h3)):
        for m in range(4):
            out[4 * k + m] = (h >> (8 * m)) & 255
    return bytes(out)


def md5(data):
    if _md5 is not None:
        return _md5(data).digest()
    return md5_pure(data)


def hmac_md5(key, msg, md5fn=None):
    # RFC 2104 with a 64-byte block; key and msg are bytes (or str: ASCII)
    h = md5fn or md5
    if isinstance(key, str):
        key = key.encode()
    if isinstance(msg, str):
        msg = msg.encode()
    if len(key) > 64:
        key = h(key)
    ipad = bytearray(64)
    opad = bytearray(64)
    for k in range(64):
        b = key[k] if k < len(key) else 0
        ipad[k] = b ^ 0x36
        opad[k] = b ^ 0x5C
    return h(bytes(opad) + h(bytes(ipad) + msg))


# ---- base64 (standard alphabet, "=" padding, one line) -----------------------
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
