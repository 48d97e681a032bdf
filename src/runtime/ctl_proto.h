/* Control-socket protocol between the ustack daemon and its clients (client library, netstat,
 * ping, lookup). Layer: runtime. One request and one reply per SOCK_SEQPACKET message, in host
 * byte order (both ends are on the same machine). */
#ifndef US_RUNTIME_CTL_PROTO_H
#define US_RUNTIME_CTL_PROTO_H

#include <stdint.h>

#define US_CTL_DEFAULT_DIR "/run/ustack"
#define US_CTL_MAX_PAYLOAD 65536
#define US_CTL_MAGIC 0x75737431u /* "ust1" */

enum us_ctl_op {
    US_CTL_SOCKET = 1, /* arg = socket type */
    US_CTL_BIND,
    US_CTL_CONNECT,    /* flags & US_CTL_F_UNSPEC: dissolve */
    US_CTL_SENDTO,     /* flags & US_CTL_F_ADDR: use addr/port */
    US_CTL_RECVFROM,   /* arg = buffer size; timeout_ms: -1 forever, 0 do not wait */
    US_CTL_GETSOCKNAME,
    US_CTL_GETPEERNAME,
    US_CTL_CLOSE,
    US_CTL_POLL,       /* arg = events wanted; waits up to timeout_ms */
    US_CTL_SETSOCKOPT, /* arg = option, arg2 = value */
    US_CTL_SOCKERR,
    US_CTL_NETSTAT,    /* arg = US_NETSTAT_* flags; reply payload is text */
    US_CTL_LISTEN,     /* arg = backlog */
    US_CTL_ACCEPT,     /* waits like RECVFROM; reply: new fd, peer in addr/port */
    US_CTL_SHUTDOWN,   /* arg = how */
    US_CTL_GETSOCKOPT, /* arg = option; reply ret = value */
    US_CTL_TCPINFO,    /* reply payload: struct us_tcp_info (strings omitted) */
    US_CTL_CONFIG,     /* reply: addr = the daemon's DNS server (0: none) */
};

#define US_CTL_F_ADDR 0x1
#define US_CTL_F_UNSPEC 0x2

struct us_ctl_req {
    uint32_t magic;
    uint32_t op;
    int32_t fd;
    int32_t flags;    /* US_CTL_F_* in the low byte, socket MSG_* flags above bit 8 */
    int32_t timeout_ms;
    int32_t arg, arg2;
    uint32_t addr;
    uint16_t port;
    uint16_t pad;
    uint32_t len;     /* payload bytes that follow */
};

struct us_ctl_resp {
    int64_t ret;      /* >= 0 result, or -errno */
    uint32_t addr;
    uint16_t port;
    uint8_t ttl;
    uint8_t pad;
    uint32_t dst;
    uint32_t len;     /* payload bytes that follow */
};

#endif
