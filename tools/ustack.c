/* ustack: the command line. `ustack up` runs the stack as a daemon on a TAP device; the other
 * commands talk to a running daemon through its control socket. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <ustack.h>
#include <ustack_client.h>

#include "get.h"
#include "lookup.h"
#include "netstat.h"
#include "ping.h"
#include "runtime/bridge.h"
#include "runtime/daemon.h"
#include "services.h"
#include "wire/wire.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: ustack up --tap NAME --addr IP/PREFIX [--gateway IP] [--mac MAC] [--mtu N]\n"
            "                 [--host-addr IP/PREFIX] [--serve LIST] [--pcap FILE]\n"
            "                 [--impair SPEC] [--ctl PATH] [--ctl-mode MODE] [--trace]\n"
            "                 [--no-offload] [--seed N] [--dns IP] [--client-sockets N]\n"
            "                 [--client-memory BYTES] [--http-idle-timeout SEC]\n"
            "                 [--http-head-timeout SEC] [--http-send-timeout SEC]\n"
            "                 [--http-max-conns N] [--http-max-memory BYTES] [--ecn MODE]\n"
            "       ustack run [--ctl PATH] -- PROGRAM [ARGS...]\n"
            "       ustack ping [-c COUNT] [-s SIZE] [-i SEC] [-W SEC] HOST\n"
            "       ustack netstat [-a] [-n] [-p] [-s] [-i]\n"
            "       ustack lookup NAME [--server IP] [--tries N] [--timeout MS]\n"
            "       ustack get URL [-o FILE] [--dns IP]\n"
            "       ustack connect HOST PORT\n"
            "       ustack bridge [--impair SPEC] [--impair-ab SPEC] [--impair-ba SPEC]\n"
            "                     [--seed N] [--quiet] PORT_A PORT_B\n"
            "       ustack --version | --help\n"
            "Client commands find the daemon at --ctl PATH, $USTACK_CTL or "
            "/run/ustack/ustack.ctl.\n"
            "--serve takes a comma list of echo, discard, chargen (UDP and TCP), http=DIR (TCP 80).\n"
            "--impair takes e.g. loss=0.05,dup=0.01,reorder=0.02,corrupt=0.001,delay=5ms,seed=7\n"
            "  (corrupt flips a bit past the Ethernet header, never in ARP: what escapes the FCS;\n"
            "   biterr=P flips a bit anywhere on the wire, and the receiver's FCS check drops it;\n"
            "   ce=P marks an ECN-capable IPv4 packet Congestion Experienced;\n"
            "   early=P sends a frame at once, past the delay; blackout_len=10ms,\n"
            "   blackout_every=1s drops what is sent 10 ms of every second)\n"
            "--ecn takes 0 or off, 1 or on (ask and accept), 2 or passive (accept; the default)\n"
            "bridge: a PORT is tap:NAME[@NETNS] (a TAP it opens or creates, plain frames) or\n"
            "  packet:IFNAME[@NETNS] (AF_PACKET on an existing interface, e.g. a daemon's TAP);\n"
            "  NETNS is a name in /run/netns or a path. --impair applies to both directions\n"
            "  (b->a with a seed derived from a->b's), --impair-ab/--impair-ba to one. Counters\n"
            "  print on SIGINT/SIGTERM (exit) and SIGUSR1.\n");
}

static int
parse_prefix(const char *s, us_ip4_t *addr, uint8_t *prefix)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%s", s);
    char *slash = strchr(buf, '/');
    long p = 32;
    if (slash) {
        *slash = '\0';
        char *end;
        p = strtol(slash + 1, &end, 10);
        if (*end || p < 0 || p > 32)
            return -EINVAL;
    }
    if (us_ip4_aton(buf, addr) < 0)
        return -EINVAL;
    *prefix = (uint8_t)p;
    return 0;
}

/* apps/ plugged into the daemon: the --serve services and netstat's text (the runtime names no
 * application). */
