# The owner's OVMS v2 command-line client (the user guide's "Perl client",
# cmd.pl): logs in to an OVMS v2 server as a batch client, sends one command
# and prints the answer, history records as CSV. Licence: MIT (this project).
#
#   python3 -m tools.ovms_client [--config FILE] [--server HOST[:PORT]]
#       [--vehicle ID] [--password PW] CMD [ARG...]
#
#   31                    what the server holds (one CSV row per record type)
#   32 RT-GPS-Log         the records of one type: type,timestamp,recno,fields...
#   32                    every type the server holds, in one CSV (D80)
#   41 "*100#"            USSD through the car's modem (any car command works:
#                         1, 3, 7 STAT, 203, 204 30 60 ...; ARGs joined by ",")
#
# The config file is the seed client's ovms_client.conf (INI, section
# [client]: server_ip, vehicle_id, server_password, module_password; also
# server_port). Options override it. Default: ./ovms_client.conf if present.
# Exit status: 0 answered, 1 the car or server answered "failed" / "no data",
# 2 a usage, connection, login or timeout error (one line on stderr).
#
# Protocol: ovms-v2-protocol.md §2 (handshake, the same as a car's with
# MP-B), §8.3 (30-32 answered by the server), §8.6 (one reply per command),
# §9 (paranoid replies are unwrapped with the module password).
#
# Decisions:
# - D80: the client logs in as a batch client (MP-B), not as an App, so the
#   car is not told "an app is watching" and does not send its full status
#   over GPRS for a history download. "32" without a type downloads every type
#   31 lists, in one session. A refused login is reported as "unknown vehicle
#   or wrong server password": the server closes without saying which (§2.3).
#   A command that needs the car while the server reports it offline (Z0)
#   fails at once instead of waiting: the server would drop it silently.

import configparser
import csv
import os
import sys
import time

from tools.ovms_client_link import ClientError, Connection

PORT = 6867
SERVER_COMMANDS = (30, 31, 32)  # answered by the server itself (§8.3)


class Failed(Exception):
    # the server or the car answered with a failure; exit status 1
    pass


# ---- one command ----------------------------------------------------------------------
def _is_last(cmd, fields):
    # fields after "c<cmd>,": is this the last reply of the command?
    if fields[0] != "0":
        return True
    if cmd in SERVER_COMMANDS:
        return len(fields) < 3 or fields[1] == fields[2]  # k == n (1-based)
    if cmd in (1, 3):
        return len(fields) < 3 or not fields[2].isdigit() or fields[1] == str(int(fields[2]) - 1)
    return True


def run_command(conn, cmd, params, timeout_s, progress=None):
    # send C<cmd>[,params]; -> list of reply field lists (after "c<cmd>,"),
    # ended by the command's last reply; each reply restarts the timeout
    if cmd not in SERVER_COMMANDS and conn.car_connected is False:
        raise ClientError(
            "the car is not connected to the server; command %d needs the car "
            "(31 and 32 do not)" % cmd
        )
    conn.send("MP-0 C%d" % cmd + ("," + params if params else ""))
    prefix = "MP-0 c%d," % cmd
    out = []
    deadline = time.monotonic() + timeout_s
    while True:
        clear = conn.recv(deadline)
        if clear is None:
            got = " (%d replies so far)" % len(out) if out else ""
            raise ClientError("no reply to command %d within %g s%s" % (cmd, timeout_s, got))
        if clear == "MP-0 Z0" and cmd not in SERVER_COMMANDS:
            raise ClientError("the car left the server before answering command %d" % cmd)
        if not clear.startswith(prefix):
            continue
        fields = clear[len(prefix) :].split(",")
        out.append(fields)
        if progress is not None:
            progress(fields)
        if _is_last(cmd, fields):
            return out
        deadline = time.monotonic() + timeout_s


def _check(cmd, replies):
    # raise Failed for a ",1," / ",2," / ",3" answer
    f = replies[-1]
    if f[0] == "0":
        return
    if f[0] == "3":
        raise Failed("command %d is not implemented by the car" % cmd)
    if f[0] == "2":
        raise Failed("command %d is not supported by the car" % cmd)
    who = "server" if cmd in SERVER_COMMANDS else "car"
    raise Failed("%s: %s" % (who, ",".join(f[1:]) or "failed"))


