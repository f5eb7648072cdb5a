# Every C from the server gets exactly one c (D43), and the server's h
# acknowledgements reach the outbox sender. Both runtimes. Licence: MIT (this project).
from test_v2_server import _handler


def test_every_command_gets_exactly_one_reply_d43():
    # the server routes c replies by queue order (§8.6): a garbled C must still get one
    h = _handler()
    for data in ("xyz", "", "abc,1", "1x", "-1", " 1", "99999", "123456", "1.5", "\u00b2"):
        assert h.handle("MP-0 C" + data) == ["MP-0 c0,1,Invalid syntax"], data
    # the reply passes the "no c before the first C" guard
    assert h.outgoing(h.handle("MP-0 Cabc")) == ["MP-0 c0,1,Invalid syntax"]


def test_command_whose_handler_fails_still_gets_its_reply_d43():
    h = _handler()

    def boom(*a):
        raise ZeroDivisionError("bug")

    h.vehicle.server_command = boom
    assert h.handle("MP-0 C203") == ["MP-0 c203,1,Internal error"]
    assert h.errors == 1


def test_server_ack_goes_to_the_ack_hook():
    h = _handler()
    got = []
    h.on_ack = got.append
    assert h.handle("MP-0 h17") == [] and got == ["17"]


class _FullFlash:
    def save(self, cfg):
        raise OSError(28)  # ENOSPC


def test_vehicle_setting_that_cannot_be_saved_changes_nothing():
    # C202/C204 like C2/C4: a failed flash write answers ",1,..." and rolls back
    for clear in ("MP-0 C202,55", "MP-0 C204,80,90"):
        h = _handler()
        h.cfg.store = _FullFlash()
        before = (list(h.cfg.params), list(h.cfg.features))
        code = clear[6:9]
        assert h.handle(clear) == ["MP-0 c%s,1,Error: settings could not be saved" % code]
        assert (list(h.cfg.params), list(h.cfg.features)) == before
        assert h.errors == 0
