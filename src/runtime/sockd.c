/* Descriptor sockets: the daemon's side of `ustack run` (doc/run.md). Layer: runtime.
 *
 * Each descriptor socket is a stack socket and the daemon's end of an AF_UNIX pair whose other
 * end a program holds. A pump moves bytes between them: from the pair into TCP only as far as
 * the send buffer has room, from TCP into the pair only as far as the pair takes them (what it
 * does not take stays in the stack, whose window then closes), so back-pressure runs end to end.
 * The pump is driven by both sides' readiness, edge-triggered: epoll on the pair end, the
 * stack's ready list on the socket. A pump that stops on its work budget rather than on a
 * blocked side is queued to continue (us_sockd_run). Nothing here blocks. */
#include "runtime/sockd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/types.h"

#define BOUNCE (64 * 1024)
#define PUMP_BUDGET (256 * 1024) /* bytes per direction per pump call */
#define INO_BUCKETS 4096         /* power of two; chains grow with the sockets */
#define DGRAM_PAIR_MEM (2 * 212992) /* a SEQPACKET pair keeps the kernel's default buffers */
/* At most this many bytes of the program's data are sent to TCP from a peek and left in the
 * pair (take_peeked). Bound: each byte may be a write of its own, an skb of about 1 KiB
 * charged to the program's end, and the end stays writable (POLLOUT) while a quarter of its
 * send buffer (256 KiB at least: ds_init, the library's restore_sndbuf) is free. */
#define PEEK_MAX 64

/* A socket-diagnostics socket in some network namespace, shared by the sockets made there. */
struct us_sockd_diag {
    int fd;
    unsigned refs;
};

static void
diag_put(struct us_sockd_diag *g)
{
    if (g && --g->refs == 0) {
        close(g->fd);
        free(g);
    }
}

enum ds_state {
    DS_OPEN,       /* made, not connected or listening */
    DS_CONNECTING, /* TCP handshake under way; the program's end is kept unwritable */
    DS_DATA,       /* connected TCP, or any UDP socket: the pump runs */
    DS_LISTEN,
    DS_DONE,       /* TCP failed or reset: the pair is shut both ways, the socket waits for the
                    * program to close */
    DS_LINGER,     /* closed with SO_LINGER's time: the pair is gone, TCP sends its FIN and the
                    * program's close waits until it is acknowledged or the time is up */
};

struct ds {
    struct us_evh io;           /* epoll on dfd (first member) */
    struct us_ready_handler rd; /* the stack's ready list on sfd */
    struct us_sockd *sd;
    struct us_sockd_owner *owner;
    struct us_sockd_diag *diag; /* where the pair lives, when not in the daemon's namespace */
    int dfd;                    /* the daemon's end of the pair */
    int sfd;                    /* the stack's descriptor */
    int type;                   /* US_SOCK_STREAM or US_SOCK_DGRAM */
    int family;                 /* AF_INET or AF_INET6, as the program asked */
    ino_t ino;                  /* the program's end */
    ino_t dino;                 /* ours */
    size_t mem;                 /* pair buffer bytes charged to the owner */
    enum ds_state state;
    int err;                    /* pending error for SO_ERROR (positive errno) */
    uint16_t slot;              /* its error hint (ctl_proto.h); 0: none */
    bool hinted;                /* it counts in its slot: err waits, the pair cannot tell */
    size_t filler;              /* filler bytes at the head of dfd's input */
    bool hup;                   /* every copy of the program's end is closed */
    bool rdhup;                 /* epoll said the program's data ends (shutdown or close) */
    bool rd_eof;                /* the program's data ended (read 0) */
    bool wr_eof;                /* the stack's data ended: dfd shut for writing */
    bool shut_rd;               /* the program shut down reading */
    bool queued;                /* on the continue list */
    bool out_armed;             /* epoll watches dfd for room too (see want_room) */
    bool rd_more;               /* dfd may hold input: set by epoll's edge, cleared by a read
                                 * that found it empty (no read only to learn EAGAIN) */
    bool urg;                   /* the program sent MSG_OOB: dfd's input holds a mark (EPOLLPRI) */
    bool bulk;                  /* the last read of the program's data was more than PEEK_MAX */
    size_t peeked;              /* bytes at the head of dfd's input already sent to TCP */
    struct ds *hnext;           /* inode hash chain */
    struct ds *qnext;           /* continue list */
    size_t heap_i;              /* 1 + its place in the deadline heap; 0: not there */
    us_time_t due;              /* its deadline there */
    struct us_sockd_waiter *waiter; /* the program's close waiting for this one (DS_LINGER) */
    us_time_t hup_at;           /* when the daemon saw the program close (0: not yet) */
    us_time_t linger_until;     /* DS_LINGER: when the close stops waiting */
    /* listeners: connections taken from the stack, one token byte each in the pair; a queue
     * from acq[acq_head] to acq[acq_tail - 1] */
    int *acq;
    size_t acq_head, acq_tail, acq_cap, backlog;
};

struct us_sockd {
    struct us_stack *st;
    int ep;
    int diag;                   /* NETLINK_SOCK_DIAG, to ask whether a program's end still lives */
    uint32_t diag_seq;
    struct us_sockd_limits lim;
    struct ds *hash[INO_BUCKETS];
    struct ds *cont;            /* pumps to continue */
    struct ds **heap;           /* sockets with a deadline (lingering closes), soonest first */
    size_t heap_n, heap_cap;
    void (*link_read)(void *ctx); /* reads what the link brought, into the stack */
    void *link_ctx;
    int hints_fd;               /* the error hints (ctl_proto.h), a memory file shared with clients */
    _Atomic uint32_t *hints;
    struct ds **by_sfd;         /* stack descriptor -> socket, for netstat -p */
    size_t by_sfd_n;
    int *dead;                  /* ends of pairs to close once this iteration's requests are in */
    size_t n_dead, cap_dead;
    struct us_sockd_stats stats;
    uint8_t bounce[sizeof(struct us_ds_dgram) + BOUNCE];
};

int
us_sockd_hints_fd(const struct us_sockd *sd)
{
    return sd->hints ? sd->hints_fd : -1;
}

/* A reset connection's error waits: the program's writes ask for it before writing, since the
 * pair would say EPIPE, with SIGPIPE (doc/run.md, Closing). */
static void
hint_on(struct ds *s)
{
    if (s->hinted || !s->slot || !s->sd->hints)
        return;
    atomic_fetch_add_explicit(&s->sd->hints[s->slot], 1, memory_order_relaxed);
    s->hinted = true;
}

static void
hint_off(struct ds *s)
{
    if (!s->hinted)
        return;
    atomic_fetch_sub_explicit(&s->sd->hints[s->slot], 1, memory_order_relaxed);
    s->hinted = false;
}

/* The slot of a socket the daemon made: from its inode, so spread like the sockets. */
static uint16_t
hint_slot(ino_t ino)
{
    return (uint16_t)(1 + (ino * 0x9e3779b97f4a7c15ull >> 32) % (US_CTL_HINT_SLOTS - 1));
}

void
us_sockd_limits_default(struct us_sockd_limits *l)
{
    l->socks_per_client = 65536;
    l->mem_per_client = (size_t)4 << 30;
    l->pair_buf = 256 * 1024;
}

