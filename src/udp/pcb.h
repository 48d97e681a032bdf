/* Datagram control blocks and the demultiplexing table shared by UDP and ping sockets.
 * Layer: transport (with UDP; ping sockets use it from src/ping). A socket *is* one of these: everything netstat prints is read here. */
#ifndef US_PCB_H
#define US_PCB_H

#include "core/core.h"

struct us_pcb {
    enum us_sock_type type;
    uint8_t proto;     /* US_IPPROTO_UDP, US_IPPROTO_ICMP */
    int fd;
    us_ip4_t laddr, raddr;
    uint16_t lport, rport; /* ping sockets: lport is the echo identifier */
    bool hashed;       /* bound to a port, in the table */
    bool connected;
    bool bcast_ok;     /* SO_BROADCAST */
    bool reuseaddr;    /* SO_REUSEADDR: shares its port with others that set it (us_pcb_bind) */
    int so_error;      /* pending asynchronous error (positive errno) */
    size_t rcvbuf;
    struct us_pktq rcvq; /* whole datagrams; pkt->addr/port = source, addr2 = destination */
    struct us_pcb *hnext;
};

struct us_pcb_table {
    struct us_pcb **bucket;
    size_t nbuckets; /* power of two */
    size_t count;
};

struct us_stack;
/* Allocates st->pcbs with nbuckets (a power of two) chains. */
int us_pcb_table_init(struct us_stack *st, size_t nbuckets);
void us_pcb_table_destroy(struct us_stack *st);

/* Binds pcb to (laddr, lport); lport 0 picks a random free ephemeral port. A port in use is
 * shared when pcb and every socket on it set SO_REUSEADDR (Linux); a datagram then goes to the
 * best match (us_pcb_lookup), among equals the socket bound last.
 * Returns 0, -EADDRINUSE, or -EAGAIN when no ephemeral port is free. */
int us_pcb_bind(struct us_stack *st, struct us_pcb *pcb, us_ip4_t laddr, uint16_t lport);
void us_pcb_unhash(struct us_stack *st, struct us_pcb *pcb);
/* Best match for an arriving datagram: a connected pcb matching all four fields wins over one
 * bound to the address, which wins over one bound to any address. NULL when none. */
struct us_pcb *us_pcb_lookup(struct us_stack *st, uint8_t proto, us_ip4_t laddr, uint16_t lport,
                             us_ip4_t raddr, uint16_t rport);
/* Queues a datagram copy on pcb; false when it could not, with the drop already counted under
 * its real reason (receive buffer full, or no packet buffer left). */
bool us_pcb_enqueue(struct us_stack *st, struct us_pcb *pcb, const uint8_t *data, size_t len,
                    us_ip4_t src, uint16_t sport, us_ip4_t dst, uint8_t ttl);
/* Records an asynchronous error reported by ICMP for the flow (laddr,lport)->(raddr,rport). */
void us_pcb_notify_error(struct us_stack *st, uint8_t proto, us_ip4_t laddr, uint16_t lport,
                         us_ip4_t raddr, uint16_t rport, int err);

#endif
