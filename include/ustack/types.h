/* ustack public types: time, IPv4 addresses, and the macros every public header uses.
 * Self-contained: needs only the C library's headers. */
#ifndef USTACK_TYPES_H
#define USTACK_TYPES_H

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

/* IPv4 addresses are carried in host byte order. */
typedef uint32_t us_ip4_t;
#define US_IP4(a, b, c, d)                                                                         \
    ((us_ip4_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d)))
#define US_IP4_ANY ((us_ip4_t)0)
#define US_IP4_BROADCAST ((us_ip4_t)0xffffffffu)

#define US_ETH_ALEN 6

/* Every public header wraps its declarations in USTACK_BEGIN_DECLS / USTACK_END_DECLS: C linkage
 * for C++ callers, and default visibility, so that the shared library (built with
 * -fvisibility=hidden) exports exactly the functions the public headers declare. */
#ifdef __cplusplus
#define USTACK_EXTERN_C_BEGIN_ extern "C" {
#define USTACK_EXTERN_C_END_ }
#else
#define USTACK_EXTERN_C_BEGIN_
#define USTACK_EXTERN_C_END_
#endif
#if defined(__GNUC__) && __GNUC__ >= 4
#define USTACK_BEGIN_DECLS USTACK_EXTERN_C_BEGIN_ _Pragma("GCC visibility push(default)")
#define USTACK_END_DECLS _Pragma("GCC visibility pop") USTACK_EXTERN_C_END_
#else
#define USTACK_BEGIN_DECLS USTACK_EXTERN_C_BEGIN_
#define USTACK_END_DECLS USTACK_EXTERN_C_END_
#endif

#endif
