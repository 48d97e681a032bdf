/* epoll for `ustack run` (doc/run.md, Closing). Layer: preload.
 *
 * After a reset, Linux's epoll_wait reports EPOLLERR with EPOLLHUP until the connection's error
 * is taken; the AF_UNIX pair of a ustack socket can only say EPOLLHUP (the daemon keeps the
 * error). An event carries the program's data, not its descriptor, so epoll_ctl records, for
 * ustack TCP descriptors only, the (epoll set, data) each was registered with, and epoll_wait
 * looks up only the events that report EPOLLHUP without EPOLLERR: an event loop pays one test of
 * a bit per event, and nothing at all while no ustack TCP descriptor is in an epoll set. For a
 * ustack TCP descriptor it asks the daemon whether an error waits (without taking it), and adds
 * EPOLLERR. One registration is kept per descriptor: one in two epoll sets gets EPOLLERR in the
 * set it was last added to. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

#include "preload/preload.h"

#define EP_SLOTS (2 * US_PRELOAD_FD_TABLE) /* at most one entry per descriptor: half full */

/* (epoll set, data) -> descriptor, open addressing; fd1 = descriptor + 1, 0 for a free slot. */
struct ep_ent {
    int32_t epfd;
    int32_t fd1;
    uint64_t data;
};
static struct ep_ent ep_tab[EP_SLOTS];
/* Per descriptor: the epoll set (+ 1) and data it is recorded with; per number, whether it is
 * an epoll set that has entries (closing it drops them). */
static int32_t ep_set_of[US_PRELOAD_FD_TABLE];
static uint64_t ep_data_of[US_PRELOAD_FD_TABLE];
static uint8_t ep_has[US_PRELOAD_FD_TABLE];
static atomic_size_t ep_n;
static pthread_mutex_t ep_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    int (*ctl)(int, int, int, struct epoll_event *);
    int (*wait)(int, struct epoll_event *, int, int);
    int (*pwait)(int, struct epoll_event *, int, int, const sigset_t *);
    int (*pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
} real_ep;
static pthread_once_t real_ep_once = PTHREAD_ONCE_INIT;

static void
real_ep_resolve(void)
{
    real_ep.ctl = (__typeof__(real_ep.ctl))us_preload_real("epoll_ctl");
    real_ep.wait = (__typeof__(real_ep.wait))us_preload_real("epoll_wait");
    real_ep.pwait = (__typeof__(real_ep.pwait))us_preload_real("epoll_pwait");
    real_ep.pwait2 = (__typeof__(real_ep.pwait2))us_preload_real("epoll_pwait2");
}
#define REAL_EP(f) (pthread_once(&real_ep_once, real_ep_resolve), real_ep.f)

static size_t
ep_hash(int epfd, uint64_t data)
{
    uint64_t k = (data ^ (uint64_t)(uint32_t)epfd << 40) * 0x9e3779b97f4a7c15ull;
    return (size_t)(k >> 32) & (EP_SLOTS - 1);
}

static size_t
ep_find(int epfd, uint64_t data)
{
    size_t i = ep_hash(epfd, data);
    while (ep_tab[i].fd1 && (ep_tab[i].epfd != epfd || ep_tab[i].data != data))
        i = (i + 1) & (EP_SLOTS - 1);
    return i; /* the entry, or the free slot where it would go */
}

/* Frees slot i, moving up the entries that probed past it (no tombstones). */
static void
ep_del_at(size_t i)
{
    const size_t m = EP_SLOTS - 1;
    ep_tab[i].fd1 = 0;
    for (size_t j = (i + 1) & m; ep_tab[j].fd1; j = (j + 1) & m) {
        size_t home = ep_hash(ep_tab[j].epfd, ep_tab[j].data);
        if (((j - home) & m) >= ((j - i) & m)) { /* i lies on j's probe path */
            ep_tab[i] = ep_tab[j];
            ep_tab[j].fd1 = 0;
            i = j;
        }
    }
    atomic_fetch_sub_explicit(&ep_n, 1, memory_order_relaxed);
}

