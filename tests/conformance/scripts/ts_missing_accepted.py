"""RFC 7323 3.2 says a non-RST segment without TSopt on a connection that negotiated timestamps
SHOULD be dropped; Linux accepts it (interoperability with middleboxes that strip options).
The segment's data is acknowledged and delivered."""


def run(t):
    c = t.passive(ts=True)
    c.send("PA", data=b"bare", opts=[])
    c.expect("A", ack=5)
    assert c.read() == b"bare"
