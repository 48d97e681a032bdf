/* pcap capture tee: appends Ethernet frames to a capture file that tcpdump/wireshark read.
 * Public; part of libustack (which links libpcap for the file format). Does not look inside
 * frames.
 * Timestamps are wall-clock nanoseconds and the file is written with nanosecond precision
 * (pcap magic 0xa1b23c4d), so simulated time survives exactly. */
#ifndef USTACK_PCAP_H
#define USTACK_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/types.h>

USTACK_BEGIN_DECLS

/* Frames longer than this are stored truncated (the record keeps the real length). 262144 is
 * tcpdump's own maximum and holds a whole 64 KiB GSO super-frame. */
#define US_PCAP_SNAPLEN 262144

struct us_pcap;

/* Creates (truncates) path and writes the file header (link type Ethernet). NULL on failure,
 * with errno set (EINVAL for an empty path, EIO when libpcap gives no errno). */
struct us_pcap *us_pcap_open(const char *path);
/* Appends one frame stamped wallclock_ns (ns since the Unix epoch; negative counts as 0). */
void us_pcap_write(struct us_pcap *p, const uint8_t *frame, size_t len, us_time_t wallclock_ns);
/* Pushes buffered records to the file. 0 or a negative errno. */
int us_pcap_flush(struct us_pcap *p);
/* Flushes and closes; NULL is fine. */
void us_pcap_close(struct us_pcap *p);

USTACK_END_DECLS

#endif
