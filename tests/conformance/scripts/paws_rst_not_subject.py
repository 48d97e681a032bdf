"""RFC 7323 5.3 R1 and 5.4 / Linux: PAWS does not apply to RST: an RST at RCV.NXT with an old
TSval still resets the connection."""


def run(t):
    c = t.passive(ts=True)
    c.send("R", seq=1, ts=1)
    c.expect_none(0.3)
    c.send("A", seq=1)
    c.expect("R", seq=1, ack=None, ts=False)
