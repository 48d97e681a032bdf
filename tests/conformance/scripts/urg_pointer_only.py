"""RFC 6093 and RFC 9293 3.10.7.4, sixth check: an URG pointer ahead of the data received so
far is noted; the segment's data is delivered and acknowledged normally."""


def run(t):
    c = t.passive()
    c.send("PAU", data=b"xy", urp=100)
    c.expect("A", ack=3)
    assert c.read() == b"xy"
