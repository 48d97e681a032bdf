/* The library's version at run time. Layer: core. */
#include <ustack.h>

const char *
us_version(void)
{
    return USTACK_VERSION_STRING;
}

unsigned
us_version_number(void)
{
    return USTACK_VERSION_HEX;
}