/* Forgets fd's registration; the lock is held. */
static void
ep_forget_locked(int fd)
{
    if (!ep_set_of[fd])
        return;
    size_t i = ep_find(ep_set_of[fd] - 1, ep_data_of[fd]);
    if (ep_tab[i].fd1 == fd + 1)
        ep_del_at(i);
    ep_set_of[fd] = 0;
}

static void
ep_track(int epfd, int fd, uint64_t data)
{
    if (fd < 0 || fd >= US_PRELOAD_FD_TABLE || epfd < 0 || epfd >= US_PRELOAD_FD_TABLE)
        return;
    pthread_mutex_lock(&ep_lock);
    ep_forget_locked(fd);
    size_t i = ep_find(epfd, data);
    if (ep_tab[i].fd1) /* another descriptor with the same data in the same set: the newest */
        ep_set_of[ep_tab[i].fd1 - 1] = 0;
    else
        atomic_fetch_add_explicit(&ep_n, 1, memory_order_relaxed);
    ep_tab[i] = (struct ep_ent){epfd, fd + 1, data};
    ep_set_of[fd] = epfd + 1;
    ep_data_of[fd] = data;
    ep_has[epfd] = 1;
    pthread_mutex_unlock(&ep_lock);
}

/* Descriptor fd was closed (or replaced); the lock is held. */
static void
ep_closed_locked(int fd)
{
    ep_forget_locked(fd);
    if (ep_has[fd]) { /* an epoll set: its registrations are gone with it */
        ep_has[fd] = 0;
        for (size_t i = 0; i < EP_SLOTS;) {
            if (ep_tab[i].fd1 && ep_tab[i].epfd == fd) {
                ep_set_of[ep_tab[i].fd1 - 1] = 0;
                ep_del_at(i); /* slot i may hold a moved entry now: look again */
            } else {
                i++;
            }
        }
    }
}

void
us_preload_epoll_closed(unsigned first, unsigned last)
{
    if (!atomic_load_explicit(&ep_n, memory_order_relaxed))
        return;
    pthread_mutex_lock(&ep_lock);
    for (unsigned fd = first; fd <= last && fd < US_PRELOAD_FD_TABLE; fd++)
        ep_closed_locked((int)fd);
    pthread_mutex_unlock(&ep_lock);
}

/* The events a wait returned: EPOLLERR joins EPOLLHUP where a ustack TCP connection's error
 * waits. */
static void
ep_errors(int epfd, struct epoll_event *ev, int n)
{
    for (int i = 0; i < n; i++) {
        if ((ev[i].events & (EPOLLHUP | EPOLLERR)) != EPOLLHUP)
            continue;
        pthread_mutex_lock(&ep_lock);
        size_t k = ep_find(epfd, ev[i].data.u64);
        int fd = ep_tab[k].fd1 - 1;
        pthread_mutex_unlock(&ep_lock);
        if (fd >= 0 && us_preload_stream_error(fd))
            ev[i].events |= EPOLLERR;
    }
}

US_EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    int r = REAL_EP(ctl)(epfd, op, fd, ev);
    if (r == 0 && us_preload_is_stream(fd)) {
        if (op == EPOLL_CTL_DEL) {
            pthread_mutex_lock(&ep_lock);
            if (ep_set_of[fd] == epfd + 1)
                ep_forget_locked(fd);
            pthread_mutex_unlock(&ep_lock);
        } else if (ev) {
            ep_track(epfd, fd, ev->data.u64);
        }
    }
    return r;
}

#define EP_AFTER(epfd, ev, r)                                                                  \
    do {                                                                                       \
        if ((r) > 0 && atomic_load_explicit(&ep_n, memory_order_relaxed))                      \
            ep_errors(epfd, ev, r);                                                            \
    } while (0)

US_EXPORT int
epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    int r = REAL_EP(wait)(epfd, ev, max, timeout);
    EP_AFTER(epfd, ev, r);
    return r;
}

US_EXPORT int
epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    int r = REAL_EP(pwait)(epfd, ev, max, timeout, mask);
    EP_AFTER(epfd, ev, r);
    return r;
}

US_EXPORT int
epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *timeout,
             const sigset_t *mask)
{
    int r = REAL_EP(pwait2)(epfd, ev, max, timeout, mask);
    EP_AFTER(epfd, ev, r);
    return r;
}
