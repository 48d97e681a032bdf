"""RFC 2883 4.1.2: a duplicate of an out-of-order block already SACKed is reported as a D-SACK
block first, followed by the SACK block that contains it."""


def run(t):
    c = t.passive(sack=True)
    c.send("PA", seq=101, data=100)
    c.expect("A", ack=1, sack=[(101, 201)])
    c.send("PA", seq=101, data=100)
    c.expect("A", ack=1, sack=[(101, 201), (101, 201)])
