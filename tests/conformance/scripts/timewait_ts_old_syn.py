"""RFC 7323 5.3/5.8 (TIME-WAIT with timestamps): a SYN whose TSval is older than the old
connection's is not a new incarnation: no SYN-ACK; the TIME-WAIT connection answers with its
ACK <SEQ=SND.NXT><ACK=RCV.NXT>."""


def run(t):
    port, lsock = t.listen()
    c = t.passive(port=port, listen=False, ts=True)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=1)
    c.send("FA")
    c.expect("A", seq=2, ack=2)
    c.send("S", seq=-50_000, opts=[("mss", 1460), ("nop",), ("nop",), ("ts", c.ts_val - 5000, 0)])
    c.expect("A", seq=2, ack=2)
