# Crash-safe persistence of the parameter slots (and so features 8-15) in flash.
# Licence: MIT (this project).
#
# Two slot files, <path>.a and <path>.b, each a complete copy:
#
#   OVMSCFG 1\n                 format line (name and version)
#   seq <n>\n                   save counter; the valid slot with the highest wins
#   <k> <value>\n               one line per parameter k = 0..31, empty ones too
#                               (an empty slot with a factory default, e.g. an
#                               empty module password, must stay empty)
#   crc <8 hex digits>\n        CRC-32 of every byte before "crc"
#
# Values are UTF-8 with "\" -> "\\", LF -> "\n", CR -> "\r" escaped.
#
# save() always overwrites the slot that does NOT hold the newest good copy,
# so a write torn at any byte leaves the previous good copy untouched, and
# there is no rename: this works the same on LittleFS (atomic rename) and FAT
# (whose rename removes the target first, leaving a window with no file).
# load() checks both slots; a torn or corrupt slot is logged and ignored, with
# none valid the defaults are used (and logged): never an exception at boot.
# A setting counts as saved (and may be acknowledged by SMS) when save()
# returned; save() raises OSError if the flash write failed.
#
# D116: this module is the code of ovms.config.Store (the record: path, newest slot,
# the owner copy's record), loaded by Store.load()/save() and dropped after each: a
# save a few times a day, no resident heap. After every successful settings save the
# owner copy (Store.copy, see ovms.owner) follows parameter 0: written only when the
# owner changed (REGISTER, AP, server C4); a failed copy write is logged and counted,
# never raised (the settings themselves were saved).

import binascii
import os
import sys

from ovms import log
from ovms.config import N_PARAMS, PARAM_REGPHONE, Config, Store  # noqa: F401 (Store: API)
from ovms.sms_auth import normal_number

FORMAT = b"OVMSCFG 1"
_MAX_FILE = const(8192)  # bytes; the largest possible file is 32 * (4 + 31 * 4) + 40 = 4136


def _files(st):
    return (st.path + ".a", st.path + ".b")


# ---- boot ----------------------------------------------------------------------
def load(st):
    # -> Config with the newest good settings (or the defaults); store st attached
    lg = log.get("store")
    files = _files(st)
    found = []  # (seq, slot index, params)
    missing = 0
    for i in range(2):
        name = files[i]
        raw = _read(name)
        if raw is None:
            missing += 1
            continue
        parsed = parse(raw)
        if parsed is None:
            lg.warning("%s is torn or corrupt (%d bytes), ignored", name, len(raw))
            continue
        found.append((parsed[0], i, parsed[1]))
    st.scanned = True
    if not found:
        st.seq = 0
        st.slot = 1
        if missing == 2:
            lg.info("no settings in %s yet, using the defaults", st.path)
        else:
            lg.error("no valid settings in %s, using the defaults", st.path)
        return Config(None, st)
    best = found[0]
    if len(found) == 2 and found[1][0] > best[0]:
        best = found[1]
    st.seq = best[0]
    st.slot = best[1]
    if len(found) == 1 and missing == 0:
        lg.warning("using the last good copy %s (seq %d)", files[best[1]], best[0])
    return Config(best[2], st)


def _scan(st):
    # find the newest good slot without building a Config (save before load)
    st.seq = 0
    st.slot = 1
    files = _files(st)
    for i in range(2):
        raw = _read(files[i])
        parsed = parse(raw) if raw is not None else None
        if parsed is not None and parsed[0] > st.seq:
            st.seq = parsed[0]
            st.slot = i
    st.scanned = True


# ---- save ----------------------------------------------------------------------
def save(st, config):
    # the settings, then the owner copy (if st has one)
    write(st, config.params)
    if st.copy is not None:
        sync_copy(st.copy, config.params[PARAM_REGPHONE])


