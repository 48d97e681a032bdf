/* The HTTP service's deadlines and limits (apps/services.c) on one stack driven segment by
 * segment, with virtual time: a request head that has not completed within the head timeout
 * gets "408 Request Timeout", Connection: close and a FIN, however the client trickles its bytes
 * (the deadline is not moved by each byte); a connection that sent nothing gets only a FIN; on a
 * kept-alive connection the head deadline starts at the next request's first byte and the idle
 * timeout closes a connection with no request with a FIN; a connection over the connection
 * limit or the memory limit gets "503 Service Unavailable" with Connection: close and a FIN,
 * never an RST, while the connections already served go on; a response the client takes no
 * byte of for the send timeout ends with an RST; each is counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "lib/onestack.h"
#include "lib/testutil.h"
#include "services.h"

#define S US_TCP_SYN
#define A US_TCP_ACK
#define F US_TCP_FIN
#define R US_TCP_RST
#define P US_TCP_PSH

#define IDLE US_SEC(10)
#define HEAD US_SEC(5)
#define SEND US_SEC(20)
#define NPEER 3

static char root[64];
static const char body[] = "hello from the ustack http service\n";
static const char get_ka[] = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n";

static void
root_make(void)
{
    snprintf(root, sizeof(root), "/tmp/ust-limits-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char path[128];
    snprintf(path, sizeof(path), "%s/a.txt", root);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(body, 1, sizeof(body) - 1, f), sizeof(body) - 1);
    fclose(f);
    snprintf(path, sizeof(path), "%s/big.bin", root);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    static char big[1 << 20];
    memset(big, 'b', sizeof(big));
    ck_assert_uint_eq(fwrite(big, 1, sizeof(big), f), sizeof(big));
    fclose(f);
}

static void
root_remove(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/a.txt", root);
    unlink(path);
    snprintf(path, sizeof(path), "%s/big.bin", root);
    unlink(path);
    rmdir(root);
}

/* One client connection: what the server sent it, in order, and how it ended. */
struct peer {
    struct os_tcp t;
    char got[8192];
    size_t got_len;
    bool fin, rst;
    bool deaf; /* takes and acknowledges nothing (a client that stopped reading) */
    uint32_t hi; /* while deaf: one past the highest sequence number the server sent */
};

struct svc {
    struct onestack o;
    struct us_services *s;
    struct peer p[NPEER];
};

static void
run(struct svc *v)
{
    us_ready_dispatch(v->o.st, 1024, v->o.now);
    us_services_run(v->s, v->o.st, v->o.now);
}

/* Runs the services, then takes what the stack sent, hands each segment to its peer and ACKs
 * data and FINs. */
static void
step(struct svc *v)
{
    run(v);
    while (os_tcp_pending(&v->o) > 0) {
        struct us_tcp_repr r;
        os_tcp_pop(&v->o, &r);
        struct peer *p = NULL;
        for (int i = 0; i < NPEER; i++)
            if (v->p[i].t.pport == r.dst_port)
                p = &v->p[i];
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(r.src_port, 80);
        if (r.flags & R) {
            p->rst = true;
            continue;
        }
        if (p->deaf && r.payload_len > 0 && (int32_t)(r.seq + (uint32_t)r.payload_len - p->hi) > 0)
            p->hi = r.seq + (uint32_t)r.payload_len;
        if (r.flags & S || p->deaf)
            continue; /* a SYN-ACK (taken by peer_open), or not heard */
        ck_assert_msg(!p->fin || r.payload_len == 0, "data after the FIN");
        if (r.payload_len > 0) {
            ck_assert_uint_eq(r.seq, p->t.ack);
            ck_assert_uint_le(p->got_len + r.payload_len, sizeof(p->got) - 1);
            memcpy(p->got + p->got_len, r.payload, r.payload_len);
            p->got_len += r.payload_len;
            p->got[p->got_len] = '\0';
            p->t.ack += (uint32_t)r.payload_len;
        }
        if (r.flags & F) {
            p->fin = true;
            p->t.ack = r.seq + (uint32_t)r.payload_len + 1;
        }
        if (r.payload_len > 0 || (r.flags & F))
            os_tcp_tx(&v->o, &p->t, A, NULL, 0);
        run(v);
    }
}

