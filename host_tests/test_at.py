# AT line classifier and reply parsers (lib/ovms/at.py) with real-looking lines.
# Licence: MIT (this project).
from ovms import at
from ovms.at import DATA, EMPTY, FINAL, PROMPT, URC, classify


def test_finals():
    assert classify("OK") == (FINAL, "OK", None)
    assert classify("ERROR") == (FINAL, "ERROR", None)
    assert classify("+CME ERROR: 10") == (FINAL, "+CME ERROR", 10)
    assert classify("+CMS ERROR: 321") == (FINAL, "+CMS ERROR", 321)
    assert classify("+CME ERROR: SIM not inserted") == (FINAL, "+CME ERROR", "SIM not inserted")
    for f in ("SHUT OK", "CLOSE OK", "SEND OK", "SEND FAIL", "CONNECT OK", "CONNECT FAIL"):
        assert classify(f) == (FINAL, f, None)
    assert classify("ALREADY CONNECT") == (FINAL, "ALREADY CONNECT", None)
    assert classify("DATA ACCEPT:120") == (FINAL, "DATA ACCEPT", 120)
    assert classify("0, CONNECT OK") == (FINAL, "CONNECT OK", "0")
    assert at.is_error("+CMS ERROR") and not at.is_error("OK")


def test_urcs():
    assert classify('+CMTI: "SM",3') == (URC, at.U_CMTI, '"SM",3')
    assert classify('+CMT: "+4915112345678","","24/11/26,10:00:00+04"')[1] == at.U_CMT
    assert classify("RING") == (URC, at.U_RING, "RING")
    assert classify('+CUSD: 0,"Balance",15')[:2] == (URC, at.U_CUSD)
    assert classify("CLOSED")[:2] == (URC, at.U_CLOSED)
    assert classify("0, CLOSED")[:2] == (URC, at.U_CLOSED)
    assert classify("+PDP: DEACT")[:2] == (URC, at.U_PDP_DEACT)
    assert classify("+CIPRXGET: 1") == (URC, at.U_CIPRXGET, "1")
    assert classify("UNDER-VOLTAGE WARNNING")[:2] == (URC, at.U_UNDERVOLT)
    assert classify("UNDER-VOLTAGE POWER DOWN")[:2] == (URC, at.U_POWER_DOWN)
    assert classify("NORMAL POWER DOWN")[:2] == (URC, at.U_POWER_DOWN)
    assert classify("RDY")[:2] == (URC, at.U_RDY)
    assert classify("+CFUN: 1") == (URC, at.U_CFUN, "1")
    assert classify("+CPIN: READY") == (URC, at.U_CPIN, "READY")
    assert classify("Call Ready")[:2] == (URC, at.U_CALL_READY)
    assert classify("SMS Ready")[:2] == (URC, at.U_SMS_READY)
    assert classify("+CREG: 5") == (URC, at.U_CREG, "5")
    assert classify("+UGNSINF: 1,1,...")[:2] == (URC, at.U_UGNSINF)


def test_expect_makes_reply_data():
    # a line that is a URC on its own is the reply of the running command
    assert classify("+CREG: 0,1", "+CREG:") == (DATA, None, "+CREG: 0,1")
    assert classify("+CPIN: READY", "+CPIN:") == (DATA, None, "+CPIN: READY")
    assert classify("+CSQ: 21,0") == (DATA, None, "+CSQ: 21,0")
    assert classify("10.64.12.34") == (DATA, None, "10.64.12.34")


def test_prompt_empty_data():
    assert classify("> ")[0] == PROMPT
    assert classify(">")[0] == PROMPT
    assert classify("") == (EMPTY, None, None)
    assert classify("STAT")[0] == DATA


def test_decode_never_raises():
    assert at.decode(b"\x00\x00OK\r\n") == "OK"
    assert at.decode(b"\xff\xfe+CSQ: 5,0\r") == "\u00ff\u00fe+CSQ: 5,0"
    assert at.decode(bytearray(b"caf\xe9")) == "caf\u00e9"  # ISO 8859-1 (CSCS)


def test_latin1_both_ways():
    text = "Gr\u00fc\u00dfe my_pw @home $5 \u00a3"
    assert at.decode(at.encode(text)) == text
    assert at.encode("\u20ac1") == b"?1"  # beyond 8859-1
    assert at.decode(b"\x1b\x1a") == ""
    for i in range(256):
        at.classify(at.decode(bytes([i, 0x80, i])))


def test_csq_creg():
    assert at.parse_csq("+CSQ: 21,0") == 21
    assert at.parse_csq("+CSQ: 99,99") == 99
    assert at.parse_csq("+CSQ: x") == 99
    assert at.csq_to_sq(99) == 0 and at.csq_to_sq(31) == 31
    assert at.parse_creg("+CREG: 0,1") == 1  # reply n,stat
    assert at.parse_creg("+CREG: 5") == 5  # URC stat
    assert at.parse_creg('+CREG: 1,"00C3","0A1B"') == 1  # URC with location
    assert at.parse_creg('+CREG: 2,5,"00C3","0A1B"') == 5  # reply n,stat,lac,ci
    assert at.parse_creg("+CREG:") == -1


def test_cmgr_cmgl_cmt_cmti():
    h = '+CMGR: "REC UNREAD","+4915112345678","","26/01/01,12:00:05+04",145,4,0,0,"+49177",145,4'
    assert at.parse_cmgr(h) == ("REC UNREAD", "+4915112345678", "26/01/01,12:00:05+04")
    assert at.parse_cmgr('+CMGR: "REC READ","0049 151 1234","","26/01/01,12:00:05+04"') == (
        "REC READ",
        "+491511234",
        "26/01/01,12:00:05+04",
    )
    assert at.parse_cmgr("+CMGR: garbage") is None
    assert at.parse_cmgl('+CMGL: 7,"REC UNREAD","+4917","","26/01/01,12:00:05+04"') == (
        7,
        "REC UNREAD",
        "+4917",
        "26/01/01,12:00:05+04",
    )
    assert at.parse_cmgl("+CMGL: x") is None
    assert at.parse_cmt('+CMT: "+4917","","26/01/01,12:00:05+04"') == (
        "+4917",
        "26/01/01,12:00:05+04",
    )
    assert at.parse_cmti('"SM",12') == ("SM", 12)
    assert at.parse_cmti("junk")[1] == -1


def test_cusd():
    assert at.parse_cusd('0,"Guthaben: 5,00 EUR",15') == (0, "Guthaben: 5,00 EUR", 15)
    assert at.parse_cusd('1,"004800690021",72') == (1, "Hi!", 72)
    assert at.parse_cusd("4") == (4, "", -1)
    assert at.ucs2_hex("00E4") == "\u00e4"
    assert at.ucs2_hex("zz") == "zz"


def test_rxget_ipd_ip():
    assert at.parse_rxget2("+CIPRXGET: 2,12,0") == (12, 0)
    assert at.parse_rxget2("+CIPRXGET: 1") == (-1, -1)
    assert at.looks_like_ip("10.64.12.34")
    assert not at.looks_like_ip("OK") and not at.looks_like_ip("1.2.3.256")


def test_normalise_number():
    n = at.normalise_number
    assert n("+49 151 1234-5678") == "+4915112345678"
    assert n("0049151 12345678") == "+4915112345678"
    assert n("(0151) 1234 5678") == "015112345678"  # national: left alone by default
    assert n("015112345678", "49") == "+4915112345678"
    assert n("4915112345678") == "4915112345678"
    assert n("Vodafone") == "Vodafone"
    assert n(" 1234 ") == "1234"
    assert n("") == ""
