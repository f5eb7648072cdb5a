# The simulation's counters and summary lines (tools/sim.py): what the module sent,
# by record type and by alert channel, SMS in/out, bytes on the GPRS link (payload and
# with TCP/IP overhead, counted in the SIM800 emulator: tools/sim800emu/tcp.py Wire),
# and the heap after a collection. Licence: MIT (this project). Host tool.
#
# Counted on the module's side, so the numbers hold for any server (--server): records
# by type = every clear line the uplink wrote to the session (before encryption; also
# what a previous run left in the durable outbox); alerts by channel = every alert the
# vehicle raised in this run through its link (firmware/tasks/link.Link: SMS texts,
# "MP-0 PA" pushes), whether or not it has gone out yet. The counting wrappers are
# instance attributes set by install(app) once the app has built its parts.

import gc


class Counts:
    def __init__(self):
        self.records = {}  # record type -> lines sent
        self.alerts = {"SMS": 0, "server": 0}
        self.server_lines = 0


def record_type(line):
    # "MP-0 S..." -> "S"; history records by their type: "MP-0 h12,0,RT-PWR-BattCell,..."
    # -> "h RT-PWR-BattCell"; a push alert "MP-0 PA..." -> "PA"
    body = line[5:] if line.startswith("MP-0 ") else line
    if not body:
        return "?"
    c = body[0]
    if c in "Hh":
        f = body.split(",", 3)
        return c + " " + (f[2] if c == "h" and len(f) > 2 else f[0][1:])
    if c == "P" and body[:2] == "PA":
        return "PA"
    return c


def install(app):
    # wrap the uplink's send and the link's SMS alerts with counters -> Counts
    n = app.sim_counts = Counts()
    up = app.uplink
    if up is not None:
        send = up._send
        next_line = up.sender.next_line
        handed = []  # the outbox's lines _send() asked for (D103: one at a time)

        def counted_next():
            m = next_line()
            if m is not None:
                handed.append(m)
            return m

        async def counted(lines, outbox=False):
            # the reader's replies and the ticker's sends run concurrently (they queue on
            # the uplink's lock); only the ticker's send takes outbox lines, so only it
            # owns `handed` (clearing it in every call lost the outbox lines the ticker's
            # send had taken while a reply started: "(16, 18)", sim 16 lines counted,
            # the server 18 received, once in test_sim_cli_cpython)
            before = up.lines_out
            if outbox:
                del handed[:]
            await send(lines, outbox)
            if up.lines_out != before:  # written to the session (not dropped)
                for line in list(lines or ()) + (handed if outbox else []):
                    t = record_type(line)
                    n.records[t] = n.records.get(t, 0) + 1
                    n.server_lines += 1
            if outbox:
                del handed[:]

        up._send = counted
        up.sender.next_line = counted_next
    link = getattr(app, "link", None)
    if link is not None and hasattr(link, "send_sms"):
        sms = link.send_sms
        srv = link.send_server

        def counted_sms(text):
            n.alerts["SMS"] += 1
            return sms(text)

        def counted_server(lines):
            for line in lines:
                if line.startswith("MP-0 PA"):
                    n.alerts["server"] += 1
            return srv(lines)

        link.send_sms = counted_sms
        link.send_server = counted_server
    return n


def heap_text():
    gc.collect()
    if hasattr(gc, "mem_alloc"):
        return "%d bytes used, %d free after gc" % (gc.mem_alloc(), gc.mem_free())
    try:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return "n/a under CPython (peak RSS %d KB)" % kb
    except ImportError:
        return "n/a"


def lines(app):
    # the summary lines this module adds
    out = []
    n = getattr(app, "sim_counts", None)
    if n is not None:
        recs = sorted(n.records.items())
        out.append(
            "records sent by type: "
            + (", ".join(["%s %d" % kv for kv in recs]) if recs else "none")
            + " (%d lines)" % n.server_lines
        )
        out.append(
            "alerts raised by channel: SMS %d, server %d" % (n.alerts["SMS"], n.alerts["server"])
        )
    emu = getattr(app, "emu", None)
    if emu is not None and hasattr(emu, "wire"):
        w = emu.wire
        out.append(
            "GPRS bytes: up %d payload / %d with TCP/IP, down %d payload / %d with TCP/IP "
            "(%d+%d segments, %d connects; 40 B header per segment and per ACK)"
            % (
                w.payload_up,
                w.wire_up(),
                w.payload_down,
                w.wire_down(),
                w.segments_up,
                w.segments_down,
                w.connects,
            )
        )
    up = getattr(app, "uplink", None)
    if up is not None:
        out.append(
            "uplink: %d logins, %d auth failures, %d lines / %d bytes out, %d bytes in"
            % (up.logins, up.auth_failures, up.lines_out, up.bytes_out, up.bytes_in)
        )
    out.append("heap: " + heap_text())
    return out
