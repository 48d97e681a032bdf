"""RFC 6191 and RFC 7323 5.8 (TIME-WAIT with timestamps): a new SYN with a TSval above the last
one seen from the old connection is accepted from TIME-WAIT (SYN-ACK), even with a sequence
number below the old RCV.NXT."""


def run(t):
    port, lsock = t.listen()
    c = t.passive(port=port, listen=False, ts=True)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=1)
    c.send("FA")
    c.expect("A", seq=2, ack=2)
    c.ts_val += 1000
    c.send("S", seq=-50_000, opts=[("mss", 1460), ("nop",), ("nop",), ("ts", c.ts_val, 0)])
    c.expect("SA", seq=None, ack=-49_999, ts=True)