static int
svc_start(void **state, const void *arg, struct us_stack *st, const char *list, us_time_t now)
{
    struct us_services *s = NULL;
    int err = us_services_start_limits(&s, st, list, arg, now);
    *state = s;
    return err;
}

static void
svc_run(void *state, struct us_stack *st, us_time_t now)
{
    us_services_run(state, st, now);
}

static us_time_t
svc_next_deadline(const void *state)
{
    return us_services_next_deadline(state);
}

static void
svc_stop(void *state, struct us_stack *st, us_time_t now)
{
    us_services_stop(state, st, now);
}

static size_t
svc_stats(const void *state, char *buf, size_t cap)
{
    return us_services_format_stats(state, buf, cap);
}

static const struct us_daemon_services tool_services = {
    .start = svc_start,
    .stats = svc_stats,
    .error = us_services_error,
    .run = svc_run,
    .next_deadline = svc_next_deadline,
    .stop = svc_stop,
    .netstat = us_netstat_format,
};

enum { OPT_TAP = 256, OPT_ADDR, OPT_GW, OPT_MAC, OPT_MTU, OPT_HOST, OPT_SERVE, OPT_PCAP,
       OPT_IMPAIR, OPT_CTL, OPT_TRACE, OPT_VNET, OPT_SEED, OPT_SERVER, OPT_TRIES, OPT_TIMEOUT,
       OPT_DNS, OPT_CTL_MODE, OPT_CLIENT_SOCKETS, OPT_CLIENT_MEMORY, OPT_NO_OFFLOAD,
       OPT_HTTP_IDLE, OPT_HTTP_HEAD, OPT_HTTP_SEND, OPT_HTTP_CONNS, OPT_HTTP_MEMORY, OPT_ECN,
       OPT_IMPAIR_AB, OPT_IMPAIR_BA, OPT_QUIET, OPT_HELP };

/* Seconds, with a fraction ("2.5"), at most a day; 0 turns the limit off. */
static int
parse_secs(const char *s, us_time_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0 && v <= 86400))
        return -EINVAL;
    *out = (us_time_t)(v * 1e9);
    return 0;
}

