/* pcap capture tee over libpcap's dump API (pcap_open_dead + pcap_dump_open).
 * Layer: drivers. Writes files only; never reads frames' contents. One us_pcap per file, no
 * shared state. libpcap buffers through stdio: call us_pcap_flush() where a reader must see
 * the records (the daemon after each event-loop iteration, a failing test before exit). */
#include "drivers/pcap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct us_pcap {
    pcap_t *dead;
    pcap_dumper_t *dumper;
};

struct us_pcap *
us_pcap_open(const char *path)
{
    struct us_pcap *p;

    if (path == NULL || path[0] == '\0') {
        errno = EINVAL;
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, US_PCAP_SNAPLEN,
                                                   PCAP_TSTAMP_PRECISION_NANO);
    if (p->dead == NULL) {
        free(p);
        errno = ENOMEM;
        return NULL;
    }
    errno = 0;
    p->dumper = pcap_dump_open(p->dead, path);
    if (p->dumper == NULL) {
        int err = errno ? errno : EIO;
        pcap_close(p->dead);
        free(p);
        errno = err;
        return NULL;
    }
    return p;
}

void
us_pcap_write(struct us_pcap *p, const uint8_t *frame, size_t len, us_time_t wallclock_ns)
{
    struct pcap_pkthdr h;
    us_time_t t = wallclock_ns < 0 ? 0 : wallclock_ns;

    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = (time_t)(t / US_NSEC_PER_SEC);
    h.ts.tv_usec = (suseconds_t)(t % US_NSEC_PER_SEC); /* nanoseconds: see pcap_open_dead_... */
    h.len = len > UINT32_MAX ? UINT32_MAX : (bpf_u_int32)len;
    h.caplen = len > US_PCAP_SNAPLEN ? US_PCAP_SNAPLEN : (bpf_u_int32)len;
    pcap_dump((u_char *)p->dumper, &h, frame);
}

int
us_pcap_flush(struct us_pcap *p)
{
    if (pcap_dump_flush(p->dumper) != 0)
        return -EIO;
    return ferror(pcap_dump_file(p->dumper)) ? -EIO : 0;
}

void
us_pcap_close(struct us_pcap *p)
{
    if (p == NULL)
        return;
    pcap_dump_close(p->dumper);
    pcap_close(p->dead);
    free(p);
}
