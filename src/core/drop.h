/* Named drop reasons and event counters (doc/design.md, Drops, counters and trace).
 * Layer: core. One X-macro list each, so names, enum values and `netstat -s` stay in step. */
#ifndef US_CORE_DROP_H
#define US_CORE_DROP_H

/* Every reason a received or outgoing packet can be discarded. */
#define US_DROP_LIST(X)                                                                            \
    X(NONE, "none")                                                                                \
    X(NO_BUFFER, "no packet buffer available")                                                     \
    X(ETH_TRUNCATED, "ethernet: frame shorter than header")                                        \
    X(ETH_TOO_LONG, "ethernet: frame longer than the largest buffer")                              \
    X(ETH_NOT_FOR_US, "ethernet: destination is not our MAC or broadcast")                         \
    X(ETH_BAD_SRC, "ethernet: source MAC is multicast/broadcast")                                  \
    X(ETH_UNKNOWN_TYPE, "ethernet: unknown ethertype")                                             \
    X(ARP_TRUNCATED, "arp: packet too short")                                                      \
    X(ARP_BAD_HW, "arp: hardware type/length not ethernet")                                        \
    X(ARP_BAD_PROTO, "arp: protocol type/length not IPv4")                                         \
    X(ARP_BAD_OP, "arp: unknown operation")                                                        \
    X(ARP_BAD_SENDER, "arp: invalid sender address")                                               \
    X(ARP_NOT_FOR_US, "arp: target is not our address")                                            \
    X(ARP_QUEUE_FULL, "arp: pending queue full")                                                   \
    X(ARP_UNRESOLVED, "arp: address did not resolve")                                              \
    X(ARP_CACHE_FULL, "arp: cache full")                                                           \
    X(ARP_NO_TIMER, "arp: no memory for an entry's timer")                                         \
    X(IP_TRUNCATED, "ip: packet shorter than header")                                              \
    X(IP_BAD_VERSION, "ip: version is not 4")                                                      \
    X(IP_BAD_HDR_LEN, "ip: bad header length")                                                     \
    X(IP_BAD_TOTAL_LEN, "ip: bad total length")                                                    \
    X(IP_BAD_CSUM, "ip: bad header checksum")                                                      \
    X(IP_BAD_OPTIONS, "ip: malformed options")                                                     \
    X(IP_BAD_SRC, "ip: invalid source address")                                                    \
    X(IP_NOT_FOR_US, "ip: destination is not ours")                                                \
    X(IP_BAD_FRAG, "ip: fragment extends past 65535")                                              \
    X(IP_FRAG_OVERLAP, "ip: overlapping fragments")                                                \
    X(IP_FRAG_TOO_BIG, "ip: reassembled datagram over 65535")                                      \
    X(IP_FRAG_NO_MEM, "ip: reassembly memory limit")                                               \
    X(IP_FRAG_TIMEOUT, "ip: reassembly timeout")                                                   \
    X(IP_FRAG_ECN, "ip: fragments mixing not-ECT and ECT (RFC 3168 5.3)")                          \
    X(IP_UNKNOWN_PROTO, "ip: no handler for protocol")                                             \
    X(IP_NO_ROUTE, "ip: no route to destination")                                                  \
    X(IP_DF_TOO_BIG, "ip: DF set and larger than MTU")                                             \
    X(ICMP_TRUNCATED, "icmp: message too short")                                                   \
    X(ICMP_BAD_CSUM, "icmp: bad checksum")                                                         \
    X(ICMP_BAD_TYPE, "icmp: unhandled type")                                                       \
    X(ICMP_BAD_QUOTE, "icmp: error quotes an invalid datagram")                                    \
    X(ICMP_NO_SOCKET, "icmp: no socket for echo reply / error")                                    \
    X(ICMP_BCAST_ECHO, "icmp: echo request to broadcast ignored")                                  \
    X(UDP_TRUNCATED, "udp: datagram shorter than header")                                          \
    X(UDP_BAD_LEN, "udp: bad length field")                                                        \
    X(UDP_BAD_CSUM, "udp: bad checksum")                                                           \
    X(UDP_NO_PORT, "udp: no socket on port")                                                       \
    X(UDP_RCVBUF_FULL, "udp: socket receive queue full")                                           \
    X(TCP_TRUNCATED, "tcp: segment shorter than header")                                          \
    X(TCP_BAD_DOFF, "tcp: bad data offset")                                                        \
    X(TCP_BAD_CSUM, "tcp: bad checksum")                                                           \
    X(TCP_BAD_FLAGS, "tcp: impossible flag combination")                                           \
    X(TCP_BAD_OPTIONS, "tcp: malformed options")                                                   \
    X(TCP_BCAST, "tcp: segment to a broadcast/multicast address")                                  \
    X(TCP_NO_SOCKET, "tcp: no connection or listener (RST sent)")                                  \
    X(TCP_LISTEN_ACK, "tcp: ACK or non-SYN to a listener")                                         \
    X(TCP_LISTEN_OVERFLOW, "tcp: listen queue full")                                               \
    X(TCP_NO_MEM, "tcp: connection limit or no memory")                                            \
    X(TCP_BAD_ACK, "tcp: unacceptable ACK")                                                        \
    X(TCP_PAWS, "tcp: old timestamp (PAWS)")                                                       \
    X(TCP_OUT_OF_WINDOW, "tcp: segment outside the receive window")                                \
    X(TCP_OOO_FULL, "tcp: out-of-order queue full")                                                \
    X(TCP_RCVBUF_FULL, "tcp: receive buffer full")                                                 \
    X(TCP_BAD_COOKIE, "tcp: ACK with an invalid SYN cookie")                                       \
    X(TX_DRIVER, "tx: driver refused frame")