static int
cmd_up(int argc, char **argv)
{
    static const struct option lo[] = {
        {"tap", 1, 0, OPT_TAP},       {"addr", 1, 0, OPT_ADDR},     {"gateway", 1, 0, OPT_GW},
        {"mac", 1, 0, OPT_MAC},       {"mtu", 1, 0, OPT_MTU},       {"host-addr", 1, 0, OPT_HOST},
        {"serve", 1, 0, OPT_SERVE},   {"pcap", 1, 0, OPT_PCAP},     {"impair", 1, 0, OPT_IMPAIR},
        {"ctl", 1, 0, OPT_CTL},       {"trace", 0, 0, OPT_TRACE},   {"vnet", 0, 0, OPT_VNET},
        {"seed", 1, 0, OPT_SEED},     {"dns", 1, 0, OPT_DNS},
        {"ctl-mode", 1, 0, OPT_CTL_MODE}, {"client-sockets", 1, 0, OPT_CLIENT_SOCKETS},
        {"client-memory", 1, 0, OPT_CLIENT_MEMORY}, {"no-offload", 0, 0, OPT_NO_OFFLOAD},
        {"http-idle-timeout", 1, 0, OPT_HTTP_IDLE}, {"http-head-timeout", 1, 0, OPT_HTTP_HEAD},
        {"http-send-timeout", 1, 0, OPT_HTTP_SEND}, {"http-max-conns", 1, 0, OPT_HTTP_CONNS}, {"http-max-memory", 1, 0, OPT_HTTP_MEMORY},
        {"ecn", 1, 0, OPT_ECN},
        {0, 0, 0, 0}};
    struct us_services_limits lim;
    us_services_limits_default(&lim);
    struct us_daemon_services services = tool_services;
    services.arg = &lim;
    struct us_daemon_opts o = {.services = &services};
    /* RFC 6528: the keys behind ISNs, ports and SYN cookies must be secret, so the seed is
     * random unless --seed asks for a run that replays. */
    if (getrandom(&o.seed, sizeof(o.seed), 0) != (ssize_t)sizeof(o.seed))
        o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    bool have_addr = false;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case OPT_TAP:
            o.tap = optarg;
            break;
        case OPT_ADDR:
            if (parse_prefix(optarg, &o.addr, &o.prefix_len) < 0)
                goto bad;
            have_addr = true;
            break;
        case OPT_GW:
            if (us_ip4_aton(optarg, &o.gateway) < 0)
                goto bad;
            break;
        case OPT_MAC:
            if (us_mac_aton(optarg, o.mac) < 0)
                goto bad;
            o.mac_set = true;
            break;
        case OPT_MTU: {
            char *end;
            long m = strtol(optarg, &end, 10);
            if (*end || m < 68 || m > 65535)
                goto bad;
            o.mtu = (uint16_t)m;
            break;
        }
        case OPT_HOST:
            if (parse_prefix(optarg, &o.host_addr, &o.host_prefix) < 0)
                goto bad;
            break;
        case OPT_SERVE:
            o.serve = optarg;
            break;
        case OPT_PCAP:
            o.pcap = optarg;
            break;
        case OPT_IMPAIR:
            o.impair = optarg;
            break;
        case OPT_CTL:
            o.ctl = optarg;
            break;
        case OPT_CTL_MODE: {
            char *end;
            unsigned long m = strtoul(optarg, &end, 8);
            if (*end || m == 0 || m > 0777)
                goto bad;
            o.ctl_mode = (unsigned)m;
            break;
        }
        case OPT_CLIENT_SOCKETS: {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || n == 0)
                goto bad;
            o.client_sockets = n;
            break;
        }
        case OPT_CLIENT_MEMORY: {
            char *end;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (*end || n == 0)
                goto bad;
            o.client_memory = (size_t)n;
            break;
        }
        case OPT_HTTP_IDLE:
            if (parse_secs(optarg, &lim.http_idle_timeout) < 0)
                goto bad;
            break;
        case OPT_HTTP_HEAD:
            if (parse_secs(optarg, &lim.http_head_timeout) < 0)
                goto bad;
            break;
        case OPT_HTTP_SEND:
            if (parse_secs(optarg, &lim.http_send_timeout) < 0)
                goto bad;
            break;
        case OPT_HTTP_CONNS:
        case OPT_HTTP_MEMORY: {
            char *end;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (*end || n == 0 || optarg[0] == '-')
                goto bad;
            if (c == OPT_HTTP_CONNS)
                lim.http_max_conns = (size_t)n;
            else
                lim.http_max_memory = (size_t)n;
            break;
        }
        case OPT_TRACE:
            o.trace = true;
            break;
        case OPT_VNET: /* offloads are the default now: kept so old command lines still work */
            o.no_offload = false;
            break;
        case OPT_NO_OFFLOAD:
            o.no_offload = true;
            break;
        case OPT_ECN: { /* the values of Linux's net.ipv4.tcp_ecn, or their names */
            static const char *const names[] = {"off", "on", "passive"};
            int m = -1;
            for (int k = 0; k < 3; k++)
                if (strcmp(optarg, names[k]) == 0 || (optarg[0] == '0' + k && !optarg[1]))
                    m = k;
            if (m < 0)
                goto bad;
            o.ecn_set = true;
            o.ecn = (uint8_t)m;
            break;
        }
        case OPT_SEED:
            o.seed = strtoull(optarg, NULL, 0);
            break;
        case OPT_DNS:
            if (us_ip4_aton(optarg, &o.dns) < 0)
                goto bad;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o.tap || !have_addr) {
        fprintf(stderr, "ustack up: --tap and --addr are required\n");
        return 2;
    }
    return us_daemon_run(&o) == 0 ? 0 : 1;
bad:
    fprintf(stderr, "ustack up: bad value '%s'\n", optarg);
    return 2;
}