struct us_sockd *
us_sockd_new(struct us_stack *st, int epfd, const struct us_sockd_limits *l)
{
    struct us_sockd *sd = calloc(1, sizeof(*sd));
    if (!sd)
        return NULL;
    sd->st = st;
    sd->ep = epfd;
    sd->diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    /* Sealed at its size (a client can never make the daemon's stores fault), and against
     * writes but through the daemon's own mapping, made first (a client can map it only to
     * read: no program can change another's hints). */
    size_t hl = US_CTL_HINT_SLOTS * sizeof(*sd->hints);
    sd->hints_fd = memfd_create("ustack-error-hints", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    void *m = MAP_FAILED;
    if (sd->hints_fd >= 0 && ftruncate(sd->hints_fd, (off_t)hl) == 0 &&
        fcntl(sd->hints_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0)
        m = mmap(NULL, hl, PROT_READ | PROT_WRITE, MAP_SHARED, sd->hints_fd, 0);
    if (m != MAP_FAILED &&
        fcntl(sd->hints_fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) != 0) {
        munmap(m, hl);
        m = MAP_FAILED;
    }
    if (m != MAP_FAILED) {
        sd->hints = m;
    } else if (sd->hints_fd >= 0) { /* writes then raise SIGPIPE as before (run.md) */
        close(sd->hints_fd);
        sd->hints_fd = -1;
    }
    if (l)
        sd->lim = *l;
    else
        us_sockd_limits_default(&sd->lim);
    return sd;
}

struct us_sockd_owner *
us_sockd_owner_new(struct us_sockd *sd, pid_t pid, uid_t uid)
{
    struct us_sockd_owner *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->pid = pid;
    o->uid = uid;
    o->refs = 1;
    o->max_socks = sd->lim.socks_per_client;
    o->max_mem = sd->lim.mem_per_client;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    if (f) {
        if (fgets(o->comm, sizeof(o->comm), f))
            o->comm[strcspn(o->comm, "\n")] = 0;
        fclose(f);
    }
    if (!o->comm[0])
        snprintf(o->comm, sizeof(o->comm), "?");
    return o;
}

void
us_sockd_owner_put(struct us_sockd_owner *o)
{
    if (o && --o->refs == 0) {
        diag_put(o->diag);
        free(o);
    }
}

void
us_sockd_owner_diag(struct us_sockd_owner *o, int fd)
{
    int dom = 0, proto = 0;
    socklen_t dl = sizeof(dom), pl = sizeof(proto);
    struct us_sockd_diag *g = NULL;
    if (!o->diag && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) == 0 && dom == AF_NETLINK &&
        getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) == 0 && proto == NETLINK_SOCK_DIAG &&
        (g = calloc(1, sizeof(*g)))) {
        g->fd = fd;
        g->refs = 1;
        o->diag = g;
        return;
    }
    close(fd);
}

/* A socket's pair buffers and its count belong to one owner at a time. */
static void
owner_charge(struct ds *s, struct us_sockd_owner *o)
{
    o->refs++;
    o->n_socks++;
    o->mem += s->mem;
    s->owner = o;
}

static void
owner_uncharge(struct ds *s)
{
    struct us_sockd_owner *o = s->owner;
    s->owner = NULL;
    o->n_socks--;
    o->mem -= s->mem;
    us_sockd_owner_put(o);
}

/* ---- the socket table ------------------------------------------------------------------------ */

static size_t
ino_bucket(ino_t ino)
{
    return (size_t)(ino * 0x9e3779b97f4a7c15ull >> 40) & (INO_BUCKETS - 1);
}

static struct ds *
ds_by_ino(struct us_sockd *sd, ino_t ino)
{
    for (struct ds *s = sd->hash[ino_bucket(ino)]; s; s = s->hnext)
        if (s->ino == ino)
            return s;
    return NULL;
}

/* The descriptor socket a program's descriptor names, or NULL. */
static struct ds *
ds_by_fd(struct us_sockd *sd, int fd)
{
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode))
        return NULL;
    return ds_by_ino(sd, sb.st_ino);
}

static void
sfd_map(struct us_sockd *sd, int sfd, struct ds *s)
{
    if (sfd < 0)
        return;
    if ((size_t)sfd >= sd->by_sfd_n) {
        size_t n = sd->by_sfd_n ? sd->by_sfd_n : 256;
        while (n <= (size_t)sfd)
            n *= 2;
        struct ds **p = realloc(sd->by_sfd, n * sizeof(*p));
        if (!p)
            return; /* netstat -p then shows no owner for it */
        memset(p + sd->by_sfd_n, 0, (n - sd->by_sfd_n) * sizeof(*p));
        sd->by_sfd = p;
        sd->by_sfd_n = n;
    }
    sd->by_sfd[sfd] = s;
}

static void
cont_remove(struct us_sockd *sd, struct ds *s)
{
    if (!s->queued)
        return;
    for (struct ds **pp = &sd->cont; *pp; pp = &(*pp)->qnext)
        if (*pp == s) {
            *pp = s->qnext;
            break;
        }
    s->queued = false;
}

/* Closes the ends of pairs put off by close_later. */
static void
close_dead(struct us_sockd *sd)
{
    for (size_t i = 0; i < sd->n_dead; i++)
        close(sd->dead[i]);
    sd->n_dead = 0;
}

/* The last close of an AF_UNIX socket, while any AF_UNIX descriptor is in flight anywhere in
 * the system (sent in SCM_RIGHTS, not yet received), queues the kernel's garbage collector
 * (unix_release_sock: a work item and a kworker's wake-up, about a tenth of the daemon's time
 * per connection when measured). A program that closes a connection and opens the next one
 * has its US_CTL_DS_NEW and US_CTL_CONNECT, with their descriptors, in flight just as the
 * daemon learns of the close: so the daemon's end is closed at the end of the loop's
 * iteration (us_sockd_run), after the requests that came with the hang-up were received. */
static void
close_later(struct us_sockd *sd, int fd)
{
    if (sd->n_dead == sd->cap_dead) {
        size_t n = sd->cap_dead ? 2 * sd->cap_dead : 64;
        int *p = realloc(sd->dead, n * sizeof(*p));
        if (!p) {
            close(fd);
            return;
        }
        sd->dead = p;
        sd->cap_dead = n;
    }
    sd->dead[sd->n_dead++] = fd;
}

static void take_peeked(struct ds *s);

/* ---- deadlines: a binary heap of the sockets that have one (lingering closes) --------------- */

static void
heap_put(struct us_sockd *sd, size_t i, struct ds *s)
{
    sd->heap[i] = s;
    s->heap_i = i + 1;
}

/* Moves the entry at i up or down to its place. */
static void
heap_fix(struct us_sockd *sd, size_t i)
{
    struct ds *s = sd->heap[i];
    while (i > 0 && s->due < sd->heap[(i - 1) / 2]->due) {
        heap_put(sd, i, sd->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= sd->heap_n)
            break;
        if (c + 1 < sd->heap_n && sd->heap[c + 1]->due < sd->heap[c]->due)
            c++;
        if (sd->heap[c]->due >= s->due)
            break;
        heap_put(sd, i, sd->heap[c]);
        i = c;
    }
    heap_put(sd, i, s);
}

/* Sets (or moves) s's deadline. False when there was no memory for it. */
static bool
timer_set(struct ds *s, us_time_t due)
{
    struct us_sockd *sd = s->sd;
    if (!s->heap_i) {
        if (sd->heap_n == sd->heap_cap) {
            size_t n = sd->heap_cap ? 2 * sd->heap_cap : 16;
            struct ds **p = realloc(sd->heap, n * sizeof(*p));
            if (!p)
                return false;
            sd->heap = p;
            sd->heap_cap = n;
        }
        heap_put(sd, sd->heap_n++, s);
    }
    s->due = due;
    heap_fix(sd, s->heap_i - 1);
    return true;
}

