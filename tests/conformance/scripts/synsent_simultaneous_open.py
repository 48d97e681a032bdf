"""RFC 9293 3.5 figure 8, 3.10.7.3: simultaneous open. A SYN (no ACK) in SYN-SENT draws a
SYN-ACK with the DUT's ISN; the peer's ACK then completes the connection."""

# The bench's SYN carries only MSS. (Linux also scales the window of its ACK by the factor its
# SYN offered, though the peer's SYN offered none: 63 units where ustack writes 64236 bytes.)
SHAPE_DEVIATION = {
    ("SYN-ACK", "opts"): "the SYN-ACK offers only what the peer's SYN offered (RFC 7323 1.3, "
                         "RFC 2018 2); Linux repeats its own SYN's options (SACK, TS, WS)",
    ("SYN-ACK", "wscale"): "no window scale without the peer's (RFC 7323 1.3), as above",
}


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
