# MQTT 3.1.1 packets: the few a car-side client needs, encoded and decoded. Pure.
# Licence: MIT (this project).
#
# Spec: MQTT Version 3.1.1 (OASIS, 2014), §2 (fixed header, remaining length), §3
# (CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT).
#
#   data = connect("twizy-1", 120, will=("ovms/u/v/metric/s/v3/connected", b"no", 1, True))
#   data = publish("ovms/u/v/metric/v/b/soc", b"85.5", qos=0, retain=True)
#   p = Parser()
#   for pkt in p.feed(chunk): ...   # (CONNACK, present, rc) (PUBLISH, topic, payload,
#                                   #  qos, pid, retain) (PUBACK, pid) (SUBACK, pid, codes)
#                                   #  (UNSUBACK, pid) (PINGRESP,)
#
# Fuzz safety (the broker is not trusted to be well-formed): a packet that does not
# parse (wrong flags for its type, lengths that run past its end, a topic that is no
# UTF-8, QoS 3, a packet type a client never receives) is dropped and counted in
# .bad; a packet longer than max_packet is skipped byte by byte as it arrives (never
# buffered) and counted in .too_big. Only a remaining length of more than 4 bytes
# (§2.2.3: malformed) cannot be skipped, since the next packet cannot be found: feed()
# raises ProtocolError then (the caller ends the connection; also counted in .bad);
# packets decoded before it in the same chunk are returned first, the error comes with
# the next feed().
# Allocation: one receive bytearray (at most max_packet + 5 bytes plus the last chunk),
# cut once per feed(); one bytes object per decoded packet body, topic and payload.

CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
SUBSCRIBE = 8
SUBACK = 9
UNSUBACK = 11
PINGREQ_T = 12
PINGRESP = 13
_DISCONNECT_T = const(14)

PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"
MAX_PACKET = 4096  # bytes of a received packet we decode (commands are short)
_MAX_REMAINING = const(268435455)  # §2.2.3

CONNACK_TEXT = {
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}


class ProtocolError(Exception):
    pass


def _rl(n):
    # remaining length (§2.2.3) -> bytes
    if n < 0 or n > _MAX_REMAINING:
        raise ValueError("MQTT packet too long")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return out


def _str(s):
    # a UTF-8 string with its 2-byte length (§1.5.3)
    b = s.encode() if isinstance(s, str) else bytes(s)
    if len(b) > 0xFFFF:
        raise ValueError("MQTT string too long")
    return bytes((len(b) >> 8, len(b) & 0xFF)) + b


def _packet(first, body):
    return bytes((first,)) + bytes(_rl(len(body))) + body


def connect(client_id, keepalive_s, user=None, password=None, will=None, clean=True):
    # CONNECT; will = (topic, payload bytes, qos, retain) or None
    flags = 0x02 if clean else 0
    payload = _str(client_id)
    if will is not None:
        topic, msg, qos, retain = will
        flags |= 0x04 | (qos & 3) << 3 | (0x20 if retain else 0)
        payload += _str(topic) + _str(msg)
    if user:
        flags |= 0x80
        payload += _str(user)
        if password:
            flags |= 0x40
            payload += _str(password)
    if not 0 <= keepalive_s <= 0xFFFF:
        raise ValueError("keep-alive out of range")
    head = b"\x00\x04MQTT\x04" + bytes((flags, keepalive_s >> 8, keepalive_s & 0xFF))
    return _packet(0x10, head + payload)


def publish(topic, payload, qos=0, retain=False, pid=0, dup=False):
    # -> bytearray of the whole packet, allocated once (metrics go out every few seconds)
    t = topic.encode() if isinstance(topic, str) else topic
    if isinstance(payload, str):
        payload = payload.encode()
    first = 0x30 | (0x08 if dup and qos else 0) | (qos & 3) << 1 | (1 if retain else 0)
    if len(t) > 0xFFFF:
        raise ValueError("MQTT string too long")
    if qos and not 0 < pid <= 0xFFFF:
        raise ValueError("packet id out of range")
    n = 2 + len(t) + (2 if qos else 0) + len(payload)
    rl = _rl(n)
    out = bytearray(1 + len(rl) + n)
    out[0] = first
    i = 1 + len(rl)
    out[1:i] = rl
    out[i] = len(t) >> 8
    out[i + 1] = len(t) & 0xFF
    i += 2
    out[i : i + len(t)] = t
    i += len(t)
    if qos:
        out[i] = pid >> 8
        out[i + 1] = pid & 0xFF
        i += 2
    out[i:] = payload
    return out


