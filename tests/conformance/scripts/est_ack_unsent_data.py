"""RFC 9293 3.10.7.4 (ESTABLISHED), fifth check: an ACK of something not yet sent
(SEG.ACK > SND.NXT) is answered with an ACK and the segment dropped, its data too."""


def run(t):
    c = t.passive()
    c.send("PA", data=b"zzz", ack=5000)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"ok")
    c.expect("A", ack=3)
    assert c.read() == b"ok"
