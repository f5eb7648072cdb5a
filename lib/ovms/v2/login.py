# The OVMS v2 login handshake: tokens, HMAC-MD5 digests, the welcome lines, the session
# key, the paranoid digest. Licence: MIT (this project).
#
# Spec: ovms-v2-protocol.md §2 (handshake, scheme 0), §9 (paranoid digest).
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
from ovms.v2.crypto import b64decode, b64encode, hmac_md5

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
