"""RFC 1122 3.2.1.2 / RFC 791: an IP header length below 5 words is invalid: discarded."""


def run(t):
    t.echo(b"ihl", ihl=4)
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "answer to IHL 4")
    t.still_answers()
