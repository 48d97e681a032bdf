"""RFC 9293 3.5.3, RFC 1122 4.2.2.12: an RST may carry data (a diagnostic); an RST at RCV.NXT
with data resets the connection like any other, and the data is not delivered."""


def run(t):
    c = t.passive()
    c.send("RA", seq=1, data=b"diagnostic")
    c.expect_none(0.3)
    c.send("A", seq=1)
    c.expect("R", seq=1, ack=None)
