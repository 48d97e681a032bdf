/* netstat: reads the control blocks straight from the stack and prints them as Linux's netstat
 * does (Proto, Recv-Q, Send-Q, Local Address, Foreign Address, State). Layer: application. */
#include "netstat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

struct out {
    char *buf;
    size_t cap, len;
};

static void
outf(struct out *o, const char *fmt, ...)
{
    if (o->len + 1 >= o->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = US_MIN(o->len + (size_t)n, o->cap - 1);
}

static const char *
service_name(uint16_t port)
{
    switch (port) {
    case 7:
        return "echo";
    case 9:
        return "discard";
    case 19:
        return "chargen";
    case 53:
        return "domain";
    case 80:
        return "http";
    default:
        return NULL;
    }
}

static void
fmt_addr(char *out, size_t cap, const struct us_sockaddr *a, bool remote, bool numeric)
{
    char ip[16];
    us_ip4_ntoa(a->addr, ip);
    const char *name = numeric ? NULL : service_name(a->port);
    if (remote && a->port == 0)
        snprintf(out, cap, "%s:*", ip);
    else if (name)
        snprintf(out, cap, "%s:%s", ip, name);
    else
        snprintf(out, cap, "%s:%u", ip, (unsigned)a->port);
}

static void
format_stats(struct us_stack *st, struct out *o)
{
    outf(o, "Counters:\n");
    for (size_t i = 0; i < us_stat_count(); i++)
        outf(o, "    %-26s %10llu  %s\n", us_stat_name(i), (unsigned long long)us_stat_get(st, i),
             us_stat_text(i));
    outf(o, "\nDrops by reason (total %llu):\n", (unsigned long long)us_drop_total(st));
    for (size_t i = 1; i < us_drop_count(); i++)
        outf(o, "    %-26s %10llu  %s\n", us_drop_name(i), (unsigned long long)us_drop_get(st, i),
             us_drop_text(i));
}

size_t
us_netstat_format(struct us_stack *st, int flags, us_netstat_owner_fn owner, void *ctx,
                  char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    if (flags & US_NETSTAT_STATS) { /* like netstat -s: the counters alone */
        format_stats(st, &o);
        return o.len;
    }
    /* Keep room for a closing line if the table does not fit. */
    const size_t reserve = 96;
    o.cap = cap > reserve ? cap - reserve : cap;
    size_t shown = 0, want = 0;
    size_t n = us_sock_list(st, NULL, 0);
    struct us_sock_info *si = calloc(n ? n : 1, sizeof(*si));
    if (si)
        n = US_MIN(n, us_sock_list(st, si, n));
    else
        n = 0;
    outf(&o, "Active Internet connections%s\n", (flags & US_NETSTAT_ALL) ? " (servers and established)" : " (w/o servers)");
    bool prog = flags & US_NETSTAT_PROGRAM;
    outf(&o, "%-5s %6s %6s %-23s %-23s %-11s%s\n", "Proto", "Recv-Q", "Send-Q", "Local Address",
         "Foreign Address", "State", prog ? " PID/Program name" : "");
    for (size_t i = 0; i < n; i++) {
        bool listening = si[i].remote.addr == 0 && si[i].remote.port == 0;
        if (listening && !(flags & US_NETSTAT_ALL))
            continue; /* like netstat: unconnected datagram sockets count as servers */
        want++;
        if (o.len + 512 > o.cap)
            continue; /* full: counted, not printed */
        shown++;
        char l[32], r[32];
        fmt_addr(l, sizeof(l), &si[i].local, false, flags & US_NETSTAT_NUMERIC);
        fmt_addr(r, sizeof(r), &si[i].remote, true, flags & US_NETSTAT_NUMERIC);
        const char *proto = si[i].type == US_SOCK_DGRAM ? "udp" : si[i].type == US_SOCK_PING ? "icmp" : "tcp";
        bool tcp = si[i].type == US_SOCK_STREAM;
        char ob[48];
        const char *who = prog && owner ? owner(ctx, si[i].fd, ob, sizeof(ob)) : NULL;
        outf(&o, "%-5s %6zu %6zu %-23s %-23s %-11s%s%s\n", proto, si[i].recv_q, si[i].send_q, l,
             r, tcp ? us_tcp_state_name(si[i].state) : "", prog ? " " : "",
             prog ? (who ? who : "-") : "");
        if ((flags & US_NETSTAT_INFO) && tcp && si[i].state != US_TCPS_LISTEN) {
            const struct us_tcp_info *t = &si[i].tcp;
            /* the fields and spelling of Linux's `ss -ti` */
            outf(&o, "\t %s%s%s%s", t->ts ? "ts " : "", t->sack ? "sack " : "",
                 t->ecn ? "ecn " : "", us_tcp_cc_name(t->cc));
            if (t->wscale)
                outf(&o, " wscale:%u,%u", (unsigned)t->snd_wscale, (unsigned)t->rcv_wscale);
            outf(&o, " rto:%lld rtt:%.3f/%.3f mss:%u rcvmss:%u cwnd:%u", (long long)(t->rto / 1000000),
                 (double)t->srtt / 1e6, (double)t->rttvar / 1e6, (unsigned)t->mss_snd,
                 (unsigned)t->mss_rcv, t->mss_snd ? (unsigned)(t->cwnd / t->mss_snd) : 0u);
            if (t->ssthresh < UINT32_MAX)
                outf(&o, " ssthresh:%u", t->mss_snd ? (unsigned)(t->ssthresh / t->mss_snd) : 0u);
            outf(&o, " bytes_sent:%llu bytes_acked:%llu bytes_received:%llu retrans:%llu"
                     " snd_wnd:%u rcv_wnd:%u unacked:%u\n",
                 (unsigned long long)t->bytes_sent, (unsigned long long)t->bytes_acked,
                 (unsigned long long)t->bytes_received, (unsigned long long)t->retrans,
                 (unsigned)t->snd_wnd, (unsigned)t->rcv_wnd, (unsigned)t->unacked);
        }
    }
    free(si);
    o.cap = cap;
    if (shown < want)
        outf(&o, "(%zu of %zu sockets shown: output limit)\n", shown, want);
    return o.len;
}
