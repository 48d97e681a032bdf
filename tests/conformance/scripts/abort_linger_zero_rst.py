"""RFC 9293 3.10.5 ABORT: close with SO_LINGER zero sends <SEQ=SND.NXT><CTL=RST> (Linux sets
ACK as well) and no FIN; the connection is gone."""


def run(t):
    c = t.passive()
    t.agent_ok("linger", id=c.sock, secs=0)
    t.agent_ok("close", id=c.sock)
    c.expect("RA", seq=1, ack=1)
    c.send("A")
    c.expect("R", seq=1, ack=None)
