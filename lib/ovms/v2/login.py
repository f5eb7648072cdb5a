# The OVMS v2 login handshake: tokens, HMAC-MD5 digests, the welcome lines, the session
# key, the paranoid digest; and the MD5 / HMAC-MD5 they need. Licence: MIT (this project).
#
# Spec: ovms-v2-protocol.md §2 (handshake, scheme 0), §9 (paranoid digest).
# hashlib.md5 is used when the port has it (unix, ESP32); the pure-Python MD5 below is
# the fallback (PYBV11 builds without it). HMAC is the RFC 2104 construction (MicroPython
# has no hmac module). The hashes live here, not with RC4 in ovms/v2/crypto.py, because
# only the login (and the boot's fresh module password, ovms.sms_auth) use them: they
# are loaded and dropped with it (D105).
# D105: used once per connection (and once per paranoid token), so the car loads it for
# a login and drops it after (ovms/lazy.py): firmware/tasks/uplink.py around car_login(),
# ovms/v2/handler.py around the paranoid token and digest. The host tools (the test
# server, the client) import it as a plain module.
#
#   ctoken = make_token(randbytes)
#   send car_welcome(ctoken, netpass, vehicleid)
#   stoken = check_server_welcome(line, ctoken, netpass)   # AuthError if bad
#   sess = codec.Session(session_key(netpass, stoken, ctoken))

import asyncio

from ovms.compat import const
from ovms.v2.codec import AuthError, Session, text
from ovms.v2.crypto import b64decode, b64encode

try:
    from hashlib import md5 as _md5
except ImportError:  # pragma: no cover - port without hashlib / md5
    _md5 = None

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TOKEN_LEN = const(22)


def make_token(randbytes, n=_TOKEN_LEN):
    # n characters of the base64 alphabet; randbytes(k) -> k random bytes
    raw = randbytes(n)
    return "".join([ALPHABET[b & 63] for b in raw])


def digest(netpass, token):
    # base64(HMAC-MD5(netpass, token)), 24 characters with "==" padding
    return b64encode(hmac_md5(netpass, token))


def car_welcome(ctoken, netpass, vehicleid):
    # the clear first line of a car connection (without CR LF)
    return "MP-C 0 %s %s %s" % (ctoken, digest(netpass, ctoken), vehicleid)


def server_welcome(stoken, netpass):
    return "MP-S 0 %s %s" % (stoken, digest(netpass, stoken))


def _digest_ok(netpass, token, b64):
    try:
        got = b64decode(b64)
    except ValueError:
        return False
    return got == hmac_md5(netpass, token)


def check_server_welcome(line, ctoken, netpass):
    # §2.4: -> stoken, or AuthError
    if not line.startswith("MP-S 0 "):
        raise AuthError("not a server welcome")
    parts = line[7:].split(" ")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise AuthError("server welcome incomplete")
    stoken = parts[0]
    if stoken == ctoken:
        raise AuthError("server token replayed")
    if not _digest_ok(netpass, stoken, parts[1]):
        raise AuthError("server digest wrong")
    return stoken


def parse_car_welcome(line, netpass_for):
    # server side (test tool): "MP-C 0 ctoken cdigest vehicleid" ->
    # (ctoken, vehicleid); netpass_for(vehicleid) -> netpass or None
    if not line.startswith("MP-C 0 "):
        raise AuthError("not a car welcome")
    parts = line[7:].split(" ")
    if len(parts) < 3:
        raise AuthError("car welcome incomplete")
    ctoken, cdig, vid = parts[0], parts[1], parts[2].upper()
    netpass = netpass_for(vid)
    if netpass is None or not _digest_ok(netpass, ctoken, cdig):
        raise AuthError("car authentication failed")
    return ctoken, vid


def session_key(netpass, stoken, ctoken):
    # §2.5: server token first, 16 raw bytes
    return hmac_md5(netpass, stoken + ctoken)


def paranoid_digest(modpass, ptoken):
    return hmac_md5(modpass, ptoken)


async def car_login(up, stream, lb, pending, netpass, vid):
    # the car's side on an open stream (firmware/tasks/uplink.py, up: the Uplink): our
    # welcome out, the server's in (lb, pending: the connection's line splitter and the
    # lines it split) -> the session's ciphers. AuthError: the server refused us;
    # OSError: no welcome within t.login_timeout_ms
    ctoken = make_token(up.randbytes)
    hello = (car_welcome(ctoken, netpass, vid) + "\r\n").encode()
    stream.write(hello)
    await stream.drain()
    up.bytes_out += len(hello)  # counted once sent (as the data counter does)
    try:
        line = await asyncio.wait_for(
            _first_line(up, stream, lb, pending), up.t.login_timeout_ms / 1000
        )
    except asyncio.TimeoutError:  # noqa: UP041 (MicroPython: no builtin TimeoutError)
        raise OSError("no server welcome")
    stoken = check_server_welcome(line, ctoken, netpass)
    return Session(session_key(netpass, stoken, ctoken))


async def _first_line(up, stream, lb, pending):
    # the clear server welcome; EOF first = the server refused the login
    while not pending:
        data = await stream.read(up.t.read_size)
        if not data:
            raise AuthError("server closed the connection at login")
        up.bytes_in += len(data)
        pending.extend(lb.feed(data))
    return text(pending.pop(0))


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