def write(st, params):
    # one complete copy into the slot that does not hold the newest good one
    if not st.scanned:
        _scan(st)
    seq = st.seq + 1
    target = 1 - st.slot
    name = _files(st)[target]
    data = encode(params, seq)
    st.last_written = name
    with open(name, "wb") as f:
        f.write(data)
    sync = st.sync
    if sync is None:  # flash on MicroPython; host tools and tests: no flush
        sync = sys.implementation.name == "micropython"
    if sync and hasattr(os, "sync"):
        os.sync()
    # only now is the new copy the newest good one; after a failed write
    # the next save() overwrites the same (broken) slot again
    st.seq = seq
    st.slot = target


# ---- the owner copy (ovms.owner: its record and the boot's rules) ---------------
def load_copy(copy):
    # -> the owner number in the copy (normalised) or None
    cfg = load(copy)
    copy.loaded = True
    copy.number = normal_number(cfg.params[PARAM_REGPHONE]) if copy.seq else None
    return copy.number


def sync_copy(copy, p0):
    # keep the copy equal to parameter 0; writes only on a change, never raises
    try:
        if not copy.loaded:
            load_copy(copy)
        number = normal_number(p0)
        if number == copy.number:
            return
        write(copy, [number or ""] + [""] * (N_PARAMS - 1))
    except (OSError, MemoryError) as e:
        copy.errors += 1
        log.get("owner").error("owner copy not written: %s", e)
        return
    copy.writes += 1
    copy.number = number


def encode(params, seq):
    # -> the complete file contents (bytes) for parameter list `params`
    lines = [FORMAT, b"seq %d" % seq]
    for k in range(N_PARAMS):
        lines.append(b"%d " % k + _utf8(_escape(params[k])))
    body = b"\n".join(lines) + b"\n"
    return body + b"crc %08x\n" % (binascii.crc32(body) & 0xFFFFFFFF)


def parse(raw):
    # file contents -> (seq, {k: value}) or None if torn/corrupt/unknown format
    if len(raw) < 14 or raw[-1:] != b"\n":
        return None
    cut = raw.rfind(b"\ncrc ")
    if cut < 0 or len(raw) - cut != 14:  # "\ncrc " + 8 hex + "\n"
        return None
    body = raw[: cut + 1]
    try:
        crc = int(raw[cut + 5 : cut + 13], 16)
    except ValueError:
        return None
    if crc != binascii.crc32(body) & 0xFFFFFFFF:
        return None
    lines = body.split(b"\n")
    if lines[0] != FORMAT or not lines[1].startswith(b"seq "):
        return None
    try:
        seq = int(lines[1][4:])
        params = {}
        for line in lines[2:-1]:
            sp = line.find(b" ")
            k = int(line[:sp])
            if sp < 1 or not 0 <= k < N_PARAMS:
                return None
            params[k] = _unescape(line[sp + 1 :].decode())
    except (ValueError, UnicodeError):
        return None
    return seq, params


def _read(name):
    # whole file or None when missing/unreadable; oversize files count as corrupt
    try:
        with open(name, "rb") as f:
            return f.read(_MAX_FILE + 1)
    except OSError:
        return None


def _escape(v):
    if "\\" in v or "\n" in v or "\r" in v:
        v = v.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return v


def _unescape(v):
    if "\\" not in v:
        return v
    out = []
    i = 0
    n = len(v)
    while i < n:
        ch = v[i]
        if ch == "\\" and i + 1 < n:
            i += 1
            ch = {"n": "\n", "r": "\r"}.get(v[i], v[i])
        out.append(ch)
        i += 1
    return "".join(out)


def _utf8(v):
    try:
        return v.encode()
    except UnicodeError:  # CPython only: lone surrogates
        # (compare code points: a lone-surrogate literal cannot be frozen by mpy-tool)
        return "".join([c if not 0xD800 <= ord(c) <= 0xDFFF else "?" for c in v]).encode()
