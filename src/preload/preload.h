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

#endif
