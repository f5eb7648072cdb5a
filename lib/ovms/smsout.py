# SMS output shaping: GSM-7 character replacement and splitting into single SMS.
# Licence: MIT (this project).
#
# The interpreter (ovms.sms) and the vehicle module produce plain text; this
# layer makes it fit what an SMS can carry:
#   gsm(text)      every character outside the GSM 03.38 7-bit alphabet is
#                  replaced (transliterated where that reads well, else "?")
#   septets(text)  length in GSM-7 septets (extension characters count 2)
#   shape(texts)   gsm() + split each text into parts of <= 160 septets
# Runs on the upload path only (one reply at a time): free to allocate.
#
# Splitting (DECISION, ovms-v2-sms.md §5 notes "split into 160-character SMS"):
# a part ends at the last line break that fits, or at the last space, the
# break character itself being dropped ("\r\n" counts as one break). A break
# in the second half of the window is preferred; a text with neither is cut
# hard at 160 septets. Spaces before a split at a space are dropped too.
# Parts are not numbered; empty texts send nothing. Leading spaces of a line
# (the OVMS " Range: ..." style) are kept.

SMS_SEPTETS = 160

# GSM 03.38 default alphabet, without ESC (0x1B, the escape to the extension
# table, which must never appear as text)
_BASIC = const(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# extension table: ESC + code, i.e. two septets each
_EXT = const("\x0c^{}\\[~]|€")

# transliterations for characters outside both tables; anything else -> "?"
_REPLACE = const(  # (character, replacement) pairs: one constant, in flash when frozen
    (
        ("\t", " "),
        ("\u00a0", " "),  # no-break space
        ("`", "'"),
        ("\u2018", "'"),
        ("\u2019", "'"),
        ("\u201a", ","),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("\u201e", '"'),
        ("«", '"'),
        ("»", '"'),
        ("\u2013", "-"),
        ("\u2014", "-"),
        ("\u2026", "..."),
        ("\u2022", "*"),
        ("·", "."),
        ("×", "x"),
        ("÷", "/"),
        ("±", "+/-"),
        ("µ", "u"),
        ("¹", "1"),
        ("²", "2"),
        ("³", "3"),
        ("½", "1/2"),
        ("©", "(c)"),
        ("®", "(R)"),
        ("\u2122", "TM"),
        ("á", "a"),
        ("â", "a"),
        ("ã", "a"),
        ("À", "A"),
        ("Á", "A"),
        ("Â", "A"),
        ("Ã", "A"),
        ("ç", "Ç"),
        ("ê", "e"),
        ("ë", "e"),
        ("È", "E"),
        ("Ê", "E"),
        ("Ë", "E"),
        ("í", "i"),
        ("î", "i"),
        ("ï", "i"),
        ("Ì", "I"),
        ("Í", "I"),
        ("Î", "I"),
        ("Ï", "I"),
        ("ó", "o"),
        ("ô", "o"),
        ("õ", "o"),
        ("Ò", "O"),
        ("Ó", "O"),
        ("Ô", "O"),
        ("Õ", "O"),
        ("ú", "u"),
        ("û", "u"),
        ("Ù", "U"),
        ("Ú", "U"),
        ("Û", "U"),
        ("ý", "y"),
        ("ÿ", "y"),
        ("Ý", "Y"),
        ("œ", "oe"),
        ("Œ", "OE"),
        ("š", "s"),
        ("Š", "S"),
        ("ž", "z"),
        ("Ž", "Z"),
        ("č", "c"),
        ("Č", "C"),
        ("ł", "l"),
        ("Ł", "L"),
    )
)


def _replacement(ch):
    for c, rep in _REPLACE:
        if c == ch:
            return rep
    return "?"


def _keep(ch):
    # True for characters the GSM-7 tables carry as they are
    return (" " <= ch <= "z" and ch not in "[\\]^`") or ch in _BASIC or ch in _EXT


def gsm(text):
    # -> text in the GSM-7 alphabet (basic + extension table).
    # "°" is dropped before C/F ("10°C" -> "10C", the OVMS style), else "deg".
    # A text that needs no replacement is returned as it is; otherwise the result is
    # joined from runs of kept characters and the replacements (no list of single
    # characters: a long reply stays a few small blocks on a board's heap).
    out = None
    start = 0
    i = 0
    for ch in text:
        if not _keep(ch):
            if out is None:
                out = []
            out.append(text[start:i])
            if ch == "°":
                out.append("" if text[i + 1 : i + 2] in ("C", "F") else "deg")
            else:
                out.append(_replacement(ch))
            start = i + 1
        i += 1
    if out is None:
        return text
    out.append(text[start:])
    return "".join(out)


def septets(text):
    # length of a GSM-7 text (already through gsm()) in septets
    n = len(text)
    for ch in _EXT:
        if ch in text:
            n += text.count(ch)
    return n


def split(text, limit=SMS_SEPTETS):
    # one GSM-7 text -> list of parts of at most `limit` septets
    out = []
    while text:
        # i: how many characters fit into the window
        size = 0
        i = 0
        n = len(text)
        while i < n:
            w = 2 if text[i] in _EXT else 1
            if size + w > limit:
                break
            size += w
            i += 1
        if i == n:
            out.append(text)
            break
        # a break character right after the window may be dropped, so search
        # up to and including text[i]
        nl = max(text.rfind("\n", 0, i + 1), text.rfind("\r", 0, i + 1))
        sp = text.rfind(" ", 0, i + 1)
        half = i // 2
        if nl >= half or (nl > 0 and nl >= sp):
            cut = nl
        elif sp > 0:
            cut = sp
        else:
            cut = -1
        if cut <= 0:
            part = text[:i]
            text = text[i:]
        elif text[cut] == " ":
            part = text[:cut].rstrip(" ")
            text = text[cut + 1 :]
        else:
            part = text[:cut]
            rest = text[cut + 1 :]
            if text[cut] == "\r" and rest.startswith("\n"):
                rest = rest[1:]
            elif text[cut] == "\n" and part.endswith("\r"):
                part = part[:-1]
            text = rest
        if part:
            out.append(part)
    return out


def shape(texts, limit=SMS_SEPTETS):
    # reply texts (as the interpreter returns them) -> SMS bodies to send
    out = []
    for t in texts:
        if t:
            out.extend(split(gsm(t), limit))
    return out
