"""RFC 9293 3.5 figure 8, 3.10.7.3: simultaneous open. A SYN (no ACK) in SYN-SENT draws a
SYN-ACK with the DUT's ISN; the peer's ACK then completes the connection."""


def run(t):
    port = t.new_port()
    r = t.agent_ok("connect", ip="192.0.2.1", port=port)
    syn = t.next_pkt(lambda p: p.proto == 6 and p.dport == port, 2.0)
    c = t.conn(syn.sport, sport=port)
    c.learn_syn(syn)
    c.rcv_nxt = 0
    c.syn_opts()
    c.send("S", seq=0)
    c.expect("SA", seq=0, ack=1)
    c.send("A", seq=1, ack=1)
    assert t.agent("connected", id=r["id"]).get("err") == ""
    c.send("PA", data=b"both")
    c.expect("A", seq=1, ack=5)
