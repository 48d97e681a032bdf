"""RFC 7323 4.3: the DUT's ACK of in-order data echoes (TSecr) the TSval of the segment that
advanced the left edge of the window."""


def run(t):
    c = t.passive(ts=True)
    assert c.ts, "timestamps were not negotiated"
    v = c.ts_val + 1000
    c.ts_val = v
    c.send("PA", data=b"ts", ts=v)
    c.expect("A", ack=3, tsecr=v)
