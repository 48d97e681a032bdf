/* Name resolution over ustack for `ustack run` (doc/run.md). Layer: preload.
 *
 * glibc's resolver opens its sockets through internal functions a preload cannot see, so its DNS
 * queries would go to the kernel's stack. The lookups that need the network are answered here
 * instead: /etc/hosts first (glibc reads it, no socket involved), then DNS over a UDP socket made
 * with socket(), which is ustack's. The nameserver is the daemon's --dns if it has one, else the
 * first IPv4 nameserver in /etc/resolv.conf. Queries are built with dn_comp and answers walked
 * with ns_initparse/ns_parserr (libresolv), which check bounds and compression loops. Only A
 * records are asked for: ustack speaks IPv4, and an AF_INET6 caller gets IPv4-mapped addresses.
 * Reverse lookups (getnameinfo) ask for PTR records the same way. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preload/preload.h"

#define MAX_ADDRS 16

/* Is `name` in /etc/hosts? Then glibc answers it without a socket. */
static bool
in_hosts_file(const char *name)
{
    FILE *f = fopen("/etc/hosts", "re");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *save = NULL;
        char *tok = strtok_r(line, " \t\r\n", &save); /* the address */
        while (tok && (tok = strtok_r(NULL, " \t\r\n", &save)))
            if (strcasecmp(tok, name) == 0)
                found = true;
    }
    fclose(f);
    return found;
}

static uint32_t
nameserver(void)
{
    uint32_t ns = us_preload_dns();
    if (ns)
        return ns;
    FILE *f = fopen("/etc/resolv.conf", "re");
    if (!f)
        return 0;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        char addr[64];
        struct in_addr a;
        if (sscanf(line, " nameserver %63s", addr) == 1 && inet_pton(AF_INET, addr, &a) == 1) {
            ns = ntohl(a.s_addr);
            break;
        }
    }
    fclose(f);
    return ns;
}

/* One query over ustack's UDP; returns the answer's length, or -1. */
static int
dns_ask(const char *name, int type, uint8_t *ans, int cap)
{
    uint32_t ns = nameserver();
    if (!ns)
        return -1;
    uint8_t q[NS_PACKETSZ];
    memset(q, 0, NS_HFIXEDSZ);
    /* An unpredictable query ID (RFC 5452 9.2), so an off-path answer has to guess it. */
    uint16_t id;
    if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
        id = (uint16_t)(getpid() ^ (uintptr_t)&id);
    q[0] = (uint8_t)(id >> 8);
    q[1] = (uint8_t)id;
    q[2] = 0x01; /* RD */
    q[5] = 1;    /* QDCOUNT */
    const u_char *dnptrs[2] = {q, NULL};
    int n = dn_comp(name, q + NS_HFIXEDSZ, (int)sizeof(q) - NS_HFIXEDSZ - 4, (u_char **)dnptrs,
                    (u_char **)dnptrs + 2);
    if (n < 0)
        return -1;
    uint8_t *p = q + NS_HFIXEDSZ + n;
    p[0] = (uint8_t)(type >> 8);
    p[1] = (uint8_t)type;
    p[2] = 0;
    p[3] = ns_c_in;
    size_t qlen = (size_t)(p + 4 - q);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* ustack's, through our hook */
    if (s < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53),
                             .sin_addr.s_addr = htonl(ns)};
    int got = -1;
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        for (int attempt = 0; attempt < 3 && got < 0; attempt++) {
            if (send(s, q, qlen, 0) != (ssize_t)qlen)
                break;
            struct pollfd pf = {.fd = s, .events = POLLIN};
            while (got < 0 && poll(&pf, 1, 2000) > 0) {
                ssize_t r = recv(s, ans, (size_t)cap, 0);
                if (r < NS_HFIXEDSZ)
                    break; /* an error (e.g. port unreachable): try again */
                if (ans[0] == q[0] && ans[1] == q[1])
                    got = (int)r;
            }
        }
    }
    close(s);
    return got;
}

