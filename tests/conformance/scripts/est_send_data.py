"""RFC 9293 3.10.4 SEND: data the application writes goes out in order from ISS+1 with ACK set;
the bench's ACK of it draws nothing further."""


def run(t):
    c = t.passive()
    c.write(b"from the dut")
    c.expect("A", data=b"from the dut")
    c.send("A")
    c.expect_none(0.3)