static void
timer_clear(struct ds *s)
{
    struct us_sockd *sd = s->sd;
    if (!s->heap_i)
        return;
    size_t i = s->heap_i - 1;
    s->heap_i = 0;
    struct ds *last = sd->heap[--sd->heap_n];
    if (i < sd->heap_n) {
        heap_put(sd, i, last);
        heap_fix(sd, i);
    }
}

us_time_t
us_sockd_next_deadline(const struct us_sockd *sd)
{
    return sd->heap_n ? sd->heap[0]->due : US_TIME_NEVER;
}

/* The close that waits for s is over (or its time is up): its held reply goes. */
static void
waiter_answer(struct ds *s)
{
    struct us_sockd_waiter *w = s->waiter;
    if (!w)
        return;
    s->waiter = NULL;
    w->on = NULL;
    w->fn(w, 0);
}

void
us_sockd_forget(struct us_sockd *sd, struct us_sockd_waiter *w)
{
    (void)sd;
    struct ds *s = w->on;
    if (!s)
        return;
    s->waiter = NULL;
    w->on = NULL;
    if (s->state != DS_LINGER)
        timer_clear(s); /* only the waiter needed it */
}

/* Ends a descriptor socket: the pair, the stack socket (closing it as Linux closes a socket its
 * program let go: FIN, or RST when data was left unread or SO_LINGER 0 says so), the entry. */
static void
ds_free(struct ds *s, us_time_t now)
{
    struct us_sockd *sd = s->sd;
    cont_remove(sd, s);
    timer_clear(s);
    waiter_answer(s);
    hint_off(s);
    for (struct ds **pp = &sd->hash[ino_bucket(s->ino)]; *pp; pp = &(*pp)->hnext)
        if (*pp == s) {
            *pp = s->hnext;
            break;
        }
    for (size_t i = s->acq_head; i < s->acq_tail; i++) {
        /* Connections nobody accepted are reset, as Linux's listener close does. */
        us_setsockopt(sd->st, s->acq[i], US_SO_LINGER, 0);
        us_close(sd->st, s->acq[i], now);
    }
    free(s->acq);
    if (s->sfd >= 0) {
        us_sock_watch(sd->st, s->sfd, 0, US_WATCH_EDGE, NULL);
        sfd_map(sd, s->sfd, NULL);
        us_close(sd->st, s->sfd, now);
    }
    if (s->dfd >= 0) {
        if (!s->hup) /* the program's end lives (the daemon stops): it reads end-of-file, */
            take_peeked(s); /* not the reset a close with bytes unread would give it */
        epoll_ctl(sd->ep, EPOLL_CTL_DEL, s->dfd, NULL);
        close_later(sd, s->dfd);
    }
    if (s->owner)
        owner_uncharge(s);
    diag_put(s->diag);
    sd->stats.sockets--;
    if (s->state == DS_LISTEN)
        sd->stats.listeners--;
    free(s);
}

void
us_sockd_free(struct us_sockd *sd, us_time_t now)
{
    if (!sd)
        return;
    for (size_t b = 0; b < INO_BUCKETS; b++)
        while (sd->hash[b])
            ds_free(sd->hash[b], now);
    close_dead(sd);
    free(sd->dead);
    free(sd->by_sfd);
    free(sd->heap);
    if (sd->hints) {
        munmap(sd->hints, US_CTL_HINT_SLOTS * sizeof(*sd->hints));
        close(sd->hints_fd);
    }
    if (sd->diag >= 0)
        close(sd->diag);
    free(sd);
}

static void ds_io(struct us_evh *h, uint32_t events, us_time_t now);
enum peer { PEER_GONE, PEER_ALIVE, PEER_UNKNOWN };
static enum peer peer_alive(struct us_sockd *sd, const struct ds *s);
static void ds_ready(struct us_ready_handler *h, struct us_stack *st, int fd, unsigned events,
                     us_time_t now);

static size_t
pair_mem(const struct us_sockd *sd, int type)
{
    return type == US_SOCK_STREAM ? 2 * sd->lim.pair_buf : DGRAM_PAIR_MEM;
}

/* Makes the entry for stack socket sfd with pair sv (ours, the program's). Returns 0 or -errno
 * (then the caller still owns sfd and sv). */
static int
ds_init(struct us_sockd *sd, struct us_sockd_owner *o, int sfd, int type, int family,
        const int sv[2], struct ds **out)
{
    size_t mem = pair_mem(sd, type);
    struct stat sb, db;
    if (fstat(sv[1], &sb) < 0 || fstat(sv[0], &db) < 0 || !S_ISSOCK(sb.st_mode) ||
        !S_ISSOCK(db.st_mode))
        return -EBADF;
    if (sb.st_ino == db.st_ino || ds_by_ino(sd, sb.st_ino))
        return -EEXIST;
    struct ds *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    /* dfd's blocking mode (the client's choice for a pair it made) does not matter: every
     * call on it says MSG_DONTWAIT. */
    if (type == US_SOCK_STREAM) {
        int b = (int)sd->lim.pair_buf;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &b, sizeof(b));
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &b, sizeof(b));
        /* The program's send(MSG_OOB) puts its last byte in our end's out-of-band slot: read
         * inline, where reads stop at it, rather than dropped (stream_from_program). */
        int one = 1, zero = 0;
        setsockopt(sv[0], SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
        /* Peeks go on after what earlier peeks took (take_peeked). */
        setsockopt(sv[0], SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero));
    }
    s->io.fn = ds_io;
    s->rd.fn = ds_ready;
    s->sd = sd;
    s->mem = mem;
    owner_charge(s, o);
    s->dfd = sv[0];
    s->sfd = sfd;
    s->type = type;
    s->family = family;
    s->ino = sb.st_ino;
    s->dino = db.st_ino;
    s->slot = type == US_SOCK_STREAM ? hint_slot(s->ino) : 0;
    s->state = type == US_SOCK_DGRAM ? DS_DATA : DS_OPEN;
    s->rd_more = true;
    size_t b = ino_bucket(s->ino);
    s->hnext = sd->hash[b];
    sd->hash[b] = s;
    sfd_map(sd, sfd, s);
    sd->stats.sockets++;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLET,
                             .data.ptr = &s->io};
    epoll_ctl(sd->ep, EPOLL_CTL_ADD, s->dfd, &ev);
    us_sock_watch(sd->st, sfd, US_POLLIN | US_POLLOUT, US_WATCH_EDGE, &s->rd);
    *out = s;
    return 0;
}

