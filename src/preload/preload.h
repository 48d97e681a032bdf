/* What the parts of the preload library share. Layer: preload. */
#ifndef US_PRELOAD_PRELOAD_H
#define US_PRELOAD_PRELOAD_H

#include <stdbool.h>
#include <stdint.h>

#define US_EXPORT __attribute__((visibility("default")))

/* A daemon was named ($USTACK_CTL): the hooks are on. */
bool us_preload_active(void);
/* The daemon's --dns server (host order), or 0; asked once. */
uint32_t us_preload_dns(void);
/* The next definition of a symbol (the C library's). */
void *us_preload_real(const char *name);

#define US_PRELOAD_FD_TABLE (1 << 16) /* descriptors the library tracks: 0 to this - 1 */
/* fd is a ustack TCP socket. */
bool us_preload_is_stream(int fd);
/* A ustack TCP socket's connection has an error waiting (the daemon is asked; nothing taken);
 * remembered, so that a write returns the error rather than meet the pair's EPIPE. */
bool us_preload_stream_error(int fd);
/* Descriptors first..last were closed or replaced: epoll.c forgets what it recorded of them. */
void us_preload_epoll_closed(unsigned first, unsigned last);

#endif
