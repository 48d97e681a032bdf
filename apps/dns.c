/* DNS stub resolver (RFC 1034 5.3.1, RFC 1035 4): one A query, one answer, a bounded wait.
 * Layer: apps. Talks to the network only through a caller-supplied transport; keeps no global
 * mutable state; reads CLOCK_MONOTONIC only when the transport supplies no clock.
 *
 * Why libresolv and which parts: the project prefers a maintained Debian library to hand-written
 * wire code, so names are encoded with dn_comp() and answers are walked with ns_initparse() /
 * ns_parserr() / dn_expand(), which do the bounds, compression-pointer and loop checks. We do
 * NOT use res_mkquery(): it reads the global _res. res_nmkquery() with a local struct __res_state
 * avoids _res but still allocates a resolv_context and links it on a thread-local list, and since
 * glibc 2.34 it ignores statp->id and stamps its own random id (we would have to patch the bytes
 * back). dn_comp() with no compression table is a pure function, and the 12-byte header and the
 * QTYPE/QCLASS are written here, so query building touches no resolver state at all. */
#include "dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/bytes.h"

#define DNS_HDR_LEN 12          /* RFC 1035 4.1.1 */
#define DNS_NAME_TEXT_MAX 253   /* longest name in text form, without the trailing dot */
#define DNS_LABEL_MAX 63        /* RFC 1035 2.3.4 */
#define DNS_MSG_LIMIT 65535     /* a message is at most 64 KiB (2-byte TCP length, RFC 1035 4.2.2) */
#define DNS_QUERY_MAX (DNS_HDR_LEN + NS_MAXCDNAME + 4)
#define DNS_TIMED_OUT 1         /* internal: a try ended without an accepted answer */
#define DNS_MAX_REJECTS 1024    /* datagrams rejected per try before the try is abandoned */

/* RFC 1035 4.1.1 header flag bits (second 16-bit word). */
#define DNS_F_QR 0x8000
#define DNS_F_OPCODE 0x7800
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RCODE 0x000f

static bool
dns_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Validates name and copies it to out (cap >= DNS_NAME_TEXT_MAX + 1) without a trailing dot.
 * RFC 1035 2.3.4: labels 1..63 octets, names up to 255 octets in wire form (253 characters of
 * text). Only letters, digits, '-' and '_' are accepted (RFC 1123 2.1 host names plus the '_'
 * of service labels): libresolv's text syntax has escapes ("\.", "\065") that we do not want to
 * accept from a command line, and with plain characters our text equals dn_expand()'s rendering
 * of the same wire name, so names can be compared as text. */
static int
dns_name_normalize(const char *name, char *out, size_t cap)
{
    if (name == NULL)
        return -EINVAL;
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_TEXT_MAX || len >= cap)
        return -EINVAL;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '.') {
            if (label == 0)
                return -EINVAL;
            label = 0;
        } else if (!dns_is_name_char(name[i]) || ++label > DNS_LABEL_MAX) {
            return -EINVAL;
        }
    }
    if (label == 0)
        return -EINVAL;
    memcpy(out, name, len);
    out[len] = '\0';
    return 0;
}

/* Compares two names ignoring ASCII case (RFC 1035 2.3.3). Both come from dn_expand() or from
 * dns_name_normalize(), so neither has a trailing dot and equal wire names have equal text.
 * Done here rather than with ns_samename(), whose strcasecmp() follows the process locale. */
static bool
dns_name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z')
            ca = (unsigned char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (unsigned char)(cb - 'A' + 'a');
        if (ca != cb)
            return false;
        if (ca == '\0')
            return true;
    }
}

int
us_dns_build_query(uint8_t *buf, size_t cap, const char *name, uint16_t id)
{
    char text[DNS_NAME_TEXT_MAX + 1];
    int err = dns_name_normalize(name, text, sizeof text);
    if (err < 0)
        return err;
    /* Wire form: one length octet per label plus the root octet = text length + 2. */
    size_t name_len = strlen(text) + 2;
    size_t need = DNS_HDR_LEN + name_len + 4;
    if (buf == NULL || cap < need)
        return -ENOSPC;

    /* RFC 1035 4.1.1: standard query (QR 0, OPCODE 0), recursion desired, one question. */
    memset(buf, 0, DNS_HDR_LEN);
    us_store_be16(buf + 0, id);
    us_store_be16(buf + 2, DNS_F_RD);
    us_store_be16(buf + 4, 1);
    /* No compression table: dn_comp() only encodes (RFC 1035 3.1), no state kept. */
    int n = dn_comp(text, buf + DNS_HDR_LEN, (int)name_len, NULL, NULL);
    if (n < 0 || (size_t)n != name_len)
        return -EINVAL;
    /* RFC 1035 4.1.2: QTYPE A, QCLASS IN. */
    us_store_be16(buf + DNS_HDR_LEN + name_len, ns_t_a);
    us_store_be16(buf + DNS_HDR_LEN + name_len + 2, ns_c_in);
    return (int)need;
}

