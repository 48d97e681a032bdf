"""RFC 2883 4.1.1: a duplicate of data already acknowledged is reported in a D-SACK block (the
first SACK block, below the cumulative ACK)."""


def run(t):
    c = t.passive(sack=True)
    c.send("PA", data=100)
    c.expect("A", ack=101)
    c.send("PA", seq=1, data=100)
    c.expect("A", ack=101, sack=[(1, 101)])
