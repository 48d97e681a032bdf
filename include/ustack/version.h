/* ustack version, at compile time (these macros) and at run time (us_version()). The shared
 * library's soname follows USTACK_VERSION_MAJOR: libustack.so.0 while the API is 0.x. */
#ifndef USTACK_VERSION_H
#define USTACK_VERSION_H

#define USTACK_VERSION_MAJOR 0
#define USTACK_VERSION_MINOR 1
#define USTACK_VERSION_PATCH 0
#define USTACK_VERSION_STRING "0.1.0"
/* One number that compares in order: 0x00MMmmpp. */
#define USTACK_VERSION_HEX                                                                         \
    ((USTACK_VERSION_MAJOR << 16) | (USTACK_VERSION_MINOR << 8) | USTACK_VERSION_PATCH)

#endif
