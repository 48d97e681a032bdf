/* Harness for tests of the built-in services (apps/services.c): the daemon loop's part in
 * serving them, a document root, and HTTP clients on the one-stack harness (lib/onestack.h)
 * that take and acknowledge what the service sends, segment by segment on a virtual clock. */
#ifndef US_TEST_SVCHARNESS_H
#define US_TEST_SVCHARNESS_H

#include "lib/onestack.h"
#include "services.h"

/* What the daemon's loop does after the stack has run: the ready sockets' callbacks, then the
 * services' own work (connections that used up their burst, deadlines such as lingering
 * closes). */
void svc_serve(struct us_services *svc, struct us_stack *st, us_time_t now);

/* The document root: a fresh directory under /tmp holding a.txt (SVC_BODY) and big.bin (1 MiB
 * of 'b'). svc_root_make and svc_root_remove fit tcase_add_unchecked_fixture. */
#define SVC_BODY "hello from the ustack http service\n"
extern char svc_root[64];
void svc_root_make(void);
void svc_root_remove(void);

/* One client connection from 192.0.2.1:40000+i to the service's port 80: what the server sent
 * it, in order, and how it ended. */
#define SVC_NPEER 3
struct svc_peer {
    struct os_tcp t;
    char got[8192];     /* NUL-terminated */
    size_t got_len;
    bool fin, rst;
    bool deaf;   /* takes and acknowledges nothing (a client that stopped reading) */
    uint32_t hi; /* while deaf: one past the highest sequence number the server sent */
};

struct svc {
    struct onestack o;
    struct us_services *s;
    struct svc_peer p[SVC_NPEER];
};

/* Starts the stack and the HTTP service on svc_root with the given limits (NULL: the
 * defaults); the peer is known (ARP). */
void svc_start(struct svc *v, const struct us_services_limits *lim);
/* Serves, then takes what the stack sent, hands each segment to its client and ACKs data and
 * FINs (a deaf client only notes how far the data went), serving again after each. */
void svc_step(struct svc *v);
/* Advances the clock by dur, then svc_step. */
void svc_advance(struct svc *v, us_time_t dur);
/* Client i's handshake (no options), then svc_step. */
void svc_peer_open(struct svc *v, int i);
/* Client i sends req (with PSH), then svc_step. */
void svc_send(struct svc *v, int i, const char *req);
/* Client i's FIN, then svc_step. */
void svc_client_fin(struct svc *v, int i);
/* How many times status (e.g. "HTTP/1.1 200 OK\r\n") occurs in what client p got. */
int svc_responses(const struct svc_peer *p, const char *status);
/* Asserts that no client was reset, stops the service and ends as a TCP test (os_tcp_finish). */
void svc_close(struct svc *v);

#endif
