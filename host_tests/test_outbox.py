# The durable outbox (lib/ovms/outbox.py) and its flash journal (lib/ovms/journal.py).
# Both runtimes; a virtual clock, temporary folders from support.tmpdir().
# Licence: MIT (this project).
import os

from support import rmtree, tmpdir

from ovms.journal import Journal, frame, read_entry
from ovms.outbox import Outbox


class Clock:
    def __init__(self, t=1000000):
        self.t = t

    def __call__(self):
        return self.t


def _drain(ob, n=8):
    # everything deliverable now, acknowledged one by one -> [(t, kind, text)]
    out = []
    while True:
        b = ob.next_batch(n)
        if not b:
            return out
        for seq, t, kind, text in b:
            out.append((t, kind, text))
            assert ob.ack(seq)


def test_ram_outbox_in_order_with_times():
    c = Clock()
    ob = Outbox(None, c)
    for i in range(5):
        c.t += 60
        assert ob.put("R", "MP-0 Hx,%d,86400,a" % i)
    assert ob.queued() == 5
    got = _drain(ob, 2)
    assert [g[2] for g in got] == ["MP-0 Hx,%d,86400,a" % i for i in range(5)]
    assert [g[0] for g in got] == [1000060 + 60 * i for i in range(5)]
    assert ob.queued() == 0 and ob.dropped == 0


def test_unacknowledged_entries_go_again_after_rewind():
    c = Clock()
    ob = Outbox(None, c)
    for i in range(4):
        ob.put("R", "r%d" % i)
    b = ob.next_batch(3)
    assert [e[3] for e in b] == ["r0", "r1", "r2"]
    assert ob.ack(b[1][0])  # out of order: r1 delivered, r0 and r2 not
    assert ob.queued() == 3
    ob.rewind()
    assert [e[3] for e in ob.next_batch(8)] == ["r0", "r2", "r3"]
    # an acknowledgement of nothing outstanding is refused and counted
    assert not ob.ack(99) and not ob.ack(0) and ob.bad_acks == 2


def test_full_ram_outbox_drops_the_oldest_and_counts():
    c = Clock()
    ob = Outbox(None, c, ram_max=10)
    for i in range(25):
        ob.put("R", "r%d" % i)
    assert ob.dropped == 15 and ob.queued() == 10
    assert [g[2] for g in _drain(ob)] == ["r%d" % i for i in range(15, 25)]
    assert ob.take_unreported() == 15 and ob.take_unreported() == 0
    assert ob.dropped == 15


def test_journal_survives_a_reboot_with_original_times():
    d = tmpdir("ob")
    try:
        c = Clock()
        ob = Outbox(d + "/srv", c, max_bytes=16384, ram_flush=64, ram_flush_bytes=4096)
        for i in range(30):
            c.t += 10
            ob.put("R", "MP-0 HRT-GPS-Log,%d,86400,52.5,13.4" % i)
        # nothing written yet: one batch a minute (up to ram_flush entries)
        assert ob.j.writes == 0
        c.t += 60
        ob.maybe_flush()
        assert ob.j.writes == 1
        b = ob.next_batch(10)
        for e in b:
            ob.ack(e[0])
        ob.flush()  # the floor mark
        assert ob.j.writes == 2
        c.t += 5
        ob2 = Outbox(d + "/srv", c, max_bytes=16384)  # reboot
        got = _drain(ob2)
        assert [g[2] for g in got] == [
            "MP-0 HRT-GPS-Log,%d,86400,52.5,13.4" % i for i in range(10, 30)
        ]
        assert [g[0] for g in got] == [1000000 + 10 * (i + 1) for i in range(10, 30)]
        # delivered segments are removed once the floor passed them
        ob2.flush()
        ob3 = Outbox(d + "/srv", c, max_bytes=16384)
        assert ob3.queued() == 0 and ob3.next_batch(5) == []
    finally:
        rmtree(d)


def test_alert_is_written_at_once_and_acked_records_never():
    d = tmpdir("ob")
    try:
        c = Clock()
        ob = Outbox(d + "/srv", c)
        ob.put("R", "rec")
        e = ob.next_batch(1)[0]
        ob.ack(e[0])
        c.t += 120
        ob.maybe_flush()
        assert ob.j.writes == 0  # delivered before its flush: no flash write at all
        ob.put("P", "MP-0 PAalert")
        assert ob.j.writes == 1
        assert Outbox(d + "/srv", c).next_batch(5)[0][3] == "MP-0 PAalert"
    finally:
        rmtree(d)


