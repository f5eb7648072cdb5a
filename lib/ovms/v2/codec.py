# OVMS v2 "MP-0" line codec: session ciphers, line splitting, paranoid mode.
# Licence: MIT (this project).
#
# Spec: ovms-v2-protocol.md §1 (lines), §2.5 (session ciphers), §9 (paranoid).
# Pure and synchronous; used by the car (firmware/tasks/uplink.py) and by the
# test server (tools/ovms_v2_server.py), which is why Session is symmetric.
# The login handshake (tokens, digests, welcome lines, the session key) is
# ovms/v2/login.py, loaded for a login only (D105).
#
#   sess = Session(login.session_key(netpass, stoken, ctoken))
#   wire = sess.encode("MP-0 a")      # base64 text, no CR LF
#   clear = sess.decode(wire)         # ProtocolError if the stream is broken

from binascii import b2a_base64

from ovms.compat import text  # codec.text: the one bytes -> str (D91)
from ovms.v2.crypto import b64decode, b64encode, rc4_drop

PREFIX = "MP-0 "
CRLF = b"\r\n"  # every wire line's end
MAX_LINE = 2048  # bytes buffered without a LF before the link is declared broken

# car message codes never paranoid-wrapped (§9; H and h: servers cannot store them)
NO_WRAP = "HhEAag" + "P"


class ProtocolError(ValueError):
    # the peer sent something the protocol does not allow: reconnect
    pass


class AuthError(ProtocolError):
    # the server welcome failed the §2.4 checks (or the server refused us)
    pass


class Session:
    # one connection: separate tx and rx RC4 streams, each dropped 1024 bytes,
    # running on across all lines (never reset; a lost line means reconnect)
    def __init__(self, key):
        self.tx = rc4_drop(key)
        self.rx = rc4_drop(key)

    def encode(self, clear):
        # clear message (str) -> base64 text of RC4(clear), no CR LF
        return self.wire(clear).decode()

    def wire(self, clear):
        # one message -> its wire line's bytes without the CR LF (the uplink writes
        # CRLF after it). Two allocations of the line's size, the fewest a fragmented
        # board heap must place: the message's bytes, encrypted in place, and their
        # base64 (was five: encode, RC4 output, its bytes copy, base64, CR LF replace)
        return b2a_base64(self.tx.crypt_in(bytearray(clear, "utf-8")), newline=False)

    def encode_line(self, clear):
        # one message -> the bytes of its wire line, ended by CR LF (host tools)
        return self.wire(clear) + CRLF

    def encode_lines(self, lines):
        # several messages -> one bytes chunk, each line ended by CR LF (host tools;
        # the firmware writes line by line: encode_line)
        return b"".join([self.encode_line(m) for m in lines])

    def decode(self, line):
        # one received line (str or bytes, no CR LF) -> clear message
        try:
            raw = b64decode(line)
        except ValueError:
            raise ProtocolError("line is not base64")
        clear = text(self.rx.crypt(raw))
        if not clear.startswith(PREFIX):
            raise ProtocolError("unable to decode message")
        return clear


# ---- paranoid mode (§9; the digest: ovms/v2/login.py) ------------------------
def wrap(clear, pdigest):
    # "MP-0 <X><data>" -> "MP-0 EM<X>" + base64(RC4'(data)); exempt codes as is
    if len(clear) < 6 or not clear.startswith(PREFIX) or clear[5] in NO_WRAP:
        return clear
    data = clear[6:].encode()
    return "MP-0 EM" + clear[5] + b64encode(rc4_drop(pdigest).crypt(data))


def unwrap(clear, pdigest):
    # "MP-0 EM<X><b64>" -> "MP-0 <X><data>"; anything else unchanged;
    # ProtocolError if the payload is not base64
    if not clear.startswith("MP-0 EM") or len(clear) < 8:
        return clear
    try:
        raw = b64decode(clear[8:])
    except ValueError:
        raise ProtocolError("bad paranoid payload")
    return PREFIX + clear[7] + text(rc4_drop(pdigest).crypt(raw))


# ---- line splitting (§1) -------------------------------------------------------
class LineBuffer:
    # bytes in, complete lines out: split on LF, strip a trailing CR, skip
    # empty lines. At most MAX_LINE bytes are held (ProtocolError beyond).
    def __init__(self, limit=MAX_LINE):
        self.buf = b""
        self.limit = limit

    def feed(self, data):
        buf = self.buf + data if self.buf else data
        out = []
        start = 0
        while True:
            i = buf.find(b"\n", start)
            if i < 0:
                break
            end = i
            if end > start and buf[end - 1] == 13:
                end -= 1
            if end > start:
                out.append(buf[start:end])
            start = i + 1
        self.buf = buf[start:] if start < len(buf) else b""
        if len(self.buf) > self.limit:
            self.buf = b""
            raise ProtocolError("line too long")
        return out

    def clear(self):
        self.buf = b""
