"""RFC 5961 3.2: an RST in the window but not at RCV.NXT draws a challenge ACK
<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the connection stays up."""


def run(t):
    c = t.passive()
    c.send("R", seq=1001)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"alive")
    c.expect("A", ack=6)
    assert c.read() == b"alive"
