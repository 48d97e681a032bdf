"""RFC 9293 3.10.7.3 (SYN-SENT): a SYN-ACK whose ACK is not acceptable draws
<SEQ=SEG.ACK><CTL=RST>, and the connection stays in SYN-SENT."""


def run(t):
    port = t.new_port()
    r = t.agent_ok("connect", ip="192.0.2.1", port=port)
    from bench import SYN
    syn = t.next_pkt(lambda p: p.proto == 6 and p.dport == port and p.flags & SYN, 2.0)
    c = t.conn(syn.sport, sport=port)
    c.learn_syn(syn)
    c.syn_opts()
    c.send("SA", seq=0, ack=1000)
    p = c.expect("R", seq=None, ack=None)
    assert p.seq == (c.irs + 1000) & 0xFFFFFFFF, "RST seq is not SEG.ACK"
    # still connecting: a good SYN-ACK completes it
    c.snd_nxt = 0
    c.send("SA", seq=0, ack=1)
    c.expect("A", seq=1, ack=1)
    assert t.agent("connected", id=r["id"]).get("err") == ""
