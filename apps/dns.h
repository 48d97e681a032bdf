/* DNS stub resolver: A-record lookups for `ustack lookup` and the HTTP client.
 * Layer: apps. Transport-agnostic (runs over any send/recv pair, e.g. ustack UDP sockets);
 * builds and parses messages with glibc's libresolv. Keeps no global state. */
#ifndef US_APPS_DNS_H
#define US_APPS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define US_DNS_MAX_ADDRS 16
#define US_DNS_PORT 53
#define US_DNS_DEFAULT_TRIES 3
#define US_DNS_DEFAULT_TIMEOUT_MS 2000
#define US_DNS_MAX_CNAME_HOPS 8
/* Receive buffer of us_dns_resolve. We send no EDNS(0) OPT record, so a conforming server's UDP
 * answer fits in 512 bytes (RFC 1035 4.2.1); the slack lets us still read an oversized one. */
#define US_DNS_MSG_MAX 4096

struct us_dns_result {
    size_t n_addrs;
    uint32_t addrs[US_DNS_MAX_ADDRS]; /* IPv4, host byte order, in answer order, deduplicated */
    uint32_t ttl;                     /* min TTL (seconds) of the A records used */
    char canonical[256];              /* final name after the CNAME chain, no trailing dot */
    int rcode;                        /* DNS RCODE from the answer */
    bool truncated;                   /* TC bit was set */
};

/* Builds a standard recursive query (RD set) for the A records of name into buf. Returns the
 * length, -EINVAL for a bad name (empty, empty label, label > 63, name > 253 characters, a
 * character other than letter, digit, '-' or '_'; one trailing dot is allowed), or -ENOSPC if
 * cap is too small (12 + name + 6 bytes are needed). */
int us_dns_build_query(uint8_t *buf, size_t cap, const char *name, uint16_t id);

/* Parses an answer to the query (id, name). res is always cleared first; on return rcode and
 * truncated are set whenever the header could be read. Returns 0 with res filled, or:
 *   -EBADMSG      malformed (short header, bad or looping compression pointer, counts beyond the
 *                 data, trailing bytes, RDATA length mismatch, A record RDLENGTH != 4);
 *   -EPROTO       not a response to a standard query, id mismatch, question not (name, A, IN);
 *   -ENOENT       NXDOMAIN (rcode 3) or no A record for the name (NODATA);
 *   -EAGAIN       SERVFAIL (rcode 2) and other server errors; -EACCES for REFUSED (5);
 *   -ELOOP        CNAME chain longer than US_DNS_MAX_CNAME_HOPS;
 *   -EMSGSIZE     TC bit set and no complete A record for the name in what arrived.
 * CNAME chains inside the answer section are followed; only class-IN A records owned by the
 * current name of the chain are used, anything else is ignored. */
int us_dns_parse_answer(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                        struct us_dns_result *res);

struct us_dns_transport {
    void *ctx;
    /* 0 or -errno. */
    int (*send)(void *ctx, const uint8_t *buf, size_t len);
    /* Waits up to timeout_ms; returns the length, -EAGAIN on timeout, another -errno on error.
     * *from_ok is set false if the datagram did not come from the server address, port 53. */
    int (*recv)(void *ctx, uint8_t *buf, size_t cap, int timeout_ms, bool *from_ok);
    /* Query id source. */
    uint16_t (*random16)(void *ctx);
    /* Optional monotonic clock in milliseconds, so waiting can resume after a rejected datagram
     * without restarting the timeout. NULL means clock_gettime(CLOCK_MONOTONIC). */
    int64_t (*now_ms)(void *ctx);
};

/* Zero (or a NULL opts) selects the defaults: 3 tries, 2000 ms each. */
struct us_dns_opts {
    int tries;
    int timeout_ms;
};

/* Resolves name to IPv4 addresses. A dotted-quad literal ("192.0.2.1") is returned directly
 * (n_addrs 1, ttl 0, canonical = the literal) without sending anything. Otherwise sends one query
 * (a single id for all tries) and waits timeout_ms for an answer, up to `tries` times. Datagrams
 * from a wrong source, with a wrong id, for another question or malformed are ignored and the
 * wait goes on until the try's deadline. Returns 0, an error of us_dns_parse_answer for the
 * accepted answer (server errors are not retried), -EINVAL for a bad name, a transport error
 * from recv, the last send error if no send succeeded, or -ETIMEDOUT. */
int us_dns_resolve(const struct us_dns_transport *t, const struct us_dns_opts *opts,
                   const char *name, struct us_dns_result *res);

/* Text for a us_dns_* error code (negative errno; positive is accepted too). */
const char *us_dns_strerror(int err);

#endif