/* Makes the pair and the entry for stack socket sfd; returns the program's end (or -errno). */
static int
ds_make(struct us_sockd *sd, struct us_sockd_owner *o, int sfd, int type, int family,
        struct ds **out)
{
    if (o->n_socks >= o->max_socks)
        return -EMFILE;
    if (o->mem + pair_mem(sd, type) > o->max_mem)
        return -ENOBUFS;
    int sv[2];
    int kind = type == US_SOCK_STREAM ? SOCK_STREAM : SOCK_SEQPACKET;
    if (socketpair(AF_UNIX, kind | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    int err = ds_init(sd, o, sfd, type, family, sv, out);
    if (err < 0) {
        close(sv[0]);
        close(sv[1]);
        return err;
    }
    return sv[1];
}

uint32_t
us_sockd_grant(struct us_sockd *sd, struct us_sockd_owner *o)
{
    if (!o->diag) { /* the pairs it would make could not be watched */
        o->credit = 0;
        return 0;
    }
    size_t each = US_MAX(pair_mem(sd, US_SOCK_STREAM), pair_mem(sd, US_SOCK_DGRAM));
    size_t n = o->n_socks < o->max_socks ? o->max_socks - o->n_socks : 0;
    size_t m = o->mem < o->max_mem ? (o->max_mem - o->mem) / each : 0;
    o->credit = (uint32_t)US_MIN(US_MIN(n, m), (size_t)US_CTL_CREDIT_MAX);
    return o->credit;
}

/* ---- the pump ----------------------------------------------------------------------------- */

/* The pair was full: from now on epoll also says when the program has read (EPOLLOUT). Not
 * before: an AF_UNIX end reports room each time its reader takes data, so a pair watched for
 * room from the start woke the daemon once more for every reply the program read. The change
 * re-checks readiness, so room made meanwhile is not missed. */
static void
want_room(struct ds *s)
{
    if (s->out_armed)
        return;
    s->out_armed = true;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET,
                             .data.ptr = &s->io};
    epoll_ctl(s->sd->ep, EPOLL_CTL_MOD, s->dfd, &ev);
}

/* The program closed with data it never read (the kernel marks our end ECONNRESET): Linux resets
 * such a connection at once, whatever it still had to send; the close does (SO_LINGER 0). */
static void
reset_on_close(struct ds *s)
{
    s->rd_eof = true;
    s->hup = true;
    us_setsockopt(s->sd->st, s->sfd, US_SO_LINGER, 0);
    s->sd->stats.resets_on_close++;
}

static void
cont_add(struct us_sockd *sd, struct ds *s)
{
    if (s->queued)
        return;
    s->queued = true;
    s->qnext = sd->cont;
    sd->cont = s;
}

/* The TCP connection ended with an error (reset, timeout): no more data either way. */
static void
stream_fail(struct ds *s, int err)
{
    if (s->state == DS_DONE)
        return;
    s->err = err;
    s->state = DS_DONE;
    if (err)
        hint_on(s); /* before the shutdown the program can see */
    shutdown(s->dfd, SHUT_RDWR);
}

/* Takes off the pair the program's bytes that a peek sent to TCP. Reading them lets the
 * kernel wake the program's end for room (unix_write_space), and that wake-up ends any wait of
 * the program on its end, a blocking read's too, which then finds nothing and sleeps again: a
 * program that writes a request and waits in read for the answer was woken twice. So small
 * requests are peeked and left in the pair, up to PEEK_MAX bytes in all, and taken off when
 * that is full, or just before a response goes to the program once half of it is (then the
 * program that wakes for the room finds the response there, or is still waking), or before a
 * read that is not a peek. Bytes still peeked when the socket ends go with the pair. */
static void
take_peeked(struct ds *s)
{
    uint8_t sink[PEEK_MAX]; /* not the bounce buffer: it may hold data on its way */
    while (s->peeked > 0) {
        ssize_t n = recv(s->dfd, sink, US_MIN(s->peeked, sizeof(sink)), MSG_DONTWAIT);
        if (n <= 0) {
            s->peeked = 0; /* not there: nothing to take */
            return;
        }
        s->peeked -= (size_t)n;
    }
}

/* Stack -> program. Returns false when the budget ran out. */
static bool
stream_to_program(struct ds *s, us_time_t now)
{
    struct us_sockd *sd = s->sd;
    size_t moved = 0;
    while (!s->wr_eof && s->state == DS_DATA) {
        if (moved >= PUMP_BUDGET)
            return false;
        ssize_t n = us_recvfrom(sd->st, s->sfd, sd->bounce, BOUNCE, US_MSG_PEEK, NULL, NULL, now);
        if (n == -EAGAIN)
            return true; /* the stack's ready list tells when more comes */
        if (n < 0) {
            stream_fail(s, (int)-n);
            return true;
        }
        if (n == 0) { /* the peer's FIN: the program reads end-of-file after the data */
            shutdown(s->dfd, SHUT_WR);
            s->wr_eof = true;
            return true;
        }
        if (s->shut_rd) { /* Linux discards what arrives after SHUT_RD */
            us_recvfrom(sd->st, s->sfd, NULL, (size_t)n, US_MSG_TRUNC, NULL, NULL, now);
            continue;
        }
        if (s->peeked > PEEK_MAX / 2) /* before the data: after it, a quick program */
            take_peeked(s);           /* could be back in read already */
        ssize_t w = send(s->dfd, sd->bounce, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) {
                want_room(s);
                return true; /* epoll says when the program read some */
            }
            s->shut_rd = true; /* the program's end no longer reads */
            continue;
        }
        us_recvfrom(sd->st, s->sfd, NULL, (size_t)w, US_MSG_TRUNC, NULL, NULL, now);
        moved += (size_t)w;
        sd->stats.bytes_out += (uint64_t)w;
        if (w < n) {
            want_room(s);
            return true; /* the pair is full: epoll says when the program has read some */
        }
    }
    return true;
}

/* The program's send(MSG_OOB): its last byte sits in dfd's out-of-band slot, inline
 * (SO_OOBINLINE), and reads stop in front of it. At that mark the byte goes to TCP as urgent data
 * (RFC 9293 3.8.5: the urgent pointer marks it; RFC 6093: one byte, as BSD and Linux send).
 * Returns 1 when it went, 0 when the mark is not next, -1 when the connection failed. Asked only
 * after epoll reported the mark (EPOLLPRI), so ordinary reads cost no ioctl. Not covered: a mark
 * that arrives just as a read filled its buffer, and that the next read (before epoll's
 * EPOLLPRI is seen) finds first, is read inline and goes as ordinary data. */
static int
urgent_from_program(struct ds *s, us_time_t now)
{
    int at = 0;
    if (ioctl(s->dfd, SIOCATMARK, &at) < 0 || !at)
        return 0;
    uint8_t b;
    if (recv(s->dfd, &b, 1, MSG_DONTWAIT) != 1)
        return 0;
    s->urg = false; /* the slot holds one byte; a later one is a new EPOLLPRI */
    ssize_t k = us_sendto(s->sd->st, s->sfd, &b, 1, US_MSG_OOB, NULL, now);
    if (k != 1) {
        stream_fail(s, k < 0 ? (int)-k : EPIPE);
        return -1;
    }
    s->sd->stats.bytes_in++;
    return 1;
}

