"""RFC 5961 5.2: an ACK older than SND.UNA - MAX.SND.WND is not acceptable: the DUT sends an ACK
and drops the segment with its data."""


def run(t):
    c = t.passive()
    c.send("PA", data=b"zzz", ack=-(1 << 30))
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"ok")
    c.expect("A", ack=3)
    assert c.read() == b"ok"