static void
advance(struct svc *v, us_time_t dur)
{
    os_advance(&v->o, dur);
    step(v);
}

/* Client i's handshake to port 80 (no options), then the services run. */
static void
peer_open(struct svc *v, int i)
{
    struct peer *p = &v->p[i];
    memset(p, 0, sizeof(*p));
    p->t = (struct os_tcp){.port = 80, .pport = (uint16_t)(40000 + i), .seq = 1000, .wnd = 65535};
    os_tcp_tx(&v->o, &p->t, S, NULL, 0);
    struct us_tcp_repr sa;
    os_tcp_rx(&v->o, &p->t, &sa);
    ck_assert_uint_eq(sa.flags, S | A);
    p->t.ack = sa.seq + 1;
    os_tcp_tx(&v->o, &p->t, A, NULL, 0);
    step(v);
}

static void
svc_start(struct svc *v, const struct us_services_limits *lim)
{
    memset(v, 0, sizeof(*v));
    os_start(&v->o, NULL);
    char list[160];
    snprintf(list, sizeof(list), "http=%s", root);
    ck_assert_int_eq(us_services_start_limits(&v->s, v->o.st, list, lim, v->o.now), 0);
    os_learn(&v->o, OS_PEER_IP, os_peer_mac);
}

static void
limits(struct us_services_limits *l)
{
    us_services_limits_default(l);
    l->http_idle_timeout = IDLE;
    l->http_head_timeout = HEAD;
    l->http_send_timeout = SEND;
}

/* The service with the test's limits and one client connected. */
static void
svc_one(struct svc *v)
{
    struct us_services_limits l;
    limits(&l);
    svc_start(v, &l);
    peer_open(v, 0);
}

static void
send_req(struct svc *v, int i, const char *req)
{
    os_tcp_tx(&v->o, &v->p[i].t, A | P, req, strlen(req));
    step(v);
}

static int
responses(const struct peer *p, const char *status)
{
    int n = 0;
    for (const char *q = p->got; (q = strstr(q, status)); q++)
        n++;
    return n;
}

static struct us_services_stats
stats(struct svc *v)
{
    struct us_services_stats t;
    us_services_get_stats(v->s, &t);
    return t;
}

/* The client's FIN after the server's: the server lets go of the connection. */
static void
client_fin(struct svc *v, int i)
{
    os_tcp_tx(&v->o, &v->p[i].t, F | A, NULL, 0);
    step(v);
}

static void
svc_close(struct svc *v)
{
    for (int i = 0; i < NPEER; i++)
        ck_assert_msg(!v->p[i].rst, "peer %d was reset", i);
    us_services_stop(v->s, v->o.st, v->o.now);
    os_tcp_finish(&v->o);
}

START_TEST(idle_timeout_closes_with_fin)
{
    struct svc v;
    svc_one(&v);
    send_req(&v, 0, get_ka);
    ck_assert_int_eq(responses(&v.p[0], "HTTP/1.1 200 OK\r\n"), 1);
    ck_assert(!v.p[0].fin);
    /* the daemon's loop is woken for the idle deadline */
    ck_assert_int_eq(us_services_next_deadline(v.s), v.o.now + IDLE);
    advance(&v, IDLE - 1);
    ck_assert(!v.p[0].fin);
    advance(&v, 1);
    ck_assert_msg(v.p[0].fin, "no FIN at the idle timeout");
    ck_assert_int_eq(responses(&v.p[0], "HTTP/1.1"), 1); /* no response with the FIN */
    ck_assert_uint_eq(stats(&v).http_idle_timeouts, 1);
    client_fin(&v, 0);
    ck_assert_uint_eq(stats(&v).http_conns, 0);
    ck_assert_uint_eq(stats(&v).http_memory, 0);
    svc_close(&v);
}
END_TEST