/* A truncated answer (TC, RFC 1035 4.1.1) may end in the middle of a record while its counts
 * still announce the full set; ns_initparse() then rejects the whole message. Keep the header,
 * the question and the answer records that are complete: copy that prefix into a new buffer
 * with ANCOUNT reduced and the other sections dropped, and parse the copy instead.
 * Returns 0 with *copy (to free) and *copy_len set, or -EBADMSG, -ENOMEM. */
static int
dns_salvage_truncated(const uint8_t *msg, size_t len, uint8_t **copy, size_t *copy_len)
{
    const uint8_t *eom = msg + len;
    const uint8_t *p = msg + DNS_HDR_LEN;
    int qd = ns_skiprr(p, eom, ns_s_qd, us_load_be16(msg + 4));
    if (qd < 0)
        return -EBADMSG;
    p += qd;
    uint16_t ancount = us_load_be16(msg + 6), complete = 0;
    while (complete < ancount) {
        int b = ns_skiprr(p, eom, ns_s_an, 1);
        if (b < 0)
            break;
        p += b;
        complete++;
    }
    size_t n = (size_t)(p - msg);
    uint8_t *c = malloc(n);
    if (c == NULL)
        return -ENOMEM;
    memcpy(c, msg, n);
    us_store_be16(c + 6, complete);
    us_store_be16(c + 8, 0);
    us_store_be16(c + 10, 0);
    *copy = c;
    *copy_len = n;
    return 0;
}

/* The question must repeat ours (RFC 1034 5.3.1 step 3: match answers to queries). A server may
 * omit it in an error answer (FORMERR with QDCOUNT 0), so QDCOUNT 0 passes when rcode != 0. */
static int
dns_check_question(ns_msg *h, const char *name, int rcode)
{
    ns_rr rr;
    uint16_t qdcount = ns_msg_count(*h, ns_s_qd);
    if (qdcount == 0 && rcode != ns_r_noerror)
        return 0;
    if (qdcount != 1)
        return -EPROTO;
    if (ns_parserr(h, ns_s_qd, 0, &rr) < 0)
        return -EBADMSG;
    if (ns_rr_type(rr) != ns_t_a || ns_rr_class(rr) != ns_c_in || !dns_name_eq(rr.name, name))
        return -EPROTO;
    return 0;
}

/* Parses every answer record once so later passes can trust them: names expand (no loops, no
 * pointer past the end), A/IN records carry 4 octets (RFC 1035 3.4.1), and a CNAME's RDATA is
 * exactly one domain name (RFC 1035 3.3.1). */
static int
dns_check_answers(ns_msg *h)
{
    ns_rr rr;
    char target[NS_MAXDNAME];
    for (int i = 0; i < ns_msg_count(*h, ns_s_an); i++) {
        if (ns_parserr(h, ns_s_an, i, &rr) < 0)
            return -EBADMSG;
        if (ns_rr_class(rr) != ns_c_in)
            continue;
        if (ns_rr_type(rr) == ns_t_a && ns_rr_rdlen(rr) != 4)
            return -EBADMSG;
        if (ns_rr_type(rr) == ns_t_cname) {
            int n = dn_expand(ns_msg_base(*h), ns_msg_end(*h), ns_rr_rdata(rr), target,
                              sizeof target);
            if (n < 0 || n != ns_rr_rdlen(rr))
                return -EBADMSG;
        }
    }
    return 0;
}

/* Looks for a CNAME/IN owned by name; on a hit copies its target over name (cap bytes).
 * Returns 1 if found, 0 if not, -EBADMSG. */
static int
dns_find_cname(ns_msg *h, char *name, size_t cap)
{
    ns_rr rr;
    for (int i = 0; i < ns_msg_count(*h, ns_s_an); i++) {
        if (ns_parserr(h, ns_s_an, i, &rr) < 0)
            return -EBADMSG;
        if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_cname || !dns_name_eq(rr.name, name))
            continue;
        if (dn_expand(ns_msg_base(*h), ns_msg_end(*h), ns_rr_rdata(rr), name, (int)cap) < 0)
            return -EBADMSG;
        return 1;
    }
    return 0;
}

