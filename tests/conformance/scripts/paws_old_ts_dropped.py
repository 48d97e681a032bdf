"""RFC 7323 5.3 (PAWS): a segment whose TSval is older than TS.Recent is dropped and answered
with an ACK; its data is not delivered, while later data with a fresh TSval is."""


def run(t):
    c = t.passive(ts=True)
    v = c.ts_val
    c.send("PA", data=b"new", ts=v + 100)
    c.expect("A", ack=4, tsecr=v + 100)
    c.send("PA", data=b"old", ts=v - 10000)
    c.expect("A", ack=4)
    c.send("PA", seq=4, data=b"fresh", ts=v + 200)
    c.expect("A", ack=9)
    got = c.read()
    if got == b"new":
        got += c.read()
    assert got == b"newfresh", got
