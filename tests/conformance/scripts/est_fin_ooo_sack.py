"""RFC 9293 3.10.7.4 eighth, RFC 5681 4.2, RFC 2018 4: data with a FIN beyond a hole draws an
immediate duplicate ACK whose SACK block covers the data and the FIN; filling the hole draws an
ACK of everything up to and past the FIN (the FIN is not sent again), the reader gets the bytes
and then end-of-file, and the connection is in CLOSE-WAIT: the application's close sends the
DUT's FIN, which ends the connection (LAST-ACK)."""


def run(t):
    c = t.passive(sack=True, ts=True)
    c.send("FPA", seq=101, data=100)
    c.expect("A", ack=1, sack=[(101, 202)])
    assert c.read(timeout=0.3) == "ETIMEDOUT", "nothing readable before the hole fills"
    c.send("PA", seq=1, data=100)
    c.expect("A", ack=202, sack=[])
    got = c.read(n=1000)
    while len(got) < 200:
        more = c.read(n=1000)
        assert more and not isinstance(more, str), "data ended early: %r" % more
        got += more
    assert got == bytes((0x41 + i % 26) for i in range(100)) * 2
    assert c.read() == b""
    t.agent_ok("close", id=c.sock)
    c.expect("FA", ack=202)
    c.send("A", seq=202)
    c.expect_none(0.3)