def puback(pid):
    return bytes((0x40, 2, pid >> 8 & 0xFF, pid & 0xFF))


def subscribe(pid, topics):
    # topics: [(filter, qos)]
    body = bytes((pid >> 8, pid & 0xFF))
    for t, q in topics:
        body += _str(t) + bytes((q,))
    return _packet(0x82, body)


def _u16(b, i):
    return b[i] << 8 | b[i + 1]


class Parser:
    def __init__(self, max_packet=MAX_PACKET):
        self.max_packet = max_packet
        self.bad = 0  # packets dropped: malformed or not for a client
        self.too_big = 0  # packets skipped: longer than max_packet
        self.packets = 0  # packets decoded
        self._buf = bytearray()
        self._skip = 0  # bytes of an oversized packet still to skip
        self.broken = False  # a malformed length was seen: the stream is lost

    def reset(self):
        # a new connection: nothing carried over
        self._buf = bytearray()
        self._skip = 0
        self.broken = False

    def feed(self, data):
        # bytes from the broker -> list of decoded packets (see the top)
        if self.broken:
            raise ProtocolError("malformed remaining length")
        out = []
        if self._skip:
            n = min(self._skip, len(data))
            self._skip -= n
            data = data[n:]
        buf = self._buf
        buf.extend(data)
        i = 0
        n = len(buf)
        while i < n:
            try:
                head = self._header(buf, i, n)
            except ProtocolError:
                if not out:
                    raise
                self.broken = True  # the packets before it first; raise next time
                return out
            if head is None:
                break
            first, hlen, rl = head
            end = i + hlen + rl
            if rl > self.max_packet:
                self.too_big += 1
                if end <= n:
                    i = end
                    continue
                self._skip = end - n
                i = n
                break
            if end > n:
                break
            pkt = self._decode(first, bytes(buf[i + hlen : end]))
            i = end
            if pkt is None:
                self.bad += 1
            else:
                self.packets += 1
                out.append(pkt)
        if i:
            self._buf = buf[i:]
        return out

    def _header(self, buf, start, end):
        # -> (first byte, header length, remaining length) or None (need more)
        n = 0
        shift = 0
        i = start + 1
        while True:
            if i >= end:
                return None
            b = buf[i]
            n |= (b & 0x7F) << shift
            i += 1
            if not b & 0x80:
                return buf[start], i - start, n
            shift += 7
            if i - start > 4:
                self.bad += 1
                self._buf = bytearray()
                raise ProtocolError("malformed remaining length")

    def _decode(self, first, body):
        t = first >> 4
        flags = first & 0x0F
        n = len(body)
        if t == PUBLISH:
            return _decode_publish(flags, body)
        if t == CONNACK:
            if flags or n != 2 or body[0] & 0xFE:
                return None
            return (CONNACK, body[0] & 1, body[1])
        if t in (PUBACK, UNSUBACK):
            if flags or n != 2:
                return None
            return (t, _u16(body, 0))
        if t == SUBACK:
            if flags or n < 3:
                return None
            for c in body[2:]:
                if c not in (0, 1, 2, 0x80):
                    return None
            return (SUBACK, _u16(body, 0), body[2:])
        if t == PINGRESP:
            if flags or n:
                return None
            return (PINGRESP,)
        return None  # CONNECT, SUBSCRIBE, PINGREQ, QoS 2 flows ... never for us


def _decode_publish(flags, body):
    qos = (flags >> 1) & 3
    if qos == 3:
        return None
    n = len(body)
    if n < 2:
        return None
    tl = _u16(body, 0)
    i = 2 + tl
    if tl == 0 or i > n:
        return None
    try:
        topic = body[2:i].decode()
    except UnicodeError:
        return None
    if "+" in topic or "#" in topic or "\x00" in topic:
        return None  # §4.7.1: wildcards never in a PUBLISH topic
    pid = 0
    if qos:
        if i + 2 > n:
            return None
        pid = _u16(body, i)
        if pid == 0:
            return None
        i += 2
    return (PUBLISH, topic, body[i:], qos, pid, flags & 1)