/* The IPv4 addresses of `name` (host order), following CNAMEs as the server did. */
static int
dns_a(const char *name, uint32_t *out, int max)
{
    uint8_t ans[4096];
    int len = dns_ask(name, ns_t_a, ans, sizeof(ans));
    if (len < 0)
        return -1;
    ns_msg m;
    if (ns_initparse(ans, len, &m) < 0 || ns_msg_getflag(m, ns_f_rcode) != ns_r_noerror)
        return 0;
    int n = 0;
    for (int i = 0; i < ns_msg_count(m, ns_s_an) && n < max; i++) {
        ns_rr rr;
        if (ns_parserr(&m, ns_s_an, i, &rr) == 0 && ns_rr_type(rr) == ns_t_a &&
            ns_rr_rdlen(rr) == 4) {
            uint32_t a;
            memcpy(&a, ns_rr_rdata(rr), 4);
            out[n++] = ntohl(a);
        }
    }
    return n;
}

/* ---- getaddrinfo --------------------------------------------------------------------------- */

static int (*real_getaddrinfo)(const char *, const char *, const struct addrinfo *,
                               struct addrinfo **);
static int (*real_getnameinfo)(const struct sockaddr *, socklen_t, char *, socklen_t, char *,
                               socklen_t, int);

/* Needs the network: a name, not a number, not in /etc/hosts. */
static bool
needs_dns(const char *node, const struct addrinfo *hints)
{
    if (!us_preload_active() || !node || (hints && (hints->ai_flags & AI_NUMERICHOST)))
        return false;
    struct in6_addr a6;
    if (inet_pton(AF_INET, node, &a6) == 1 || inet_pton(AF_INET6, node, &a6) == 1)
        return false;
    if (hints && hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET &&
        hints->ai_family != AF_INET6)
        return false;
    return !in_hosts_file(node);
}

US_EXPORT int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
            struct addrinfo **res)
{
    if (!real_getaddrinfo)
        real_getaddrinfo = (__typeof__(real_getaddrinfo))us_preload_real("getaddrinfo");
    if (!needs_dns(node, hints))
        return real_getaddrinfo(node, service, hints, res);
    uint32_t addrs[MAX_ADDRS];
    int n = dns_a(node, addrs, MAX_ADDRS);
    if (n < 0)
        return EAI_AGAIN;
    if (n == 0)
        return EAI_NONAME;
    /* Each address through glibc as a number: the same service, socket type and flags, and a
     * list freeaddrinfo frees as if glibc had made it whole. */
    struct addrinfo h = hints ? *hints : (struct addrinfo){0};
    h.ai_flags |= AI_NUMERICHOST;
    h.ai_flags &= ~(AI_CANONNAME | AI_ADDRCONFIG);
    bool v6 = h.ai_family == AF_INET6;
    struct addrinfo *head = NULL, **tail = &head;
    int err = EAI_NONAME;
    for (int i = 0; i < n; i++) {
        char num[64];
        struct in_addr a = {.s_addr = htonl(addrs[i])};
        char v4[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, v4, sizeof(v4));
        snprintf(num, sizeof(num), v6 ? "::ffff:%s" : "%s", v4);
        struct addrinfo *r = NULL;
        err = real_getaddrinfo(num, service, &h, &r);
        if (err)
            continue;
        *tail = r;
        while (*tail)
            tail = &(*tail)->ai_next;
    }
    if (!head)
        return err;
    if (hints && (hints->ai_flags & AI_CANONNAME))
        head->ai_canonname = strdup(node); /* glibc's freeaddrinfo frees it */
    *res = head;
    return 0;
}

US_EXPORT int
getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
            char *serv, socklen_t servlen, int flags)
{
    if (!real_getnameinfo)
        real_getnameinfo = (__typeof__(real_getnameinfo))us_preload_real("getnameinfo");
    if (!us_preload_active() || !host || !hostlen || (flags & NI_NUMERICHOST) || !sa ||
        salen < sizeof(struct sockaddr_in))
        return real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    uint32_t a;
    if (sa->sa_family == AF_INET) {
        a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
    } else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6) &&
               IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
        memcpy(&a, &((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr[12], 4);
        a = ntohl(a);
    } else {
        return real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
    }
    /* The service part, and /etc/hosts, from glibc without a socket. */
    int err = real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST);
    if (err)
        return err;
    char ptr[64];
    snprintf(ptr, sizeof(ptr), "%u.%u.%u.%u.in-addr.arpa", a & 0xff, (a >> 8) & 0xff,
             (a >> 16) & 0xff, a >> 24);
    uint8_t ans[4096];
    int len = dns_ask(ptr, ns_t_ptr, ans, sizeof(ans));
    ns_msg m;
    if (len > 0 && ns_initparse(ans, len, &m) == 0) {
        for (int i = 0; i < ns_msg_count(m, ns_s_an); i++) {
            ns_rr rr;
            char name[NS_MAXDNAME];
            if (ns_parserr(&m, ns_s_an, i, &rr) == 0 && ns_rr_type(rr) == ns_t_ptr &&
                dn_expand(ns_msg_base(m), ns_msg_end(m), ns_rr_rdata(rr), name, sizeof(name)) >= 0) {
                if (strlen(name) >= hostlen)
                    return EAI_OVERFLOW;
                strcpy(host, name);
                return 0;
            }
        }
    }
    return (flags & NI_NAMEREQD) ? EAI_NONAME : 0; /* the number glibc already wrote */
}

