"""RFC 2018 4: with SACK permitted, each out-of-order segment draws a duplicate ACK whose first
SACK block is the block holding the segment just received, the others following, most
recent first."""


def run(t):
    c = t.passive(sack=True)
    c.send("PA", seq=101, data=100)
    c.expect("A", ack=1, sack=[(101, 201)])
    c.send("PA", seq=301, data=100)
    c.expect("A", ack=1, sack=[(301, 401), (101, 201)])
    c.send("PA", seq=501, data=100)
    c.expect("A", ack=1, sack=[(501, 601), (301, 401), (101, 201)])