/* Program -> stack. Returns false when the budget ran out. */
static bool
stream_from_program(struct ds *s, us_time_t now)
{
    struct us_sockd *sd = s->sd;
    size_t moved = 0;
    while (!s->rd_eof && s->state == DS_DATA && s->rd_more) {
        if (moved >= PUMP_BUDGET)
            return false;
        /* Peek unless the program sends in bulk, or a mark waits (seen only at the head). A
         * peek past the end of the program's data reads 0, as a read does. */
        bool peek = !s->bulk && !s->urg;
        if (!peek)
            take_peeked(s);
        int space = 0;
        if (us_getsockopt(sd->st, s->sfd, US_SO_SNDSPACE, &space) < 0 || space <= 0)
            return true; /* TCP's ACKs free room, and the ready list tells */
        if (s->urg) {
            int u = urgent_from_program(s, now);
            if (u < 0)
                return true;
            if (u > 0) {
                moved++;
                continue;
            }
        }
        size_t want = US_MIN((size_t)space, (size_t)BOUNCE);
        if (peek && want <= PEEK_MAX) { /* TCP may not take what a peek finds */
            take_peeked(s);
            peek = false;
        }
        /* A peek reads what came after the bytes peeked before (SO_PEEK_OFF). */
        ssize_t n = recv(s->dfd, sd->bounce, peek ? PEEK_MAX - s->peeked + 1 : want,
                         MSG_DONTWAIT | (peek ? MSG_PEEK : 0));
        if (n < 0) {
            if (errno == EAGAIN) {
                s->rd_more = false;
                return true;
            }
            reset_on_close(s); /* ECONNRESET: read below the program's unread data */
            return true;
        }
        if (n == 0) { /* shutdown(SHUT_WR), or the last close: FIN after the data */
            s->rd_eof = true;
            /* The hang-up may not have been reported yet: a close must not look like a
             * shutdown, or SO_LINGER 0's reset would come after a FIN. */
            if (!s->hup && peer_alive(sd, s) == PEER_GONE)
                s->hup = true;
            if (!s->hup)
                us_shutdown(sd->st, s->sfd, US_SHUT_WR, now);
            return true;
        }
        if (peek && s->peeked + (size_t)n > PEEK_MAX) {
            /* More than may be left: take off what was peeked, and read a request this size
             * the usual way. This peek moved the offset past bytes not sent: back to 0. */
            if (s->peeked == 0)
                s->bulk = true;
            take_peeked(s);
            int zero = 0;
            setsockopt(s->dfd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero));
            continue;
        }
        ssize_t k = us_sendto(sd->st, s->sfd, sd->bounce, (size_t)n, 0, NULL, now);
        if (k != n) {
            /* The room the stack reported is gone only if the connection failed meanwhile. */
            stream_fail(s, k < 0 ? (int)-k : EPIPE);
            return true;
        }
        moved += (size_t)n;
        sd->stats.bytes_in += (uint64_t)n;
        if (peek) { /* it held less than asked for: the pair is empty, as below */
            s->peeked += (size_t)n;
            if (s->rdhup)
                continue; /* the end-of-file comes with no further edge: read it now */
            s->rd_more = false;
            return true;
        }
        s->bulk = n > PEEK_MAX;
        /* A short read emptied the pair: the program's next write is a new edge for epoll, so
         * the read that would only say EAGAIN is skipped. Not once the end of the program's
         * data was reported (a shutdown or a close, perhaps in the same edge as this data):
         * its end-of-file comes with no further edge, so it must be read now; nor while a mark
         * waits: the read stopped in front of it. */
        if ((size_t)n < want && !s->rdhup && !s->urg) {
            s->rd_more = false;
            return true;
        }
    }
    return true;
}

static bool
dgram_from_program(struct ds *s, us_time_t now)
{
    struct us_sockd *sd = s->sd;
    if (!s->rd_more)
        return true; /* epoll says when the program writes */
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(s->dfd, sd->bounce, sizeof(sd->bounce), MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN)
                return false;
            s->rd_more = false;
            return true;
        }
        if (n == 0) {
            s->rd_eof = true;
            return true;
        }
        if ((size_t)n < sizeof(struct us_ds_dgram))
            continue; /* not a message of ours: dropped */
        struct us_ds_dgram h;
        memcpy(&h, sd->bounce, sizeof(h));
        struct us_sockaddr to = {h.addr, h.port};
        size_t len = (size_t)n - sizeof(h);
        ssize_t k = us_sendto(sd->st, s->sfd, sd->bounce + sizeof(h), len, 0,
                              h.addr || h.port ? &to : NULL, now);
        if (k < 0)
            s->err = (int)-k; /* Linux would return it from sendto; SO_ERROR has it here */
        else
            sd->stats.bytes_in += (uint64_t)k;
    }
    return false;
}

static bool
dgram_to_program(struct ds *s, us_time_t now)
{
    struct us_sockd *sd = s->sd;
    for (int i = 0; i < 64; i++) {
        struct us_sockaddr from = {0};
        struct us_msginfo info = {0};
        uint8_t *pl = sd->bounce + sizeof(struct us_ds_dgram);
        ssize_t n = us_recvfrom(sd->st, s->sfd, pl, BOUNCE, US_MSG_PEEK | US_MSG_TRUNC, &from,
                                &info, now);
        if (n == -EAGAIN)
            return true;
        struct us_ds_dgram h = {.addr = from.addr, .port = from.port, .ttl = info.ttl,
                                .dst = info.dst};
        size_t len = 0;
        if (n < 0) { /* an ICMP error for a connected socket: the program's next recv fails */
            h.flags = US_DS_DGRAM_ERR;
            h.len = (uint32_t)-n;
        } else {
            h.len = (uint32_t)n;
            len = US_MIN((size_t)n, (size_t)BOUNCE);
        }
        memcpy(sd->bounce, &h, sizeof(h));
        ssize_t w = send(s->dfd, sd->bounce, sizeof(h) + len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            want_room(s);
            return true; /* the datagram stays queued in the stack; epoll says when */
        }
        if (n >= 0) /* sent, or the program is gone: the datagram is consumed */
            us_recvfrom(sd->st, s->sfd, sd->bounce, 0, 0, NULL, NULL, now);
        if (w > 0)
            sd->stats.bytes_out += (uint64_t)len;
    }
    return false;
}