/* ---- gethostbyname ---------------------------------------------------------------------- */

/* Fills a hostent in buf (the _r contract) with addrs as `af` addresses. */
static int
fill_hostent(const char *name, int af, const uint32_t *addrs, int n, struct hostent *he,
             char *buf, size_t buflen, struct hostent **result, int *h_errnop)
{
    size_t alen = af == AF_INET6 ? 16 : 4;
    size_t need = strlen(name) + 1 + (size_t)(n + 1) * sizeof(char *) + sizeof(char *) +
                  (size_t)n * alen + 16;
    if (need > buflen) {
        *result = NULL;
        if (h_errnop)
            *h_errnop = NETDB_INTERNAL;
        return ERANGE;
    }
    char *p = buf;
    uintptr_t pad = (uintptr_t)p % sizeof(char *);
    if (pad)
        p += sizeof(char *) - pad;
    char **list = (char **)(void *)p;
    p += (size_t)(n + 1) * sizeof(char *);
    char **aliases = (char **)(void *)p;
    p += sizeof(char *);
    aliases[0] = NULL;
    for (int i = 0; i < n; i++) {
        uint32_t be = htonl(addrs[i]);
        if (af == AF_INET6) {
            memset(p, 0, 10);
            p[10] = p[11] = (char)0xff;
            memcpy(p + 12, &be, 4);
        } else {
            memcpy(p, &be, 4);
        }
        list[i] = p;
        p += alen;
    }
    list[n] = NULL;
    strcpy(p, name);
    he->h_name = p;
    he->h_aliases = aliases;
    he->h_addrtype = af;
    he->h_length = (int)alen;
    he->h_addr_list = list;
    *result = he;
    if (h_errnop)
        *h_errnop = 0;
    return 0;
}

US_EXPORT int
gethostbyname2_r(const char *name, int af, struct hostent *he, char *buf, size_t buflen,
                 struct hostent **result, int *h_errnop)
{
    struct addrinfo hints = {.ai_family = af};
    if (!needs_dns(name, &hints)) {
        int (*real)(const char *, int, struct hostent *, char *, size_t, struct hostent **,
                    int *) = us_preload_real("gethostbyname2_r");
        return real(name, af, he, buf, buflen, result, h_errnop);
    }
    uint32_t addrs[MAX_ADDRS];
    int n = dns_a(name, addrs, MAX_ADDRS);
    if (n <= 0) {
        *result = NULL;
        if (h_errnop)
            *h_errnop = n < 0 ? TRY_AGAIN : HOST_NOT_FOUND;
        return 0;
    }
    return fill_hostent(name, af, addrs, n, he, buf, buflen, result, h_errnop);
}

US_EXPORT int
gethostbyname_r(const char *name, struct hostent *he, char *buf, size_t buflen,
                struct hostent **result, int *h_errnop)
{
    return gethostbyname2_r(name, AF_INET, he, buf, buflen, result, h_errnop);
}

US_EXPORT struct hostent *
gethostbyname2(const char *name, int af)
{
    static __thread struct hostent he;
    static __thread char buf[2048];
    struct hostent *r = NULL;
    int herr = 0;
    gethostbyname2_r(name, af, &he, buf, sizeof(buf), &r, &herr);
    if (!r)
        h_errno = herr;
    return r;
}

US_EXPORT struct hostent *
gethostbyname(const char *name)
{
    return gethostbyname2(name, AF_INET);
}
