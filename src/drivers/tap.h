/* Linux TAP driver (layer: drivers). Its whole interface is public: include/ustack/tap.h. */
#ifndef US_DRIVERS_TAP_H
#define US_DRIVERS_TAP_H

#include <net/if.h>
#include <ustack/tap.h>

_Static_assert(IFNAMSIZ == sizeof(((struct us_tap *)0)->name), "struct us_tap name is IFNAMSIZ");

#endif