class Progress:
    # "RT-GPS-Log: 500/1200 records" on stderr at every tenth, for long downloads
    MIN = 100

    def __init__(self, label, stream):
        self.label = label
        self.stream = stream
        self.next = 0

    def __call__(self, fields):
        if self.stream is None or fields[0] != "0" or len(fields) < 3:
            return
        try:
            k, n = int(fields[1]), int(fields[2])
        except ValueError:
            return
        if n < self.MIN:
            return
        if k >= self.next or k == n:
            self.stream.write("%s: %d/%d records\n" % (self.label, k, n))
            self.stream.flush()
            self.next = k + max(1, n // 10)


def history_rows(conn, rtype, timeout_s, stream):
    # command 32 for one type -> CSV rows [type, timestamp, recno, field, ...]
    replies = run_command(conn, 32, rtype, timeout_s, Progress(rtype, stream))
    _check(32, replies)
    rows = []
    for f in replies:
        # 0,k,n,type,timestamp,recno,data...
        if len(f) >= 6:
            rows.append(f[3:6] + f[6:])
    return rows


def summary_rows(conn, timeout_s, since=None):
    replies = run_command(conn, 31, since, timeout_s)
    _check(31, replies)
    return [f[3:] for f in replies if len(f) >= 9]


def command_output(cmd, replies):
    # lines to print for a car command
    if cmd in (1, 3):
        return [[f[1], ",".join(f[3:])] for f in replies if len(f) >= 3]
    text = ",".join(replies[-1][1:])
    return (
        [[line] for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        if text
        else []
    )


# ---- command line ------------------------------------------------------------------
def _settings(argv):
    import argparse

    ap = argparse.ArgumentParser(
        prog="python3 -m tools.ovms_client",
        description="OVMS v2 server client (history, commands)",
    )
    ap.add_argument("--config", help="INI file like the seed's ovms_client.conf ([client])")
    ap.add_argument("--server", help="HOST[:PORT] (default port 6867)")
    ap.add_argument("--vehicle", help="vehicle id")
    ap.add_argument("--password", help="server password of the vehicle (car parameter 9)")
    ap.add_argument("--module-password", help="module password, for paranoid replies")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait per reply")
    ap.add_argument("--header", action="store_true", help="31/32: a CSV header row first")
    ap.add_argument("--gpx", metavar="FILE", help="32 RT-GPS-Log: also write a GPX track")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ap.add_argument("cmd", help="command number: 31, 32, 41, 1, 3, 7, 2xx ...")
    ap.add_argument("args", nargs="*", help="command parameters (joined with commas)")
    a = ap.parse_args(argv)
    conf = {}
    path = a.config or ("ovms_client.conf" if os.path.exists("ovms_client.conf") else None)
    if path:
        cp = configparser.ConfigParser(interpolation=None)
        try:
            with open(path) as f:
                cp.read_file(f)
        except (OSError, configparser.Error) as e:
            raise ClientError("cannot read the config file %s: %s" % (path, e))
        if cp.has_section("client"):
            conf = dict(cp.items("client"))
    server = a.server or conf.get("server_ip") or conf.get("server")
    vehicle = a.vehicle or conf.get("vehicle_id")
    netpass = a.password if a.password is not None else conf.get("server_password")
    if not server:
        raise ClientError("no server: give --server HOST[:PORT] or server_ip in the config file")
    if not vehicle:
        raise ClientError("no vehicle: give --vehicle ID or vehicle_id in the config file")
    if not netpass:
        raise ClientError("no server password: give --password or server_password in the config")
    host, _, port = server.rpartition(":") if ":" in server else (server, "", "")
    port = port or conf.get("server_port") or str(PORT)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ClientError("bad server port %r" % port)
    if not a.timeout > 0:
        raise ClientError("--timeout must be more than 0 seconds")
    if not a.cmd.isdigit() or int(a.cmd) > 65535:
        raise ClientError("the command must be a number 0..65535, not %r" % a.cmd)
    a.host, a.port, a.vehicle, a.netpass = host, int(port), vehicle.upper(), netpass
    a.modpass = a.module_password or conf.get("module_password", "")
    return a


def _write_rows(rows, header=None):
    w = csv.writer(sys.stdout, lineterminator="\n")
    if header:
        w.writerow(header)
    for r in rows:
        w.writerow(r)
    sys.stdout.flush()


def run(a):
    from tools import history

    cmd = int(a.cmd)
    params = ",".join(a.args)
    stream = None if a.quiet else sys.stderr
    conn = Connection(a.host, a.port, a.timeout)
    try:
        conn.modpass = a.modpass
        conn.login(a.vehicle, a.netpass)
        conn.settle()
        if cmd == 31:
            _write_rows(
                summary_rows(conn, a.timeout, params or None), a.header and history.SUMMARY
            )
        elif cmd == 32:
            types = [a.args[0]] if a.args else [r[0] for r in summary_rows(conn, a.timeout)]
            rows = []
            for t in types:
                got = history_rows(conn, ",".join([t] + a.args[1:]), a.timeout, stream)
                _write_rows(got, a.header and len(types) == 1 and history.header(t))
                rows.extend(got)
            if a.gpx:
                from tools import gpx

                try:
                    n = gpx.write_file(a.gpx, history.parse_rows(rows))
                except OSError as e:
                    raise ClientError("cannot write the GPX file %s: %s" % (a.gpx, e))
                if stream:
                    stream.write("%s: %d track points\n" % (a.gpx, n))
        else:
            replies = run_command(conn, cmd, params, a.timeout)
            _check(cmd, replies)
            if cmd in (1, 3):
                _write_rows(command_output(cmd, replies))
            else:
                # the car's own comma-separated fields, one line per text line
                for line in command_output(cmd, replies):
                    sys.stdout.write(line[0] + "\n")
                sys.stdout.flush()
    finally:
        conn.close()


def main(argv=None):
    try:
        a = _settings(sys.argv[1:] if argv is None else argv)
        run(a)
    except ClientError as e:
        sys.stderr.write("ovms_client: error: %s\n" % e)
        return 2
    except Failed as e:
        sys.stderr.write("ovms_client: %s\n" % e)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("ovms_client: interrupted\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
