"""RFC 2018 4: a segment that joins two SACKed blocks is reported as one merged block, first."""


def run(t):
    c = t.passive(sack=True)
    c.send("PA", seq=101, data=100)
    c.expect("A", ack=1, sack=[(101, 201)])
    c.send("PA", seq=301, data=100)
    c.expect("A", ack=1, sack=[(301, 401), (101, 201)])
    c.send("PA", seq=201, data=100)
    c.expect("A", ack=1, sack=[(101, 401)])
    c.send("PA", seq=1, data=100)
    c.expect("A", ack=401, sack=[])
