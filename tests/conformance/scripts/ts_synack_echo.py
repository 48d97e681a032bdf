"""RFC 7323 3.2: the SYN-ACK's TSecr is the SYN's TSval, and every later segment of the DUT
carries a TS option once both sides sent one."""


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts(ts=True)
    c.ts_val = 123456
    c.send("S")
    sa = c.expect("SA", seq=None, ack=1, ts=True, tsecr=123456)
    c.learn_synack(sa)
    c.send("A")
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    c.write(b"x")
    c.expect("A", data=b"x", ts=True)
