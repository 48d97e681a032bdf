/* Control-socket protocol between the ustack daemon and its clients (client library, netstat,
 * ping, lookup, the preload library). Layer: runtime. One request and one reply per
 * SOCK_SEQPACKET message, in host byte order (both ends are on the same machine), descriptors in
 * SCM_RIGHTS. doc/run.md describes it; US_CTL_VERSION changes whenever a message does. */
#ifndef US_RUNTIME_CTL_PROTO_H
#define US_RUNTIME_CTL_PROTO_H

#include <stdint.h>

#define US_CTL_DEFAULT_DIR "/run/ustack"
#define US_CTL_MAX_PAYLOAD 65536
#define US_CTL_MAGIC 0x75737432u /* "ust2" */
#define US_CTL_VERSION 5
#define US_CTL_CREDIT_MAX 64 /* sockets a client may make with US_CTL_DS_NEW unasked */
#define US_CTL_MAX_FDS 64 /* descriptors in one US_CTL_DS_IDENTIFY */
/* The error hints (doc/run.md, Closing): a shared table of US_CTL_HINT_SLOTS 32-bit counters,
 * which the reply to HELLO carries (a memory file, SCM_RIGHTS). Each TCP descriptor socket has a
 * slot, 1 to US_CTL_HINT_SLOTS - 1 (0: none); its counter is not 0 while a socket of that slot
 * has an error waiting that its pair cannot tell (a reset): a write asks the daemon first. */
#define US_CTL_HINT_SLOTS 65536

enum us_ctl_op {
    US_CTL_SOCKET = 1, /* arg = socket type */
    US_CTL_BIND,
    US_CTL_CONNECT,    /* flags & US_CTL_F_UNSPEC: dissolve. Descriptor sockets: reply port = 1
                        * when the program's send buffer was lowered (doc/run.md) */
    US_CTL_SENDTO,     /* flags & US_CTL_F_ADDR: use addr/port. Descriptor sockets (UDP): a
                        * probe of a datagram of arg bytes to addr/port (US_MSG_PROBE) */
    US_CTL_RECVFROM,   /* arg = buffer size; timeout_ms: -1 forever, 0 do not wait */
    US_CTL_GETSOCKNAME,
    US_CTL_GETPEERNAME,
    US_CTL_CLOSE,
    US_CTL_POLL,       /* arg = events wanted; waits up to timeout_ms */
    US_CTL_SETSOCKOPT, /* arg = option, arg2 = value */
    US_CTL_SOCKERR,    /* descriptor sockets: reply port = 1 once a connect is over */
    US_CTL_NETSTAT,    /* arg = US_NETSTAT_* flags; reply payload is text */
    US_CTL_LISTEN,     /* arg = backlog */
    US_CTL_ACCEPT,     /* waits like RECVFROM; reply: new fd, peer in addr/port; descriptor
                        * sockets: dst = the new socket's hint slot */
    US_CTL_SHUTDOWN,   /* arg = how */
    US_CTL_GETSOCKOPT, /* arg = option; reply ret = value */
    US_CTL_TCPINFO,    /* reply payload: struct us_tcp_info (strings omitted) */
    US_CTL_CONFIG,     /* reply: addr = the daemon's DNS server (0: none) */
    US_CTL_HELLO,      /* first on every connection: arg = US_CTL_VERSION; -EPROTO if not ours.
                        * reply: addr = the client's credit for US_CTL_DS_NEW; the error hints
                        * in SCM_RIGHTS */
    /* Descriptor sockets (doc/run.md): the socket is named by the program's descriptor, passed
     * in SCM_RIGHTS with the request (fd is ignored); US_CTL_F_DS is set. */
    US_CTL_DS_SOCKET,   /* arg = US_SOCK_STREAM or US_SOCK_DGRAM, arg2 = the program's address
                         * family (for netstat); reply: the descriptor in SCM_RIGHTS, addr = the
                         * client's new credit for US_CTL_DS_NEW, dst = its hint slot */
    US_CTL_DS_IDENTIFY, /* up to US_CTL_MAX_FDS descriptors; reply payload: one byte each,
                         * 0 (not ours), US_SOCK_STREAM or US_SOCK_DGRAM, | US_CTL_DS_INET6,
                         * then each one's hint slot (uint16_t, unaligned) */
    US_CTL_DS_NEW,      /* the client made the pair: SCM_RIGHTS carries the daemon's end, then
                         * the program's; arg, arg2 as for US_CTL_DS_SOCKET, addr = the hint
                         * slot the client chose. No reply. Taken
                         * only while the client has credit: the number the last reply to
                         * HELLO or US_CTL_DS_SOCKET gave, less the US_CTL_DS_NEW sent since;
                         * beyond it (or on failure) the daemon closes both descriptors. */
    US_CTL_DS_LINGER,   /* after the program closed a TCP descriptor with SO_LINGER on and a
                         * time: wait for the close (doc/run.md). No descriptor: addr = the
                         * program's end's inode, low 32 bits, arg = its high 32 bits. The
                         * reply (ret 0) comes when the close is over: the FIN acknowledged,
                         * the time up, or at once. One at a time per connection */
};

#define US_CTL_F_ADDR 0x1
#define US_CTL_F_UNSPEC 0x2
#define US_CTL_DS_INET6 0x80 /* US_CTL_DS_IDENTIFY: the program made it as AF_INET6 */
#define US_CTL_DS_LINGER 0x40 /* US_CTL_DS_IDENTIFY: SO_LINGER on with a time (close waits) */
#define US_CTL_F_DS 0x4 /* the request names a descriptor socket by the descriptor it carries */
#define US_CTL_F_BLOCK 0x8 /* US_CTL_CONNECT from a blocking socket: the daemon may read the
                            * link before it answers, and answer 0 if the handshake ended */
#define US_CTL_OPT_ACCEPTCONN 1000 /* US_CTL_GETSOCKOPT on a descriptor socket: listening? */
#define US_CTL_OPT_ERRPEEK 1001 /* US_CTL_GETSOCKOPT on a descriptor socket: 1 while an error
                                 * waits for SO_ERROR or a call (not taken) */

/* Leads each message on a UDP descriptor socket's pair. From the program: the destination
 * (addr 0 and port 0: the connected peer). To the program: the source, the address the datagram
 * was sent to, its TTL and its whole length (more than the payload when the daemon cut it to
 * what the pair takes). */
#define US_DS_DGRAM_ERR 0x1 /* no datagram: len holds an errno for the program's next receive */
struct us_ds_dgram {
    uint32_t addr;
    uint16_t port;
    uint8_t ttl;
    uint8_t flags;
    uint32_t dst;
    uint32_t len;
};

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
