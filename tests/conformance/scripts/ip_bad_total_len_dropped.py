"""RFC 791 / RFC 1122 3.2.1: a total length beyond the frame is invalid: discarded."""


def run(t):
    t.echo(b"len", total=400)
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "answer to a total length past the frame")
    t.still_answers()