static struct usc *
client_open(const char *ctl)
{
    int err = 0;
    struct usc *c = usc_open(ctl, &err);
    if (!c)
        fprintf(stderr, "ustack: cannot reach the daemon at %s: %s (is `ustack up` running?)\n",
                usc_default_path(ctl), strerror(-err));
    return c;
}

static int
cmd_ping(int argc, char **argv)
{
    static const struct option lo[] = {{"ctl", 1, 0, OPT_CTL}, {0, 0, 0, 0}};
    struct us_ping_opts o = {.count = 0, .size = 56, .interval = 1.0};
    const char *ctl = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "c:s:i:W:", lo, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.count = atoi(optarg);
            break;
        case 's':
            o.size = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 'i':
            o.interval = atof(optarg);
            break;
        case 'W':
            o.timeout = atof(optarg);
            break;
        case OPT_CTL:
            ctl = optarg;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || us_ip4_aton(argv[optind], &o.dst) < 0) {
        fprintf(stderr, "ustack ping: give one IPv4 address (names: use `ustack lookup`)\n");
        return 2;
    }
    o.dst_text = argv[optind];
    struct usc *cl = client_open(ctl);
    if (!cl)
        return 2;
    int rc = us_ping_run(cl, &o, stdout);
    usc_close(cl);
    return rc;
}

