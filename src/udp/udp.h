/* UDP (RFC 768, RFC 1122 4.1). Layer: transport. */
#ifndef US_UDP_H
#define US_UDP_H

#include "ip/ip.h"
#include "udp/pcb.h"

/* Allocates the control-block table and registers UDP with IP. */
int us_udp_init(struct us_stack *st);
void us_udp_destroy(struct us_stack *st);

void us_udp_input(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now);
/* Sends one datagram from pcb to (dst, dport). Returns len or -errno. With probe, sends
 * nothing: the size and route checks only (US_MSG_PROBE). */
ssize_t us_udp_output(struct us_stack *st, struct us_pcb *pcb, const void *buf, size_t len,
                      us_ip4_t dst, uint16_t dport, bool probe, us_time_t now);

void us_udp_icmp_error(struct us_stack *st, const struct us_icmp_err *e, us_time_t now);

#endif
