"""RFC 2018 3, RFC 7323: with timestamps (12 bytes with padding) only three SACK blocks fit in
the options; a fourth out-of-order block pushes the oldest out of the ACK."""


def run(t):
    c = t.passive(sack=True, ts=True)
    blocks = []
    for i in range(4):
        s = 101 + 200 * i
        c.send("PA", seq=s, data=100)
        blocks.insert(0, (s, s + 100))
        c.expect("A", ack=1, sack=blocks[:3])
