"""RFC 2018 3/4: without timestamps four SACK blocks fit in the 40 bytes of options; with a
fifth block the oldest one is left out. Each ACK lists the newest block first."""


def run(t):
    c = t.passive(sack=True)
    blocks = []
    for i in range(5):
        s = 101 + 200 * i
        c.send("PA", seq=s, data=100)
        blocks.insert(0, (s, s + 100))
        c.expect("A", ack=1, sack=blocks[:4])
