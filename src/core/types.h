/* Basic types shared by every layer of the core, and the library's private helper macros.
 * Layer: core (bottom). Includes nothing from the stack; must stay free of I/O and clocks. */
#ifndef US_CORE_TYPES_H
#define US_CORE_TYPES_H

/* The public types (us_time_t, us_ip4_t, US_IP4, US_TIME_NEVER, US_MSEC, US_ETH_ALEN, ...) live in
 * the installed header; what follows is private to the library's sources. */
#include <ustack/types.h>

#ifdef US_DEBUG
#include <stdio.h>
#include <stdlib.h>
#define US_ASSERT(x)                                                                               \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", __FILE__, __LINE__, __func__,   \
                    #x);                                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#else
#define US_ASSERT(x) ((void)0)
#endif

#define US_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define US_MIN(a, b) ((a) < (b) ? (a) : (b))
#define US_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