/* Collects the A/IN records owned by name (others, e.g. out-of-bailiwick extras, are ignored). */
static int
dns_collect_a(ns_msg *h, const char *name, struct us_dns_result *res)
{
    ns_rr rr;
    for (int i = 0; i < ns_msg_count(*h, ns_s_an); i++) {
        if (ns_parserr(h, ns_s_an, i, &rr) < 0)
            return -EBADMSG;
        if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_a || !dns_name_eq(rr.name, name))
            continue;
        uint32_t addr = us_load_be32(ns_rr_rdata(rr));
        /* RFC 2181 8: a TTL with the top bit set is treated as zero. */
        uint32_t ttl = ns_rr_ttl(rr) > 0x7fffffffu ? 0 : ns_rr_ttl(rr);
        bool dup = false;
        for (size_t k = 0; k < res->n_addrs; k++)
            dup = dup || res->addrs[k] == addr;
        if (dup || res->n_addrs == US_DNS_MAX_ADDRS)
            continue;
        res->addrs[res->n_addrs++] = addr;
        if (res->n_addrs == 1 || ttl < res->ttl)
            res->ttl = ttl;
    }
    return 0;
}

/* Follows the CNAME chain from qname, sets res->canonical and collects the A records. */
static int
dns_walk_answers(ns_msg *h, const char *qname, struct us_dns_result *res)
{
    char cur[NS_MAXDNAME];
    int err = dns_check_answers(h);
    if (err < 0)
        return err;
    snprintf(cur, sizeof cur, "%s", qname);
    for (int hops = 0;; hops++) {
        err = dns_find_cname(h, cur, sizeof cur);
        if (err < 0)
            return err;
        if (err == 0)
            break;
        if (hops == US_DNS_MAX_CNAME_HOPS)
            return -ELOOP;
    }
    /* A wire name fits in 253 characters unless it has octets dn_expand() must escape
     * ("\.", "\200"); such a name is legal but not representable in canonical[]. */
    size_t clen = strlen(cur);
    if (clen >= sizeof res->canonical)
        return -EBADMSG;
    /* dn_expand() renders the root as ""; a CNAME to the root is odd but legal, show it as ".". */
    memcpy(res->canonical, clen == 0 ? "." : cur, clen == 0 ? 2 : clen + 1);
    return dns_collect_a(h, cur, res);
}

static int
dns_rcode_error(int rcode)
{
    switch (rcode) {
    case ns_r_noerror:
        return 0;
    case ns_r_nxdomain:
        return -ENOENT;
    case ns_r_refused:
        return -EACCES; /* not ECONNREFUSED: that one means ICMP port unreachable */
    default: /* SERVFAIL, FORMERR, NOTIMP and anything newer */
        return -EAGAIN;
    }
}

/* Everything after the header checks: question, rcode, answer section. */
static int
dns_parse_body(const uint8_t *msg, size_t len, const char *qname, struct us_dns_result *res)
{
    ns_msg h;
    uint8_t *copy = NULL;
    int err = 0;
    if (ns_initparse(msg, (int)len, &h) < 0) {
        /* Counts beyond the data, bad lengths, or bytes after the last record. */
        if (!res->truncated)
            return -EBADMSG;
        size_t copy_len;
        err = dns_salvage_truncated(msg, len, &copy, &copy_len);
        if (err < 0)
            return err;
        if (ns_initparse(copy, (int)copy_len, &h) < 0) {
            err = -EBADMSG;
            goto out;
        }
    }
    err = dns_check_question(&h, qname, res->rcode);
    if (err < 0)
        goto out;
    err = dns_rcode_error(res->rcode);
    if (err < 0 && err != -ENOENT)
        goto out;
    /* NOERROR and NXDOMAIN: the chain still tells which name does (not) exist. */
    int walk = dns_walk_answers(&h, qname, res);
    if (walk < 0 || err < 0) {
        err = walk < 0 ? walk : err;
        goto out;
    }
    if (res->n_addrs == 0)
        err = res->truncated ? -EMSGSIZE : -ENOENT;
out:
    free(copy);
    return err;
}

int
us_dns_parse_answer(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                    struct us_dns_result *res)
{
    char qname[DNS_NAME_TEXT_MAX + 1];
    memset(res, 0, sizeof *res);
    if (dns_name_normalize(name, qname, sizeof qname) < 0)
        return -EINVAL;
    if (msg == NULL || len < DNS_HDR_LEN || len > DNS_MSG_LIMIT)
        return -EBADMSG;
    uint16_t flags = us_load_be16(msg + 2);
    res->rcode = flags & DNS_F_RCODE;
    res->truncated = (flags & DNS_F_TC) != 0;
    /* RFC 1035 4.1.1: a response (QR 1) to a standard query (OPCODE 0) with our ID. */
    if (!(flags & DNS_F_QR) || (flags & DNS_F_OPCODE) != 0 || us_load_be16(msg) != id)
        return -EPROTO;
    int err = dns_parse_body(msg, len, qname, res);
    if (err < 0) {
        int rcode = res->rcode;
        bool tc = res->truncated;
        memset(res, 0, sizeof *res);
        res->rcode = rcode;
        res->truncated = tc;
    }
    return err;
}