START_TEST(idle_timeout_restarts_after_each_response)
{
    struct svc v;
    svc_one(&v);
    for (int i = 0; i < 3; i++) {
        send_req(&v, 0, get_ka);
        advance(&v, IDLE - US_SEC(1));
        ck_assert(!v.p[0].fin);
    }
    ck_assert_int_eq(responses(&v.p[0], "HTTP/1.1 200 OK\r\n"), 3);
    advance(&v, US_SEC(1));
    ck_assert(v.p[0].fin);
    client_fin(&v, 0);
    svc_close(&v);
}
END_TEST

START_TEST(slow_head_gets_408)
{
    /* A slowloris: one byte a second. The deadline counts from the accept, not from the last
     * byte, so the trickle does not keep the connection. */
    struct svc v;
    svc_one(&v);
    us_time_t t0 = v.o.now;
    const char *req = "GET /a.txt HTTP/1.1\r\nHost: x\r\n";
    for (size_t i = 0; v.o.now - t0 < HEAD - US_SEC(1); i++) {
        send_req(&v, 0, (char[]){req[i], 0});
        advance(&v, US_SEC(1));
        ck_assert_uint_eq(v.p[0].got_len, 0);
        ck_assert(!v.p[0].fin);
    }
    ck_assert_int_eq(v.o.now - t0, HEAD - US_SEC(1));
    send_req(&v, 0, "X");
    advance(&v, US_SEC(1) - 1);
    ck_assert_uint_eq(v.p[0].got_len, 0);
    advance(&v, 1);
    ck_assert_msg(strncmp(v.p[0].got, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0, "got '%s'",
                  v.p[0].got);
    ck_assert_ptr_nonnull(strstr(v.p[0].got, "\r\nConnection: close\r\n"));
    ck_assert_msg(v.p[0].fin, "no FIN after the 408");
    ck_assert_uint_eq(stats(&v).http_head_timeouts, 1);
    /* more trickle while the server lingers is read and dropped, no RST */
    send_req(&v, 0, "Y");
    client_fin(&v, 0);
    ck_assert_uint_eq(stats(&v).http_conns, 0);
    svc_close(&v);
}
END_TEST

START_TEST(silent_connection_closed_at_head_timeout)
{
    struct svc v;
    svc_one(&v);
    ck_assert_int_eq(us_services_next_deadline(v.s), v.o.now + HEAD);
    advance(&v, HEAD - 1);
    ck_assert(!v.p[0].fin);
    advance(&v, 1);
    ck_assert_msg(v.p[0].fin, "no FIN at the head timeout");
    ck_assert_uint_eq(v.p[0].got_len, 0); /* nothing asked, nothing answered */
    ck_assert_uint_eq(stats(&v).http_silent_timeouts, 1);
    ck_assert_uint_eq(stats(&v).http_head_timeouts, 0);
    client_fin(&v, 0);
    svc_close(&v);
}
END_TEST

START_TEST(kept_alive_head_deadline_from_first_byte)
{
    /* After a response the idle timeout runs; the next request's first byte starts the head
     * deadline, which then ends a head that does not complete. */
    struct svc v;
    svc_one(&v);
    send_req(&v, 0, get_ka);
    advance(&v, IDLE - US_SEC(1));
    send_req(&v, 0, "GET /a.txt HTTP/1.1\r\n"); /* the idle deadline would pass in 1 s */
    advance(&v, US_SEC(2));
    ck_assert(!v.p[0].fin);
    advance(&v, HEAD - US_SEC(2) - 1);
    ck_assert(!v.p[0].fin);
    advance(&v, 1);
    ck_assert_int_eq(responses(&v.p[0], "HTTP/1.1 200 OK\r\n"), 1);
    ck_assert_int_eq(responses(&v.p[0], "HTTP/1.1 408 Request Timeout\r\n"), 1);
    ck_assert(v.p[0].fin);
    ck_assert_uint_eq(stats(&v).http_idle_timeouts, 0);
    client_fin(&v, 0);
    svc_close(&v);
}
END_TEST

START_TEST(send_timeout_resets_a_client_that_does_not_read)
{
    struct svc v;
    svc_one(&v);
    v.p[0].deaf = true;
    send_req(&v, 0, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    /* the send buffer filled at once; TCP retransmits, the service waits for room */
    advance(&v, SEND - 1);
    ck_assert(!v.p[0].rst);
    ck_assert_uint_eq(stats(&v).http_conns, 1);
    advance(&v, 1);
    ck_assert_msg(v.p[0].rst, "no RST at the send timeout");
    ck_assert_uint_eq(stats(&v).http_send_timeouts, 1);
    ck_assert_uint_eq(stats(&v).http_conns, 0);
    v.p[0].rst = false; /* expected here */
    svc_close(&v);
}
END_TEST

START_TEST(send_timeout_restarts_with_progress)
{
    /* A client that reads, only slowly: each byte TCP takes starts the send deadline again. */
    struct svc v;
    svc_one(&v);
    struct peer *p = &v.p[0];
    p->deaf = true;
    p->hi = p->t.ack;
    send_req(&v, 0, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        advance(&v, SEND - US_SEC(1));
        ck_assert_msg(!p->rst, "round %d: reset; send timeouts %llu", i,
                      (unsigned long long)stats(&v).http_send_timeouts);
        p->t.ack = p->hi; /* acknowledges what it has now, then stops again */
        os_tcp_tx(&v.o, &p->t, A, NULL, 0);
        step(&v);
    }
    ck_assert_uint_eq(stats(&v).http_send_timeouts, 0);
    ck_assert_uint_eq(stats(&v).http_conns, 1);
    os_tcp_tx(&v.o, &p->t, R, NULL, 0); /* the client gives up: the server lets go */
    step(&v);
    ck_assert_uint_eq(stats(&v).http_conns, 0);
    svc_close(&v);
}
END_TEST

/* Checks that peer i got exactly one 503 with Connection: close, and the FIN after it. */
static void
expect_503(struct svc *v, int i)
{
    struct peer *p = &v->p[i];
    ck_assert_msg(strncmp(p->got, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0, "got '%s'",
                  p->got);
    ck_assert_ptr_nonnull(strstr(p->got, "\r\nConnection: close\r\n"));
    ck_assert_int_eq(responses(p, "HTTP/1.1"), 1);
    /* the response is whole: the client parser finds its end */
    struct us_http_client_resp resp;
    us_http_cli_init(&resp, false);
    size_t used;
    const uint8_t *b;
    size_t blen;
    ck_assert_int_eq(us_http_cli_feed(&resp, (const uint8_t *)p->got, p->got_len, &used, &b,
                                      &blen),
                     0);
    ck_assert_int_eq(resp.status, 503);
    ck_assert(resp.headers_done);
    ck_assert_int_eq(resp.content_length, (int64_t)(p->got_len - used) + (int64_t)blen);
    ck_assert_msg(p->fin, "no FIN after the 503");
}

START_TEST(over_conn_limit_gets_503)
{
    struct svc v;
    struct us_services_limits l;
    limits(&l);
    l.http_max_conns = 1;
    svc_start(&v, &l);
    peer_open(&v, 0);
    /* the second client's request is already in when the server takes the connection: the
     * close after the 503 must still be a FIN (the request is read and dropped) */
    struct peer *p = &v.p[1];
    *p = (struct peer){.t = {.port = 80, .pport = 40001, .seq = 1000, .wnd = 65535}};
    os_tcp_tx(&v.o, &p->t, S, NULL, 0);
    struct us_tcp_repr sa;
    os_tcp_rx(&v.o, &p->t, &sa);
    p->t.ack = sa.seq + 1;
    os_tcp_tx(&v.o, &p->t, A, NULL, 0);
    os_tcp_tx(&v.o, &p->t, A | P, get_ka, strlen(get_ka));
    step(&v);
    expect_503(&v, 1);
    ck_assert_uint_eq(stats(&v).http_reject_conns, 1);
    ck_assert_uint_eq(stats(&v).http_conns, 1);
    client_fin(&v, 1);
    /* the connection within the limit is served as before */
    send_req(&v, 0, get_ka);
    ck_assert_int_eq(responses(&v.p[0], "HTTP/1.1 200 OK\r\n"), 1);
    /* once it ends, a new one is served */
    send_req(&v, 0, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert(v.p[0].fin);
    client_fin(&v, 0);
    peer_open(&v, 2);
    send_req(&v, 2, get_ka);
    ck_assert_int_eq(responses(&v.p[2], "HTTP/1.1 200 OK\r\n"), 1);
    ck_assert_uint_eq(stats(&v).http_reject_conns, 1);
    ck_assert_uint_eq(stats(&v).http_accepted, 2);
    client_fin(&v, 2);
    ck_assert(v.p[2].fin);
    svc_close(&v);
}
END_TEST

START_TEST(over_memory_limit_gets_503)
{
    struct svc v;
    struct us_services_limits l;
    limits(&l);
    l.http_max_memory = 1; /* no connection fits */
    svc_start(&v, &l);
    peer_open(&v, 0);
    expect_503(&v, 0);
    ck_assert_uint_eq(stats(&v).http_reject_memory, 1);
    ck_assert_uint_eq(stats(&v).http_reject_conns, 0);
    ck_assert_uint_eq(stats(&v).http_accepted, 0);
    /* the answered connection lingers for the client's FIN, and not for ever */
    ck_assert_int_eq(us_services_next_deadline(v.s), v.o.now + US_SEC(5));
    advance(&v, US_SEC(5));
    ck_assert_uint_eq(stats(&v).http_linger_timeouts, 1);
    ck_assert_uint_eq(stats(&v).http_memory, 0);
    svc_close(&v);
}
END_TEST

START_TEST(netstat_lines)
{
    struct svc v;
    struct us_services_limits l;
    limits(&l);
    l.http_max_conns = 1;
    svc_start(&v, &l);
    peer_open(&v, 0);
    peer_open(&v, 1);
    char buf[2048];
    size_t n = us_services_format_stats(v.s, buf, sizeof(buf));
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_ptr_nonnull(strstr(buf, "HTTP_CONNS                          1  "));
    ck_assert_ptr_nonnull(strstr(buf, "HTTP_REJECT_CONNS                   1  "));
    client_fin(&v, 1);
    client_fin(&v, 0);
    svc_close(&v);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("http_limits");
    TCase *tc = tcase_create("http");
    tcase_add_unchecked_fixture(tc, root_make, root_remove);
    tcase_add_test(tc, idle_timeout_closes_with_fin);
    tcase_add_test(tc, idle_timeout_restarts_after_each_response);
    tcase_add_test(tc, slow_head_gets_408);
    tcase_add_test(tc, silent_connection_closed_at_head_timeout);
    tcase_add_test(tc, kept_alive_head_deadline_from_first_byte);
    tcase_add_test(tc, send_timeout_resets_a_client_that_does_not_read);
    tcase_add_test(tc, send_timeout_restarts_with_progress);
    tcase_add_test(tc, over_conn_limit_gets_503);
    tcase_add_test(tc, over_memory_limit_gets_503);
    tcase_add_test(tc, netstat_lines);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
