/* Basic types shared by every layer of the core.
 * Layer: core (bottom). Includes nothing from the stack; must stay free of I/O and clocks. */
#ifndef US_CORE_TYPES_H
#define US_CORE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic time in nanoseconds, passed in by the caller. Never wraps in practice. */
typedef int64_t us_time_t;
#define US_TIME_NEVER INT64_MAX
#define US_NSEC_PER_MSEC ((us_time_t)1000000)
#define US_NSEC_PER_SEC ((us_time_t)1000000000)
#define US_MSEC(x) ((us_time_t)(x) * US_NSEC_PER_MSEC)
#define US_SEC(x) ((us_time_t)(x) * US_NSEC_PER_SEC)

/* IPv4 addresses are carried in host byte order inside the stack. */
typedef uint32_t us_ip4_t;
#define US_IP4(a, b, c, d)                                                                         \
    ((us_ip4_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d)))
#define US_IP4_ANY ((us_ip4_t)0)
#define US_IP4_BROADCAST ((us_ip4_t)0xffffffffu)

#define US_ETH_ALEN 6

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
