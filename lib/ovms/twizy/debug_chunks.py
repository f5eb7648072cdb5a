# Canned frame chunks for DEBUG n / MSG 200,n (spec appendix A, D22): a diagnostic the
# owner can trigger, imported only when used (ovms.twizy.vehicle.Twizy.inject).
# Licence: MIT (this project).


CHUNKS = {
    0: (
        (0x69F, "F0828737"),
        (0x597, "0095214129000135"),
        (0x155, "0797C75497980073"),
        (0x599, "00000D80FF460000"),
        (0x59E, "00000CF229310000"),
    ),
    1: ((0x597, "20A403B129000164"),),
    2: ((0x597, "00E400D129000131"),),
    10: (
        (0x554, "3333333333333300"),
        (0x556, "337335335335335A"),
        (0x557, "3353353353353350"),
        (0x55E, "3353343343360159"),
        (0x55F, "00FE73000023E23E"),
    ),
    11: (
        (0x554, "3334333333333300"),
        (0x556, "337335335335335A"),
        (0x557, "3353353353353350"),
        (0x55E, "3353343343360159"),
        (0x55F, "00FE73000023E23E"),
    ),
    12: (
        (0x554, "3338333334333400"),
        (0x556, "337335335335315A"),
        (0x557, "3353353353353350"),
        (0x55E, "3353343343360159"),
        (0x55F, "00FE73000023E23E"),
    ),
    21: ((0x554, "3333333333333300"),),
    22: ((0x556, "337335335335335A"),),
    23: ((0x557, "3353353353353350"),),
    24: ((0x55E, "3353343343360159"),),
    25: ((0x55F, "00FE73000023E23E"),),
}


def frames(chunk):
    # [(can_id, bytes)] of one chunk; unknown chunk numbers give []
    out = []
    for can_id, hexdata in CHUNKS.get(chunk, ()):
        out.append((can_id, bytes.fromhex(hexdata)))
    return out