static int64_t
dns_now_ms(const struct us_dns_transport *t)
{
    if (t->now_ms != NULL)
        return t->now_ms(t->ctx);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the try's deadline for an acceptable answer. Returns DNS_TIMED_OUT, or the
 * result of the accepted answer, or a transport error. Datagrams from elsewhere, with another
 * id or question, or malformed, are dropped and the wait goes on (RFC 1035 7.3: a resolver
 * should check that an answer matches the query and its source). */
static int
dns_wait_answer(const struct us_dns_transport *t, int timeout_ms, uint16_t id, const char *name,
                struct us_dns_result *res)
{
    uint8_t buf[US_DNS_MSG_MAX];
    int64_t deadline = dns_now_ms(t) + timeout_ms;
    /* Bounded so a flood of junk with a clock that does not move cannot pin us here. */
    for (int rejects = 0; rejects < DNS_MAX_REJECTS; rejects++) {
        int64_t left = deadline - dns_now_ms(t);
        if (left <= 0)
            return DNS_TIMED_OUT;
        bool from_ok = true;
        int n = t->recv(t->ctx, buf, sizeof buf, (int)left, &from_ok);
        if (n == -EAGAIN)
            return DNS_TIMED_OUT;
        if (n == -EINTR)
            continue;
        if (n < 0)
            return n;
        if (!from_ok)
            continue;
        size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf;
        int err = us_dns_parse_answer(buf, len, id, name, res);
        if (err != -EPROTO && err != -EBADMSG)
            return err;
    }
    return DNS_TIMED_OUT;
}

int
us_dns_resolve(const struct us_dns_transport *t, const struct us_dns_opts *opts,
               const char *name, struct us_dns_result *res)
{
    struct in_addr lit;
    memset(res, 0, sizeof *res);
    if (name == NULL)
        return -EINVAL;
    /* A dotted-quad literal needs no query (inet_pton: exactly four decimal parts). */
    if (inet_pton(AF_INET, name, &lit) == 1) {
        res->n_addrs = 1;
        res->addrs[0] = ntohl(lit.s_addr);
        snprintf(res->canonical, sizeof res->canonical, "%s", name);
        return 0;
    }
    int tries = opts != NULL && opts->tries > 0 ? opts->tries : US_DNS_DEFAULT_TRIES;
    int timeout_ms = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms
                                                          : US_DNS_DEFAULT_TIMEOUT_MS;
    uint8_t query[DNS_QUERY_MAX];
    /* One id for every try, so a late answer to an earlier transmission is still accepted. */
    uint16_t id = t->random16(t->ctx);
    int qlen = us_dns_build_query(query, sizeof query, name, id);
    if (qlen < 0)
        return qlen;

    bool sent = false;
    int send_err = 0;
    for (int i = 0; i < tries; i++) {
        int err = t->send(t->ctx, query, (size_t)qlen);
        if (err < 0)
            send_err = err;
        else
            sent = true;
        /* Even after a failed send the try lasts its timeout: no busy retries, and an answer
         * to an earlier transmission may still come. */
        err = dns_wait_answer(t, timeout_ms, id, name, res);
        if (err != DNS_TIMED_OUT)
            return err;
    }
    memset(res, 0, sizeof *res);
    return sent ? -ETIMEDOUT : send_err;
}

const char *
us_dns_strerror(int err)
{
    switch (err < 0 ? -err : err) {
    case 0:
        return "success";
    case EINVAL:
        return "invalid host name";
    case ENOSPC:
        return "buffer too small for the query";
    case EBADMSG:
        return "malformed DNS answer";
    case EPROTO:
        return "DNS answer does not match the query";
    case ENOENT:
        return "no such host (NXDOMAIN or no A record)";
    case EAGAIN:
        return "DNS server failure, try again later";
    case EACCES:
        return "DNS server refused the query";
    case ECONNREFUSED:
        return "no DNS server at that address (port unreachable)";
    case ELOOP:
        return "CNAME chain too long";
    case EMSGSIZE:
        return "DNS answer truncated before any address";
    case ETIMEDOUT:
        return "no answer from the DNS server";
    case ENOMEM:
        return "out of memory";
    default:
        return strerror(err < 0 ? -err : err);
    }
}
