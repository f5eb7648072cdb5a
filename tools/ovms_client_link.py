# The App side of an OVMS v2 server connection for host tools (blocking
# socket): the login of a batch client (MP-B, the same handshake as a car's,
# protocol §2), the session lines, paranoid replies unwrapped with the module
# password (§9). Used by tools/ovms_client.py. Licence: MIT (this project).
# CPython only.

import os
import socket
import time

from ovms.v2 import codec, login

PARANOID = "the car answers in paranoid mode"


def _readable(text):
    # printable ASCII (and CR) only: a paranoid reply unwrapped with the right key
    return all(" " <= ch <= "~" or ch == "\r" for ch in text)


class ClientError(Exception):
    # one line for the owner; exit status 2
    pass


# ---- connection -----------------------------------------------------------------
class Connection:
    def __init__(self, host, port, timeout_s):
        self.where = "%s:%d" % (host, port)
        self.timeout_s = timeout_s
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout_s)
        except socket.timeout:
            raise ClientError("cannot reach the OVMS server %s: no answer" % self.where)
        except OSError as e:
            why = e.strerror or str(e)
            raise ClientError("cannot reach the OVMS server %s: %s" % (self.where, why))
        self.lb = codec.LineBuffer()
        self.pending = []
        self.sess = None
        self.pdigest = None
        self.modpass = ""
        self.car_connected = None  # from the server's Z after login

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _line(self, deadline):
        # the next raw line; None when the deadline passes; ClientError on close
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return None
            except OSError as e:
                raise ClientError("connection to %s lost: %s" % (self.where, e))
            if not data:
                raise EOFError
            try:
                self.pending.extend(self.lb.feed(data))
            except codec.ProtocolError as e:
                raise ClientError("the server %s sent garbage: %s" % (self.where, e))
        return self.pending.pop(0)

    def login(self, vehicle, netpass):
        ctoken = login.make_token(os.urandom)
        welcome = login.car_welcome(ctoken, netpass, vehicle).replace("MP-C", "MP-B", 1)
        self.sock.sendall((welcome + "\r\n").encode())
        try:
            line = self._line(time.monotonic() + self.timeout_s)
        except EOFError:
            line = None
            refused = True
        else:
            refused = False
        if refused:
            raise ClientError(
                "the server %s refused the login: unknown vehicle %s or wrong server password"
                % (self.where, vehicle)
            )
        if line is None:
            raise ClientError("the server %s did not answer the login" % self.where)
        try:
            stoken = login.check_server_welcome(codec.text(line), ctoken, netpass)
        except codec.AuthError as e:
            raise ClientError("the server %s failed its login check (%s)" % (self.where, e))
        self.sess = codec.Session(login.session_key(netpass, stoken, ctoken))

    def send(self, clear):
        self.sock.sendall(self.sess.encode_lines([clear]))

    def recv(self, deadline):
        # next clear message (paranoid ones unwrapped), None on timeout
        try:
            line = self._line(deadline)
        except EOFError:
            raise ClientError("the server %s closed the connection" % self.where)
        if line is None:
            return None
        try:
            clear = self.sess.decode(line)
        except codec.ProtocolError as e:
            raise ClientError("the session with %s broke: %s" % (self.where, e))
        if clear.startswith("MP-0 ET"):
            self.pdigest = login.paranoid_digest(self.modpass, clear[7:])
        elif clear.startswith("MP-0 EMc"):
            # a paranoid reply (§9): readable only with the module password
            if self.pdigest is None or not self.modpass:
                raise ClientError(PARANOID + " (give --module-password)")
            clear = codec.unwrap(clear, self.pdigest)
            if not _readable(clear):
                raise ClientError(PARANOID + ": the module password is wrong")
        elif clear.startswith("MP-0 EM") and self.pdigest is not None:
            clear = codec.unwrap(clear, self.pdigest)
        if clear.startswith("MP-0 Z"):
            self.car_connected = clear[6:7] not in ("0", "")
        return clear

    def settle(self):
        # read the login burst (Z, stored messages) up to its closing T (§11)
        deadline = time.monotonic() + self.timeout_s
        while True:
            clear = self.recv(deadline)
            if clear is None or clear.startswith("MP-0 T"):
                return
