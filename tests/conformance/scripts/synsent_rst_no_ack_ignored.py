"""RFC 9293 3.10.7.3 (SYN-SENT): an RST without ACK is discarded; the connect completes later."""


def run(t):
    port = t.new_port()
    r = t.agent_ok("connect", ip="192.0.2.1", port=port)
    syn = t.next_pkt(lambda p: p.proto == 6 and p.dport == port, 2.0)
    c = t.conn(syn.sport, sport=port)
    c.learn_syn(syn)
    c.syn_opts()
    c.send("R", seq=0)
    c.expect_none(0.3)
    c.send("SA", seq=0, ack=1)
    c.expect("A", seq=1, ack=1)
    assert t.agent("connected", id=r["id"]).get("err") == ""
