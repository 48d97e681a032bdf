/* The names of TCP's states and congestion controls, for what us_tcp_info and us_sock_info carry
 * as numbers. Layer: transport. In an object of their own, so that a client of the daemon (whose
 * us_tcp_info comes over the control socket) links only this from libustack.a. */
#include <ustack.h>

static const char *const state_names[US_TCPS__COUNT] = {
    "CLOSED",     "LISTEN",     "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",     "TIME-WAIT"};

const char *
us_tcp_state_name(enum us_tcp_state s)
{
    return (unsigned)s < US_TCPS__COUNT ? state_names[s] : "?";
}

const char *
us_tcp_cc_name(enum us_tcp_cc cc)
{
    switch (cc) { /* Linux's names (tcp_congestion_control), as the cc ops carry them */
    case US_CC_NEWRENO:
        return "reno";
    case US_CC_CUBIC:
        return "cubic";
    }
    return "?";
}
