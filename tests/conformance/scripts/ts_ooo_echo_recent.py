"""RFC 7323 4.3 (2): an out-of-order segment does not update TS.Recent: the duplicate ACK it
draws echoes the TSval of the last in-order segment, not the newer one just received."""


def run(t):
    c = t.passive(ts=True)
    v = c.ts_val + 10
    c.ts_val = v
    c.send("PA", data=b"in", ts=v)
    c.expect("A", ack=3, tsecr=v)
    c.send("PA", seq=100, data=b"ooo", ts=v + 50)
    c.expect("A", ack=3, tsecr=v)
