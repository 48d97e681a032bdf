"""RFC 7323 4.2 (and 5.4 on TS in RST): an RST the DUT sends on a connection that uses
timestamps (an abort with SO_LINGER zero) carries a TS option, as Linux sends it."""


def run(t):
    c = t.passive(ts=True)
    t.agent_ok("linger", id=c.sock, secs=0)
    t.agent_ok("close", id=c.sock)
    c.expect("RA", seq=1, ack=1, ts=True)
