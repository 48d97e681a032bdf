/* Ping sockets (ICMP echo). Layer: transport, beside UDP, whose control blocks they share. */
#ifndef US_PING_PING_H
#define US_PING_PING_H

#include "ip/ip.h"
#include "udp/pcb.h"

/* Registers the echo-reply and error handlers with ICMP; needs the control blocks (us_udp_init). */
void us_ping_init(struct us_stack *st);
/* Sends the echo request in buf (header and data) from pcb to dst: the stack sets the identifier
 * to the socket's and fills the checksum. Returns len or -errno. */
ssize_t us_ping_output(struct us_stack *st, struct us_pcb *pcb, const void *buf, size_t len,
                       us_ip4_t dst, us_time_t now);

#endif