def test_byte_cap_drops_the_oldest_segment_and_counts():
    d = tmpdir("ob")
    try:
        c = Clock()
        ob = Outbox(d + "/srv", c, max_bytes=8192, ram_max=16)
        for i in range(400):
            c.t += 1
            ob.put("R", "MP-0 Hrecord-%04d,0,86400,%s" % (i, "x" * 40))
        ob.flush()
        assert ob.j.total() <= 8192
        assert ob.dropped > 0
        got = [g[2] for g in _drain(ob)]
        # exactly the newest ones remain, none lost without being counted
        assert len(got) + ob.dropped == 400
        assert got[-1].startswith("MP-0 Hrecord-0399")
        first = int(got[0][13:17])
        assert got == ["MP-0 Hrecord-%04d,0,86400,%s" % (i, "x" * 40) for i in range(first, 400)]
        # the count survives a reboot until it is reported
        ob.flush()
        ob2 = Outbox(d + "/srv", c, max_bytes=8192)
        assert ob2.dropped == ob.dropped and ob2.take_unreported() == ob.dropped
    finally:
        rmtree(d)


def encode(kind, seq, t, payload):
    # the bytes of one journal entry (the journal writes them in three pieces, D104)
    head, tail = frame(kind, seq, t, payload)
    return head + payload + tail


def _entries(n):
    return [("R", i + 1, 5000 + i, b"MP-0 Hrec,%d,86400,v" % i) for i in range(n)]


def test_journal_torn_at_every_byte_keeps_everything_before():
    # records, a floor mark (seq 1 delivered) and an alert, as flush() writes them
    ents = _entries(3) + [("F", 0, 5003, b"2,0,0"), ("P", 4, 5004, b"MP-0 PAalert")]
    ents += [("R", 5, 5005, b"MP-0 Hrec,5,86400,v")]
    blobs = [encode(k, s, t, p) for (k, s, t, p) in ents]
    data = b"".join(blobs)
    ends = []
    n = 0
    for b in blobs:
        n += len(b)
        ends.append(n)
    d = tmpdir("torn")
    try:
        for cut in range(len(data) + 1):
            with open(d + "/srv.1", "wb") as f:
                f.write(data[:cut])
            c = Clock(9000)
            ob = Outbox(d + "/srv", c)
            whole = [ents[i] for i in range(len(ents)) if ends[i] <= cut]
            marked = [e for e in whole if e[0] == "F"]
            want = [e for e in whole if e[0] != "F" and not (marked and e[1] < 2)]
            got = _drain(ob)
            assert [g[2] for g in got] == [e[3].decode() for e in want], cut
            assert [g[0] for g in got] == [e[2] for e in want]
            assert ob.dropped == 0
            # a later write never lands behind the torn bytes
            ob.put("P", "MP-0 PAafter")
            ob2 = Outbox(d + "/srv", c)
            assert [e[3] for e in ob2.next_batch(10)][-1] == "MP-0 PAafter", cut
            for fn in os.listdir(d):
                os.remove(d + "/" + fn)
    finally:
        rmtree(d)


def test_corrupt_entry_in_the_middle_is_counted_not_silent():
    d = tmpdir("bad")
    try:
        blobs = [encode(k, s, t, p) for (k, s, t, p) in _entries(5)]
        bad = bytearray(blobs[2])
        bad[25] ^= 1
        with open(d + "/srv.1", "wb") as f:
            f.write(b"".join(blobs[:2]) + bytes(bad) + b"".join(blobs[3:]))
        ob = Outbox(d + "/srv", Clock(9000))
        got = _drain(ob)
        # the rest of a corrupt segment is unreadable: counted as dropped
        assert len(got) == 2 and ob.dropped == 0
        ob.put("R", "new")
        got = _drain(ob)
        assert [g[2] for g in got] == ["new"]
        assert ob.j.torn == 1
    finally:
        rmtree(d)


def test_clock_behind_the_journal_shifts_old_times_d40():
    d = tmpdir("rtc")
    try:
        c = Clock(2000000)
        ob = Outbox(d + "/srv", c)
        ob.put("R", "a")
        c.t += 30
        ob.put("R", "b")
        ob.flush()
        c.t = 100  # power lost: the RTC starts again near 0
        ob2 = Outbox(d + "/srv", c)
        got = _drain(ob2)
        assert [(g[0], g[2]) for g in got] == [(70, "a"), (100, "b")]
    finally:
        rmtree(d)


def _failing_outbox(d):
    # an outbox of at most 4 RAM entries whose every flash append fails (no such folder)
    ob = Outbox(d + "/srv", Clock(), ram_max=4)
    ob.j.prefix = d + "/missing/srv"
    return ob


def test_failed_flash_write_keeps_entries_then_drops_the_oldest():
    d = tmpdir("ro")
    try:
        ob = _failing_outbox(d)
        for i in range(10):
            assert ob.put("R", "r%d" % i)
        assert ob.j.failed > 0
        assert ob.dropped == 6
        assert [g[2] for g in _drain(ob)] == ["r6", "r7", "r8", "r9"]
    finally:
        rmtree(d)