static int
cmd_netstat(int argc, char **argv)
{
    static const struct option lo[] = {{"ctl", 1, 0, OPT_CTL}, {0, 0, 0, 0}};
    const char *ctl = NULL;
    int flags = 0, c;
    while ((c = getopt_long(argc, argv, "anspie", lo, NULL)) != -1) {
        switch (c) {
        case 'a':
            flags |= US_NETSTAT_ALL;
            break;
        case 'p':
            flags |= US_NETSTAT_PROGRAM;
            break;
        case 'n':
            flags |= US_NETSTAT_NUMERIC;
            break;
        case 's':
            flags |= US_NETSTAT_STATS;
            break;
        case 'i':
        case 'e':
            flags |= US_NETSTAT_INFO;
            break;
        case OPT_CTL:
            ctl = optarg;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    struct usc *cl = client_open(ctl);
    if (!cl)
        return 2;
    static char buf[65536];
    ssize_t n = usc_netstat(cl, flags, buf, sizeof(buf));
    usc_close(cl);
    if (n < 0) {
        fprintf(stderr, "ustack netstat: %s\n", strerror((int)-n));
        return 1;
    }
    fputs(buf, stdout);
    return 0;
}

static int
cmd_lookup(int argc, char **argv)
{
    static const struct option lo[] = {{"ctl", 1, 0, OPT_CTL},
                                       {"server", 1, 0, OPT_SERVER},
                                       {"tries", 1, 0, OPT_TRIES},
                                       {"timeout", 1, 0, OPT_TIMEOUT},
                                       {0, 0, 0, 0}};
    const char *ctl = NULL;
    us_ip4_t server = 0;
    struct us_dns_opts opts = {US_DNS_DEFAULT_TRIES, US_DNS_DEFAULT_TIMEOUT_MS};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case OPT_CTL:
            ctl = optarg;
            break;
        case OPT_SERVER:
            if (us_ip4_aton(optarg, &server) < 0) {
                fprintf(stderr, "ustack lookup: bad server address '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_TRIES:
            opts.tries = atoi(optarg);
            break;
        case OPT_TIMEOUT:
            opts.timeout_ms = atoi(optarg);
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "ustack lookup: usage: ustack lookup NAME [--server IP]\n");
        return 2;
    }
    struct usc *cl = client_open(ctl);
    if (!cl)
        return 2;
    if (!server && !(server = usc_dns_server(cl))) {
        fprintf(stderr, "ustack lookup: no --server given and the daemon has no --dns\n");
        usc_close(cl);
        return 2;
    }
    struct us_dns_result res;
    const char *name = argv[optind];
    int err = us_lookup(cl, server, name, &opts, &res);
    usc_close(cl);
    if (err < 0) {
        fprintf(stderr, "ustack lookup: %s: %s\n", name, us_dns_strerror(err));
        return 1;
    }
    char a[16];
    printf("Server:  %s#53\n\n", us_ip4_ntoa(server, a));
    if (res.canonical[0] && strcasecmp(res.canonical, name) != 0)
        printf("%s\tcanonical name = %s.\n", name, res.canonical);
    for (size_t i = 0; i < res.n_addrs; i++)
        printf("Name:    %s\nAddress: %s\n", res.canonical[0] ? res.canonical : name,
               us_ip4_ntoa(res.addrs[i], a));
    if (res.truncated)
        printf("(answer was truncated; showing the complete records it held)\n");
    return 0;
}

static int
cmd_get(int argc, char **argv)
{
    static const struct option lo[] = {{"ctl", 1, 0, OPT_CTL}, {"dns", 1, 0, OPT_DNS}, {0, 0, 0, 0}};
    const char *ctl = NULL, *outpath = NULL;
    us_ip4_t dns = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
        switch (c) {
        case 'o':
            outpath = optarg;
            break;
        case OPT_CTL:
            ctl = optarg;
            break;
        case OPT_DNS:
            if (us_ip4_aton(optarg, &dns) < 0) {
                fprintf(stderr, "ustack get: bad --dns address\n");
                return 2;
            }
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "ustack get: usage: ustack get URL [-o FILE]\n");
        return 2;
    }
    struct usc *cl = client_open(ctl);
    if (!cl)
        return 2;
    if (!dns)
        dns = usc_dns_server(cl);
    FILE *out = stdout;
    if (outpath && !(out = fopen(outpath, "wb"))) {
        fprintf(stderr, "ustack get: %s: %s\n", outpath, strerror(errno));
        usc_close(cl);
        return 2;
    }
    int err = us_get(cl, argv[optind], dns, out, stderr);
    if (out != stdout && fclose(out) != 0 && !err)
        err = -EIO;
    usc_close(cl);
    return err ? 1 : 0;
}

static int
cmd_connect(int argc, char **argv)
{
    static const struct option lo[] = {{"ctl", 1, 0, OPT_CTL}, {0, 0, 0, 0}};
    const char *ctl = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c != OPT_CTL) {
            usage(stderr);
            return 2;
        }
        ctl = optarg;
    }
    us_ip4_t addr;
    char *end = NULL;
    long port = optind + 2 == argc ? strtol(argv[optind + 1], &end, 10) : 0;
    if (optind + 2 != argc || us_ip4_aton(argv[optind], &addr) < 0 || *end || port < 1 ||
        port > 65535) {
        fprintf(stderr, "ustack connect: usage: ustack connect IPv4 PORT\n");
        return 2;
    }
    struct usc *cl = client_open(ctl);
    if (!cl)
        return 2;
    int err = us_connect_pipe(cl, addr, (uint16_t)port, stderr);
    usc_close(cl);
    return err ? 1 : 0;
}