/* A connection was taken from the stack's accept queue for each token in the pair. */
static void
listen_pull(struct ds *s, us_time_t now)
{
    struct us_sockd *sd = s->sd;
    while (s->acq_tail - s->acq_head < s->backlog) {
        struct us_sockaddr peer;
        int c = us_accept(sd->st, s->sfd, &peer);
        if (c < 0)
            return;
        if (s->acq_tail == s->acq_cap && s->acq_head > 0) { /* slide down what waits */
            memmove(s->acq, s->acq + s->acq_head, (s->acq_tail - s->acq_head) * sizeof(int));
            s->acq_tail -= s->acq_head;
            s->acq_head = 0;
        }
        if (s->acq_tail == s->acq_cap) {
            size_t n = s->acq_cap ? 2 * s->acq_cap : 16;
            int *p = realloc(s->acq, n * sizeof(*p));
            if (!p) {
                us_close(sd->st, c, now);
                return;
            }
            s->acq = p;
            s->acq_cap = n;
        }
        s->acq[s->acq_tail++] = c;
        char token = 'c';
        if (send(s->dfd, &token, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) {
            /* The pair cannot take the token: the connection goes back to waiting. */
            s->acq_tail--;
            us_setsockopt(sd->st, c, US_SO_LINGER, 0);
            us_close(sd->st, c, now);
            return;
        }
    }
}

/* The handshake ended (either way): discarding the filler makes the program's end writable. Its
 * send buffer stays small until the library sets it back (it does when it learns the result,
 * from SO_ERROR or its own blocking connect). */
static void
connect_done(struct ds *s)
{
    while (s->filler > 0) {
        ssize_t n = recv(s->dfd, s->sd->bounce, US_MIN(s->filler, (size_t)BOUNCE), MSG_DONTWAIT);
        if (n <= 0)
            break;
        s->filler -= (size_t)n;
    }
}

/* Is a lingering close over? Linux's close waits while the FIN is not acknowledged (FIN-WAIT-1,
 * CLOSING, LAST-ACK: sk_stream_wait_close), at most SO_LINGER's time. */
static bool
linger_over(struct ds *s, us_time_t now)
{
    struct us_tcp_info ti;
    if (now >= s->linger_until || us_tcp_get_info(s->sd->st, s->sfd, &ti) < 0)
        return true;
    return ti.state != US_TCPS_ESTABLISHED && ti.state != US_TCPS_CLOSE_WAIT &&
           ti.state != US_TCPS_FIN_WAIT_1 && ti.state != US_TCPS_CLOSING &&
           ti.state != US_TCPS_LAST_ACK;
}

/* The program let the socket go and everything it wrote went to TCP. With SO_LINGER on and a
 * time, and no received data left unread (that close resets at once, as Linux's), TCP sends its
 * FIN now and the entry stays, without its pair, while the program's close waits for the FIN's
 * acknowledgement (US_CTL_DS_LINGER); the stack socket is closed when that is over. */
static void
ds_release(struct ds *s, us_time_t now)
{
    struct us_sockd *sd = s->sd;
    int l = -1;
    uint8_t b;
    if (s->type != US_SOCK_STREAM || s->state != DS_DATA || !s->rd_eof ||
        us_getsockopt(sd->st, s->sfd, US_SO_LINGER, &l) < 0 || l <= 0 ||
        us_recvfrom(sd->st, s->sfd, &b, 1, US_MSG_PEEK, NULL, NULL, now) > 0) {
        ds_free(s, now);
        return;
    }
    s->linger_until = (s->hup_at ? s->hup_at : now) + US_SEC(l);
    if (!timer_set(s, s->linger_until)) {
        ds_free(s, now); /* no memory to wait: the close is over, TCP goes on as an orphan */
        return;
    }
    cont_remove(sd, s);
    /* Every segment that comes wakes it (the ACK of the FIN sets no US_POLL* bit): ds_ready
     * looks whether the close is over; the deadline ends it otherwise. */
    us_sock_watch(sd->st, s->sfd, US_POLLWAKE, US_WATCH_EDGE, &s->rd);
    epoll_ctl(sd->ep, EPOLL_CTL_DEL, s->dfd, NULL);
    close_later(sd, s->dfd);
    s->dfd = -1;
    us_shutdown(sd->st, s->sfd, US_SHUT_WR, now);
    s->state = DS_LINGER;
}

static void
pump(struct ds *s, us_time_t now)
{
    struct us_sockd *sd = s->sd;
    bool done = true;
    if (s->state == DS_LINGER)
        return;
    if (s->hup && !s->hup_at)
        s->hup_at = now;
    if (s->state == DS_CONNECTING) {
        int m = us_sock_poll(sd->st, s->sfd);
        if (m >= 0 && (m & (US_POLLOUT | US_POLLERR | US_POLLHUP))) {
            int e = us_sock_error(sd->st, s->sfd);
            /* A failure shuts the pair before the filler goes, so the program never sees
             * POLLOUT alone for a connection that failed: the library takes POLLOUT alone as
             * success and asks for SO_ERROR only otherwise (doc/run.md). */
            if (e || !(m & US_POLLOUT))
                stream_fail(s, e ? e : ECONNREFUSED);
            else
                s->state = DS_DATA; /* data may already wait both ways: on to the pump */
            connect_done(s);
        }
    }
    if (s->state == DS_DATA && s->type == US_SOCK_STREAM) {
        done = stream_to_program(s, now);
        done = stream_from_program(s, now) && done;
    } else if (s->state == DS_DATA) {
        done = dgram_to_program(s, now);
        done = dgram_from_program(s, now) && done;
    } else if (s->state == DS_LISTEN) {
        listen_pull(s, now);
    }
    if (s->hup && !s->rd_eof && s->type == US_SOCK_STREAM && s->state == DS_DATA) {
        /* Gone, but its data still waits for TCP's room: the reset must not wait for that. */
        int e = 0;
        socklen_t el = sizeof(e);
        if (getsockopt(s->dfd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == ECONNRESET)
            reset_on_close(s);
    }
    if (s->hup && (s->rd_eof || s->state != DS_DATA || s->type != US_SOCK_STREAM)) {
        /* The program is gone and everything it wrote went to TCP: close as it would have. */
        ds_release(s, now);
        return;
    }
    if (!done)
        cont_add(sd, s);
}

/* Does the program's end of the pair still exist? Once the daemon has shut its own end both
 * ways (the connection failed, or both sides finished sending), hang-up no longer tells the
 * program's last close apart; the kernel's socket diagnostics do: our end's peer has inode 0 once
 * the peer is released. Asked only on an event for such a socket, and after reading the end of
 * the program's data (a shutdown, or a close whose hang-up is not reported yet). PEER_UNKNOWN when
 * the kernel gave no usable answer: the caller decides which mistake is cheaper (counted). */
static enum peer
peer_alive(struct us_sockd *sd, const struct ds *s)
{
    /* A pair the client made lives in its network namespace: ask there, with the socket it
     * gave. That socket may be shared with the client: the answer is matched by sequence and
     * inode, and never waited for (the kernel answers within send). */
    int fd = s->diag ? s->diag->fd : sd->diag;
    if (fd < 0)
        return PEER_UNKNOWN;
    struct {
        struct nlmsghdr h;
        struct unix_diag_req r;
    } q = {.h = {.nlmsg_len = sizeof(q), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                 .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = ++sd->diag_seq},
           .r = {.sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_ino = (uint32_t)s->dino,
                 .udiag_show = UDIAG_SHOW_PEER,
                 .udiag_cookie = {INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE}}};
    if (send(fd, &q, sizeof(q), MSG_DONTWAIT) < 0)
        goto unknown;
    uint32_t buf[256];
    const struct nlmsghdr *h = (const void *)buf;
    ssize_t n;
    for (int i = 0;; i++) {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 || i == 8)
            goto unknown;
        if (n >= (ssize_t)sizeof(*h) && NLMSG_OK(h, (size_t)n) && h->nlmsg_seq == sd->diag_seq)
            break; /* ours; anything else is stale */
    }
    if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
        goto unknown; /* an error (our end not found) or a malformed answer */
    const struct unix_diag_msg *m = NLMSG_DATA(h);
    if (m->udiag_ino != (uint32_t)s->dino)
        goto unknown;
    size_t len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
    const struct nlattr *a = (const void *)(m + 1);
    while (len >= sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= len) {
        if (a->nla_type == UNIX_DIAG_PEER && a->nla_len >= NLA_HDRLEN + sizeof(uint32_t)) {
            uint32_t peer;
            memcpy(&peer, (const char *)a + NLA_HDRLEN, sizeof(peer));
            return peer != 0 ? PEER_ALIVE : PEER_GONE;
        }
        size_t step = NLA_ALIGN(a->nla_len);
        if (step > len)
            break;
        len -= step;
        a = (const void *)((const char *)a + step);
    }
    return PEER_GONE; /* no peer attribute: the kernel has no peer for our end */
unknown:
    sd->stats.diag_unknown++;
    return PEER_UNKNOWN;
}

static void
ds_io(struct us_evh *h, uint32_t events, us_time_t now)
{
    struct ds *s = (struct ds *)h;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        s->rd_more = true;
    if ((events & EPOLLPRI) && s->type == US_SOCK_STREAM)
        s->urg = s->rd_more = true;
    if (events & (EPOLLRDHUP | EPOLLHUP))
        s->rdhup = true;
    if (events & EPOLLHUP) {
        /* Our own shutdown both ways also reads as hang-up: then ask the kernel. */
        bool ours = s->state == DS_DONE || (s->wr_eof && s->rd_eof);
        if (!ours || peer_alive(s->sd, s) != PEER_ALIVE)
            s->hup = true; /* unknown: the hang-up taken at its word, both ways are done */
    }
    pump(s, now);
}

static void
ds_ready(struct us_ready_handler *h, struct us_stack *st, int fd, unsigned events, us_time_t now)
{
    (void)st;
    (void)fd;
    (void)events;
    struct ds *s = (struct ds *)((char *)h - offsetof(struct ds, rd));
    if (s->state == DS_LINGER) {
        if (linger_over(s, now))
            ds_free(s, now);
        return;
    }
    pump(s, now);
}

bool
us_sockd_run(struct us_sockd *sd, us_time_t now)
{
    while (sd->heap_n && sd->heap[0]->due <= now) {
        struct ds *s = sd->heap[0];
        timer_clear(s);
        if (s->state == DS_LINGER)
            ds_free(s, now); /* the time is up: TCP goes on as an orphan */
        else
            waiter_answer(s); /* the close stops waiting; what it wrote still goes */
    }
    struct ds *list = sd->cont;
    sd->cont = NULL;
    while (list) {
        struct ds *s = list;
        list = s->qnext;
        s->queued = false;
        pump(s, now);
    }
    close_dead(sd);
    return sd->cont != NULL;
}

/* ---- requests ---------------------------------------------------------------------------- */

bool
us_sockd_handles(const struct us_ctl_req *q)
{
    return q->op == US_CTL_DS_SOCKET || q->op == US_CTL_DS_IDENTIFY || q->op == US_CTL_DS_NEW ||
           q->op == US_CTL_DS_LINGER || (q->flags & US_CTL_F_DS);
}

/* TCP connect: keep the program's end unwritable until the handshake ends (doc/run.md). No
 * duplicate of it is kept, so a program that closes a connecting socket is seen to. */
static void
connect_hold(struct ds *s, int pfd)
{
    int small = 1; /* the kernel's minimum */
    setsockopt(pfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    /* MSG_DONTWAIT, not O_NONBLOCK: that flag belongs to the file the program shares. */
    static const char fill[4096];
    for (;;) {
        ssize_t n = send(pfd, fill, sizeof(fill), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            break;
        s->filler += (size_t)n;
    }
    s->state = DS_CONNECTING;
}

/* US_CTL_DS_NEW: the pair the client made (fds: ours, the program's), within its credit. Its
 * limits were checked when the credit was granted; accepted connections since may overshoot
 * them by the credit at most. */
static void
ds_new(struct us_sockd *sd, struct us_sockd_owner *o, const struct us_ctl_req *q,
       const int *fds, int n_fds, us_time_t now)
{
    int sfd = -1;
    struct ds *s;
    if (o && o->credit > 0 && n_fds == 2 &&
        (q->arg == US_SOCK_STREAM || q->arg == US_SOCK_DGRAM)) {
        o->credit--;
        sfd = us_socket(sd->st, (enum us_sock_type)q->arg);
    }
    if (sfd >= 0 && ds_init(sd, o, sfd, q->arg, q->arg2, fds, &s) == 0) {
        close(fds[1]); /* the program's copy; ours is kept */
        if (s->type == US_SOCK_STREAM) /* the client's choice, which its library knows */
            s->slot = q->addr < US_CTL_HINT_SLOTS ? (uint16_t)q->addr : 0;
        s->diag = o->diag;
        s->diag->refs++;
        return;
    }
    if (sfd >= 0)
        us_close(sd->st, sfd, now);
    for (int i = 0; i < n_fds; i++)
        close(fds[i]);
}

/* US_CTL_DS_LINGER: the program closed its descriptor of the socket whose end had inode ino.
 * 0 when that close is over; otherwise the reply is held on w (-1) and answered when it is:
 * the socket freed (ds_free), the FIN acknowledged (ds_ready), or the time up (us_sockd_run).
 * Without w, 1 says "ask again". Linux lingers on the last close only: if the end still lives
 * (a duplicate elsewhere), 0. If the daemon has not yet seen the hang-up of an end the kernel
 * says is gone, it takes it now; if the kernel cannot say, epoll's hang-up will. */
static int
linger_ask(struct us_sockd *sd, ino_t ino, struct us_sockd_waiter *w, us_time_t now)
{
    struct ds *s = ds_by_ino(sd, ino);
    if (s && s->state != DS_LINGER && !s->hup) {
        enum peer p = peer_alive(sd, s);
        if (p == PEER_ALIVE)
            return 0;
        if (p == PEER_GONE) {
            s->hup = true;
            pump(s, now);
            s = ds_by_ino(sd, ino);
        }
    }
    if (!s)
        return 0;
    us_time_t until = s->linger_until;
    if (s->state == DS_LINGER && linger_over(s, now)) {
        ds_free(s, now);
        return 0;
    }
    if (s->state != DS_LINGER) {
        /* What it wrote still waits for TCP's room; the time counts from the close. */
        int l = 0;
        us_getsockopt(sd->st, s->sfd, US_SO_LINGER, &l);
        until = (s->hup_at ? s->hup_at : now) + US_SEC(l);
        if (l <= 0 || now >= until)
            return 0;
    }
    if (!w)
        return 1;
    if (s->waiter || (s->state != DS_LINGER && !timer_set(s, until)))
        return 0; /* one close waits per socket (the last); no memory: it waits no more */
    s->waiter = w;
    w->on = s;
    return -1;
}

bool
us_sockd_request(struct us_sockd *sd, struct us_sockd_owner *o, const struct us_ctl_req *q,
                 const int *fds, int n_fds, struct us_ctl_resp *r, void *out, size_t out_cap,
                 size_t *out_len, int *give_fd, struct us_sockd_waiter *w, us_time_t now)
{
    struct us_stack *st = sd->st;
    *out_len = 0;
    *give_fd = -1;
    struct us_sockaddr a = {q->addr, q->port};
    bool held = false;
    r->ret = 0;
    if (q->op == US_CTL_DS_NEW) {
        ds_new(sd, o, q, fds, n_fds, now);
        return false;
    }
    if (q->op == US_CTL_DS_SOCKET) {
        if (q->arg != US_SOCK_STREAM && q->arg != US_SOCK_DGRAM) {
            r->ret = -EINVAL;
            goto out;
        }
        int sfd = us_socket(st, (enum us_sock_type)q->arg);
        if (sfd < 0) {
            r->ret = sfd;
            goto out;
        }
        struct ds *s;
        int pfd = ds_make(sd, o, sfd, q->arg, q->arg2, &s);
        if (pfd < 0) {
            us_close(st, sfd, now);
            r->ret = pfd;
            goto out;
        }
        *give_fd = pfd;
        r->addr = o ? us_sockd_grant(sd, o) : 0;
        r->dst = s->slot;
        goto out;
    }
    if (q->op == US_CTL_DS_IDENTIFY) {
        uint8_t *kinds = out;
        size_t n = 0;
        int k = US_MIN(n_fds, (int)(out_cap / (1 + sizeof(uint16_t))));
        for (int i = 0; i < k; i++) {
            struct ds *s = ds_by_fd(sd, fds[i]);
            int l = -1;
            if (s && s->type == US_SOCK_STREAM)
                us_getsockopt(st, s->sfd, US_SO_LINGER, &l);
            kinds[n++] = s ? (uint8_t)(s->type | (s->family == AF_INET6 ? US_CTL_DS_INET6 : 0) |
                                       (l > 0 ? US_CTL_DS_LINGER : 0))
                           : 0;
            uint16_t slot = s ? s->slot : 0;
            memcpy(kinds + k + i * sizeof(slot), &slot, sizeof(slot));
        }
        *out_len = n + n * sizeof(uint16_t);
        r->ret = (int64_t)n;
        goto out;
    }
    if (q->op == US_CTL_DS_LINGER) {
        r->ret = linger_ask(sd, (ino_t)((uint64_t)(uint32_t)q->arg << 32 | q->addr), w, now);
        held = r->ret < 0; /* waiter_answer replies */
        goto out;
    }
    struct ds *s = n_fds == 1 ? ds_by_fd(sd, fds[0]) : NULL;
    if (!s) {
        r->ret = n_fds == 1 ? -ENOTSOCK : -EBADF;
        goto out;
    }
    if (o && s->owner != o) { /* the socket is used by another process now (fork, passing) */
        owner_uncharge(s);
        owner_charge(s, o);
    }
    switch (q->op) {
    case US_CTL_BIND:
        r->ret = us_bind(st, s->sfd, &a);
        break;
    case US_CTL_CONNECT:
        if (s->type == US_SOCK_DGRAM) {
            r->ret = us_connect(st, s->sfd, (q->flags & US_CTL_F_UNSPEC) ? NULL : &a, now);
            break;
        }
        if (s->state == DS_CONNECTING) {
            r->ret = -EALREADY;
            break;
        }
        if (s->state != DS_OPEN) {
            r->ret = s->state == DS_LISTEN ? -EINVAL : -EISCONN;
            break;
        }
        r->ret = us_connect(st, s->sfd, &a, now);
        if (r->ret == -EINPROGRESS && (q->flags & US_CTL_F_BLOCK) && sd->link_read) {
            /* A kernel on the TAP answers the SYN while the daemon writes it: take the
             * answer now, and a blocking connect that is over needs no filler and no second
             * wake-up of the program. A failure goes the usual way (SO_ERROR). */
            sd->link_read(sd->link_ctx);
            int m = us_sock_poll(st, s->sfd);
            if (m >= 0 && (m & US_POLLOUT) && !(m & (US_POLLERR | US_POLLHUP)) &&
                us_sock_error(st, s->sfd) == 0)
                r->ret = 0;
        }
        if (r->ret == -EINPROGRESS) {
            connect_hold(s, fds[0]);
            r->port = 1; /* the program's send buffer was lowered (the library's cue) */
        } else if (r->ret == 0) {
            s->state = DS_DATA;
        }
        break;
    case US_CTL_LISTEN:
        if (s->type != US_SOCK_STREAM || (s->state != DS_OPEN && s->state != DS_LISTEN)) {
            r->ret = s->type != US_SOCK_STREAM ? -EOPNOTSUPP : -EINVAL;
            break;
        }
        r->ret = us_listen(st, s->sfd, q->arg);
        if (r->ret == 0) {
            if (s->state != DS_LISTEN)
                sd->stats.listeners++;
            s->state = DS_LISTEN;
            s->backlog = q->arg > 0 ? (size_t)q->arg : 1;
            if (s->backlog > 65535)
                s->backlog = 65535;
            /* Only readiness to accept matters now; the pump never reads a listener's pair. */
            us_sock_watch(st, s->sfd, US_POLLIN, US_WATCH_EDGE, &s->rd);
            listen_pull(s, now);
        }
        break;
    case US_CTL_ACCEPT: {
        if (s->state != DS_LISTEN) {
            r->ret = -EINVAL;
            break;
        }
        if (s->acq_head == s->acq_tail) {
            r->ret = -EAGAIN;
            break;
        }
        int c = s->acq[s->acq_head++];
        if (s->acq_head == s->acq_tail)
            s->acq_head = s->acq_tail = 0;
        struct us_sockaddr peer = {0};
        us_getpeername(st, c, &peer);
        struct ds *n;
        int pfd = ds_make(sd, o ? o : s->owner, c, US_SOCK_STREAM, s->family, &n);
        if (pfd < 0) {
            us_setsockopt(st, c, US_SO_LINGER, 0);
            us_close(st, c, now);
            r->ret = pfd;
            break;
        }
        n->state = DS_DATA;
        r->addr = peer.addr;
        r->port = peer.port;
        r->dst = n->slot;
        *give_fd = pfd;
        listen_pull(s, now); /* room in the queue again */
        pump(n, now);   /* data may have come with the handshake */
        break;
    }
    case US_CTL_SHUTDOWN:
        if (q->arg < US_SHUT_RD || q->arg > US_SHUT_RDWR) {
            r->ret = -EINVAL;
            break;
        }
        if (s->type == US_SOCK_STREAM && s->state != DS_DATA) {
            r->ret = -ENOTCONN;
            break;
        }
        /* SHUT_WR takes effect when the daemon reads the end of the program's data from the
         * pair (after the data); SHUT_RD here, so nothing more goes to the program. */
        if (q->arg != US_SHUT_WR)
            s->shut_rd = true;
        break;
    case US_CTL_GETSOCKNAME:
    case US_CTL_GETPEERNAME:
        r->ret = q->op == US_CTL_GETSOCKNAME ? us_getsockname(st, s->sfd, &a)
                                             : us_getpeername(st, s->sfd, &a);
        r->addr = a.addr;
        r->port = a.port;
        break;
    case US_CTL_SETSOCKOPT:
        r->ret = us_setsockopt(st, s->sfd, (enum us_sockopt)q->arg, q->arg2);
        break;
    case US_CTL_SENDTO: /* a UDP probe: the error a datagram of arg bytes to addr would get */
        r->ret = s->type != US_SOCK_DGRAM || q->arg < 0
                     ? -EOPNOTSUPP
                     : us_sendto(st, s->sfd, NULL, (size_t)q->arg, US_MSG_PROBE, &a, now);
        break;
    case US_CTL_GETSOCKOPT: {
        if (q->arg == US_CTL_OPT_ACCEPTCONN) {
            r->ret = s->state == DS_LISTEN;
            break;
        }
        if (q->arg == US_CTL_OPT_ERRPEEK) {
            int m = us_sock_poll(st, s->sfd);
            r->ret = s->err != 0 || (m > 0 && (m & US_POLLERR));
            break;
        }
        int v = 0;
        r->ret = us_getsockopt(st, s->sfd, (enum us_sockopt)q->arg, &v);
        if (r->ret == 0)
            r->ret = v;
        break;
    }
    case US_CTL_SOCKERR:
        r->port = s->state != DS_CONNECTING; /* the handshake is over (the library's cue) */
        if (s->err) {
            r->ret = s->err;
            s->err = 0;
            hint_off(s);
        } else {
            r->ret = us_sock_error(st, s->sfd);
        }
        break;
    case US_CTL_TCPINFO: {
        struct us_tcp_info ti; /* out follows the reply header: not aligned for it */
        r->ret = out_cap < sizeof(ti) ? -EINVAL : us_tcp_get_info(st, s->sfd, &ti);
        if (r->ret == 0) {
            memcpy(out, &ti, sizeof(ti));
            *out_len = sizeof(ti);
        }
        break;
    }
    default:
        r->ret = -EOPNOTSUPP;
    }
    pump(s, now); /* a bind, connect or option may have changed what can move */
out:
    for (int i = 0; i < n_fds; i++)
        close(fds[i]);
    return !held;
}

void
us_sockd_set_link_read(struct us_sockd *sd, void (*fn)(void *ctx), void *ctx)
{
    sd->link_read = fn;
    sd->link_ctx = ctx;
}

const char *
us_sockd_owner_of(struct us_sockd *sd, int fd, char *buf, size_t len)
{
    if (fd < 0 || (size_t)fd >= sd->by_sfd_n || !sd->by_sfd[fd] || !sd->by_sfd[fd]->owner)
        return NULL;
    const struct us_sockd_owner *o = sd->by_sfd[fd]->owner;
    snprintf(buf, len, "%d/%s", (int)o->pid, o->comm);
    return buf;
}

void
us_sockd_stats(const struct us_sockd *sd, struct us_sockd_stats *out)
{
    *out = sd->stats;
}