def test_ram_holds_at_most_eight_entries_or_640_payload_bytes_d131():
    # D131: a RAM entry costs ~80 bytes of heap beside its payload; a busy minute offline
    # is written per 8 entries (or 640 payload bytes), not held for the minute
    d = tmpdir("d131")
    try:
        c = Clock()
        ob = Outbox(d + "/srv", c, max_bytes=65536)
        most = 0
        for i in range(40):  # 40 records within one minute: no timed flush
            ob.put("R", "MP-0 HRT-GPS-Log,%d,86400,52.5,13.4" % i)
            most = max(most, len(ob._ram))
        assert ob.j.writes == 5 and most == 7 and ob._ram == []
        for _i in range(3):  # long records: the payload bytes start the write
            ob.put("R", "x" * 300)
        assert ob.j.writes == 6 and ob._ram == []
        # nothing lost: all 43 come back after a reboot, in order
        got = _drain(Outbox(d + "/srv", c, max_bytes=65536))
        assert len(got) == 43 and got[0][2] == "MP-0 HRT-GPS-Log,0,86400,52.5,13.4"
    finally:
        rmtree(d)


def test_flash_that_keeps_failing_does_not_grow_the_segment_list():
    d = tmpdir("segs")
    try:
        ob = _failing_outbox(d)
        for i in range(200):
            ob.put("R", "r%d" % i)
        assert ob.j.failed >= 190 and len(ob.j.segs) <= 1
        assert ob.dropped == 196 and ob.queued() == 4
    finally:
        rmtree(d)


def test_journal_entry_format_and_refusal():
    e = encode("R", 1, 2, b"abc")
    import binascii

    assert e[:24] == b"R00000001000000020003abc" and e[-1:] == b"\n"
    assert int(e[24:32], 16) == binascii.crc32(e[:24]) & 0xFFFFFFFF
    assert len(e) == 21 + 3 + 9
    ob = Outbox(None, Clock())
    assert not ob.put("R", "x" * 2000) and ob.refused == 1 and ob.queued() == 0
    j = Journal("/nonexistent-dir/srv", 4096, 16384)
    j.scan(lambda *a: None)
    assert j.segs == []
    assert read_entry is not None


def test_flash_writes_online_offline_and_after_a_power_cut():
    d = tmpdir("wear")
    try:
        c = Clock()
        ob = Outbox(d + "/srv", c, max_bytes=262144)
        # online, the server acknowledges at once: one hour of 5 records a minute
        for s in range(3600):
            c.t += 1
            if s % 60 == 0:
                for k in range(5):
                    ob.put("R", "MP-0 Hrec,%d,86400,%d" % (k, s))
                for e in ob.next_batch(32):
                    ob.ack(e[0])
            ob.maybe_flush()
        assert ob.j.writes == 0 and ob.queued() == 0
        # offline: at most one batch a minute (60 an hour), alerts at once
        for s in range(3600):
            c.t += 1
            if s % 60 == 0:
                for k in range(5):
                    ob.put("R", "MP-0 Hrec,%d,86400,%d" % (k, s))
            if s == 1800:
                ob.put("P", "MP-0 PAalert")
            ob.maybe_flush()
        assert 59 <= ob.j.writes <= 62, ob.j.writes
        # a power cut (no flush): the records of the last minute at most are lost,
        # never an alert
        c.t += 1
        for k in range(5):
            ob.put("R", "MP-0 Hrec,%d,86400,late" % k)
        ob.put("R", "MP-0 Hrec,99,86400,also-late")
        q = ob.queued()
        ob2 = Outbox(d + "/srv", c, max_bytes=262144)
        assert q - 6 <= ob2.queued() <= q and ob.dropped == 0
        n = alerts = 0  # counted, not collected: a board-sized heap (qemu) runs this too
        while True:
            b = ob2.next_batch(8)
            if not b:
                break
            for e in b:
                n += 1
                alerts += e[3] == "MP-0 PAalert"
                ob2.ack(e[0])
        assert alerts == 1 and n == 60 * 5 + 1
    finally:
        rmtree(d)


def test_stray_files_beside_the_journal_are_not_segments():
    # "srv.²" (a non-ASCII digit: int() reads it on CPython, not on MicroPython), "srv.x"
    # and an over-long number are no journal segments, in both runtimes alike
    d = tmpdir("ob")
    try:
        for tail in ("\u00b2", "x", "1234567890"):
            with open(d + "/srv." + tail, "wb") as f:
                f.write(b"not a journal")
        c = Clock()
        ob = Outbox(d + "/srv", c, max_bytes=16384)
        assert ob.j.segs == [] and ob.queued() == 0
        ob.put("P", "MP-0 PAalert")  # urgent: written at once
        assert ob.j.writes == 1
        ob2 = Outbox(d + "/srv", c, max_bytes=16384)  # reboot
        assert [g[2] for g in _drain(ob2)] == ["MP-0 PAalert"]
    finally:
        rmtree(d)