/* ustack bridge: two ports joined through seeded impairers (src/runtime/bridge.h). */
static int
cmd_bridge(int argc, char **argv)
{
    static const struct option lo[] = {
        {"impair", 1, 0, OPT_IMPAIR}, {"impair-ab", 1, 0, OPT_IMPAIR_AB},
        {"impair-ba", 1, 0, OPT_IMPAIR_BA}, {"seed", 1, 0, OPT_SEED},
        {"quiet", 0, 0, OPT_QUIET}, {"help", 0, 0, OPT_HELP}, {0, 0, 0, 0}};
    struct us_bridge_opts o = {.seed = 1};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case OPT_IMPAIR:
            o.impair = optarg;
            break;
        case OPT_IMPAIR_AB:
            o.impair_dir[0] = optarg;
            break;
        case OPT_IMPAIR_BA:
            o.impair_dir[1] = optarg;
            break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            o.seed = strtoull(optarg, &end, 0);
            if (errno || *end || !*optarg) {
                fprintf(stderr, "ustack bridge: bad --seed '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case OPT_QUIET:
            o.quiet = true;
            break;
        case OPT_HELP:
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind + 2 != argc) {
        fprintf(stderr, "ustack bridge: give two ports, e.g. tap:br0@nsA packet:tap1@nsB\n");
        return 2;
    }
    o.port[0] = argv[optind];
    o.port[1] = argv[optind + 1];
    int err = us_bridge_run(&o);
    return err == 0 ? 0 : err == -EINVAL ? 2 : 1;
}

#ifndef USTACK_PRELOAD_PATH
#define USTACK_PRELOAD_PATH "/usr/local/lib/libustack-preload.so"
#endif

/* The preload library: next to this program (a build tree), else where it is installed. */
static const char *
preload_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n > 0) {
        buf[n] = 0;
        char *slash = strrchr(buf, '/');
        if (slash && (size_t)(slash - buf) + sizeof("/libustack-preload.so") <= len) {
            strcpy(slash, "/libustack-preload.so");
            if (access(buf, R_OK) == 0)
                return buf;
        }
    }
    return access(USTACK_PRELOAD_PATH, R_OK) == 0 ? USTACK_PRELOAD_PATH : NULL;
}

/* ustack run: PROGRAM with its IPv4 TCP and UDP sockets in the daemon (doc/run.md). */
static int
cmd_run(int argc, char **argv)
{
    const char *ctl = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--ctl") == 0 && i + 1 < argc) {
            ctl = argv[++i];
            continue;
        }
        if (argv[i][0] == '-') {
            usage(stderr);
            return 2;
        }
        break; /* the program, without a "--" before it */
    }
    if (i >= argc) {
        fprintf(stderr, "ustack run: usage: ustack run [--ctl PATH] -- PROGRAM [ARGS...]\n");
        return 2;
    }
    /* The daemon must be there: a program that cannot reach it would get no network at all. */
    struct usc *cl = client_open(ctl);
    if (!cl)
        return 2;
    usc_close(cl);
    char path[PATH_MAX], lib[PATH_MAX];
    const char *p = usc_default_path(ctl);
    if (p[0] != '/') { /* the program may change directory */
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)) ||
            snprintf(path, sizeof(path), "%s/%s", cwd, p) >= (int)sizeof(path)) {
            fprintf(stderr, "ustack run: control socket path too long\n");
            return 2;
        }
        p = path;
    }
    const char *so = preload_path(lib, sizeof(lib));
    if (!so) {
        fprintf(stderr, "ustack run: libustack-preload.so is neither next to ustack nor at %s\n",
                USTACK_PRELOAD_PATH);
        return 2;
    }
    const char *old = getenv("LD_PRELOAD");
    size_t n = strlen(so) + (old ? strlen(old) + 2 : 1);
    char *pre = malloc(n);
    if (!pre)
        return 2;
    snprintf(pre, n, "%s%s%s", so, old && *old ? " " : "", old ? old : "");
    setenv("LD_PRELOAD", pre, 1);
    setenv("USTACK_CTL", p, 1);
    free(pre);
    execvp(argv[i], argv + i);
    fprintf(stderr, "ustack run: %s: %s\n", argv[i], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    argc--;
    argv++;
    if (strcmp(cmd, "up") == 0)
        return cmd_up(argc, argv);
    if (strcmp(cmd, "ping") == 0)
        return cmd_ping(argc, argv);
    if (strcmp(cmd, "netstat") == 0)
        return cmd_netstat(argc, argv);
    if (strcmp(cmd, "lookup") == 0)
        return cmd_lookup(argc, argv);
    if (strcmp(cmd, "get") == 0)
        return cmd_get(argc, argv);
    if (strcmp(cmd, "connect") == 0)
        return cmd_connect(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "bridge") == 0)
        return cmd_bridge(argc, argv);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("ustack %s\n", us_version());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "ustack: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