enum us_drop_reason {
#define US_DROP_ENUM(name, text) US_DROP_##name,
    US_DROP_LIST(US_DROP_ENUM)
#undef US_DROP_ENUM
    US_DROP__COUNT
};

/* Event counters that are not drops (netstat -s prints both). */
#define US_STAT_LIST(X)                                                                            \
    X(ETH_IN, "ethernet frames received")                                                          \
    X(ETH_OUT, "ethernet frames sent")                                                             \
    X(ARP_IN, "arp packets received")                                                              \
    X(ARP_REQ_OUT, "arp requests sent")                                                            \
    X(ARP_REPLY_OUT, "arp replies sent")                                                           \
    X(ARP_GRATUITOUS_OUT, "gratuitous arp sent")                                                   \
    X(ARP_RESOLVED, "arp entries resolved")                                                        \
    X(ARP_EXPIRED, "arp entries expired")                                                          \
    X(IP_IN, "ip datagrams received")                                                              \
    X(IP_IN_DELIVERED, "ip datagrams delivered")                                                   \
    X(IP_OUT, "ip datagrams sent")                                                                 \
    X(IP_FRAG_IN, "ip fragments received")                                                         \
    X(IP_REASM_OK, "ip datagrams reassembled")                                                     \
    X(IP_FRAG_CREATED, "ip fragments created")                                                     \
    X(IP_FRAGMENTED, "ip datagrams fragmented")                                                    \
    X(ICMP_IN, "icmp messages received")                                                           \
    X(ICMP_OUT, "icmp messages sent")                                                              \
    X(ICMP_ECHO_REQ_IN, "icmp echo requests received")                                             \
    X(ICMP_ECHO_REPLY_OUT, "icmp echo replies sent")                                               \
    X(ICMP_ERR_IN, "icmp errors received")                                                         \
    X(ICMP_ERR_OUT, "icmp errors sent")                                                            \
    X(ICMP_ERR_RATELIMITED, "icmp errors suppressed by rate limit")                                \
    X(ICMP_ERR_SUPPRESSED, "icmp errors not sent (about icmp error, broadcast or fragment)")       \
    X(UDP_IN, "udp datagrams received")                                                            \
    X(UDP_OUT, "udp datagrams sent")                                                               \
    X(SOCK_LIMIT, "socket creations refused by limit")                                             \
    X(TCP_IN_SEGS, "tcp segments received")                                                        \
    X(TCP_OUT_SEGS, "tcp segments sent")                                                           \
    X(TCP_ACTIVE_OPENS, "tcp active opens (connect)")                                              \
    X(TCP_PASSIVE_OPENS, "tcp passive opens (SYN to a listener)")                                  \
    X(TCP_ESTABLISHED, "tcp connections established")                                              \
    X(TCP_RST_IN, "tcp resets received")                                                           \
    X(TCP_RST_OUT, "tcp resets sent")                                                              \
    X(TCP_RETRANS, "tcp segments retransmitted")                                                   \
    X(TCP_RTO, "tcp retransmission timeouts")                                                      \
    X(TCP_FAST_RETRANS, "tcp fast retransmits")                                                    \
    X(TCP_LOST_RETRANS, "tcp retransmissions found lost by SACK and resent")                       \
    X(TCP_RACK_LOST, "tcp segments RACK marked lost (RFC 8985 6.2)")                               \
    X(TCP_RACK_REO_TIMEOUT, "tcp RACK reordering timer expirations (RFC 8985 6.2)")                \
    X(TCP_TLP_PROBES, "tcp tail loss probes sent (RFC 8985)")                                      \
    X(TCP_TIMER_RETRY, "tcp timers queued late (the timer heap was out of memory)")                \
    X(TCP_TLP_LOSS, "tcp losses found by a tail loss probe or its timeout")                        \
    X(TCP_TLP_SPURIOUS, "tcp tail loss probes a D-SACK showed were not needed")                     \
    X(TCP_SPURIOUS_RTX, "tcp segments resent in a loss episode that had arrived (D-SACK, TS)")     \
    X(TCP_UNDO_DSACK, "tcp cwnd reductions undone: D-SACKs showed every retransmission spurious") \
    X(TCP_UNDO_TS, "tcp cwnd reductions undone: a timestamp showed the original arrived")          \
    X(TCP_SACK_RENEGING, "tcp peers found to have dropped data they had SACKed")                   \
    X(TCP_DUPACKS, "tcp duplicate acks received")                                                  \
    X(TCP_TIMEOUTS, "tcp connections timed out")                                                   \
    X(TCP_CHALLENGE_ACK, "tcp challenge acks sent (RFC 5961)")                                     \
    X(TCP_CHALLENGE_ACK_LIMITED, "tcp challenge acks suppressed by the rate limit")                \
    X(TCP_SYNCOOKIES_SENT, "tcp syn cookies sent")                                                 \
    X(TCP_SYNCOOKIES_OK, "tcp syn cookies accepted")                                               \
    X(TCP_TW_REOPEN, "tcp time-wait connections reopened by a new SYN")                            \
    X(TCP_PMTU_LOWERED, "tcp mss lowered by fragmentation-needed")                                 \
    X(TCP_KEEPALIVE_PROBES, "tcp keepalive probes sent")                                          \
    X(TCP_OOW_ACK_LIMITED, "tcp acks for invalid segments suppressed by the rate limit")         \
    X(TCP_SYN_DATA, "tcp data on a SYN queued until the handshake completed")                      \
    X(TCP_URG_IN, "tcp urgent pointers received that started or moved urgent mode")                \
    X(TCP_URG_OUT, "tcp sends marked urgent (MSG_OOB)")                                            \
    X(TCP_DSACK_OUT, "tcp duplicate segments reported in a D-SACK block (RFC 2883)")            \
    X(TCP_ECN_NEGOTIATED, "tcp connections that negotiated ECN (RFC 3168)")                         \
    X(TCP_ECN_SYN_FALLBACK, "tcp SYNs sent again without ECN after a timeout")                     \
    X(TCP_ECN_CE_IN, "tcp segments received marked CE (congestion experienced)")                   \
    X(TCP_ECN_ECE_IN, "tcp segments received with ECE (ECN-Echo)")                                \
    X(TCP_ECN_ECE_OUT, "tcp segments sent with ECE (ECN-Echo)")                                   \
    X(TCP_ECN_CWND_REDUCED, "tcp congestion windows reduced for ECN-Echo")                        \
    X(TCP_ECN_CWR_OUT, "tcp segments sent with CWR (congestion window reduced)")                  \
    X(TCP_CONN_ALLOC, "tcp control blocks allocated")                                              \
    X(TCP_CONN_FREE, "tcp control blocks freed")                                                   \
    X(TCP_TW_ALLOC, "tcp compact time-wait records made")                                          \
    X(TCP_TW_FREE, "tcp compact time-wait records ended")                                          \
    X(TCP_EPISODE_NO_MEM, "tcp loss episodes begun without undo state (out of memory)")

enum us_stat {
#define US_STAT_ENUM(name, text) US_STAT_##name,
    US_STAT_LIST(US_STAT_ENUM)
#undef US_STAT_ENUM
    US_STAT__COUNT
};

#endif
