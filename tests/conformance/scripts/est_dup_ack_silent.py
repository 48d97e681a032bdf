"""RFC 9293 3.10.7.4: a duplicate ACK (SEG.ACK = SND.UNA, nothing outstanding) is acceptable
and needs no answer: the DUT stays silent."""


def run(t):
    c = t.passive()
    c.send("A")
    c.send("A")
    c.send("A")
    c.expect_none(0.4)
