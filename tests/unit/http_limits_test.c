/* The HTTP service's deadlines and limits (apps/services.c) on one stack driven segment by
 * segment, with virtual time: a request head that has not completed within the head timeout
 * gets "408 Request Timeout", Connection: close and a FIN, however the client trickles its bytes
 * (the deadline is not moved by each byte); a connection that sent nothing gets only a FIN; on a
 * kept-alive connection the head deadline starts at the next request's first byte and the idle
 * timeout closes a connection with no request with a FIN; a connection over the connection
 * limit or the memory limit gets "503 Service Unavailable" with Connection: close and a FIN,
 * never an RST, while the connections already served go on; a response the client takes no
 * byte of for the send timeout ends with an RST; each is counted. */
#include <string.h>

#include "http.h"
#include "lib/svcharness.h"
#include "lib/testutil.h"

#define S US_TCP_SYN
#define A US_TCP_ACK
#define R US_TCP_RST
#define P US_TCP_PSH

#define IDLE US_SEC(10)
#define HEAD US_SEC(5)
#define SEND US_SEC(20)

static const char get_ka[] = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n";

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
    svc_peer_open(v, 0);
}

static struct us_services_stats
stats(struct svc *v)
{
    struct us_services_stats t;
    us_services_get_stats(v->s, &t);
    return t;
}

START_TEST(idle_timeout_closes_with_fin)
{
    struct svc v;
    svc_one(&v);
    svc_send(&v, 0, get_ka);
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1 200 OK\r\n"), 1);
    ck_assert(!v.p[0].fin);
    /* the daemon's loop is woken for the idle deadline */
    ck_assert_int_eq(us_services_next_deadline(v.s), v.o.now + IDLE);
    svc_advance(&v, IDLE - 1);
    ck_assert(!v.p[0].fin);
    svc_advance(&v, 1);
    ck_assert_msg(v.p[0].fin, "no FIN at the idle timeout");
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1"), 1); /* no response with the FIN */
    ck_assert_uint_eq(stats(&v).http_idle_timeouts, 1);
    svc_client_fin(&v, 0);
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
        svc_send(&v, 0, get_ka);
        svc_advance(&v, IDLE - US_SEC(1));
        ck_assert(!v.p[0].fin);
    }
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1 200 OK\r\n"), 3);
    svc_advance(&v, US_SEC(1));
    ck_assert(v.p[0].fin);
    svc_client_fin(&v, 0);
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
        svc_send(&v, 0, (char[]){req[i], 0});
        svc_advance(&v, US_SEC(1));
        ck_assert_uint_eq(v.p[0].got_len, 0);
        ck_assert(!v.p[0].fin);
    }
    ck_assert_int_eq(v.o.now - t0, HEAD - US_SEC(1));
    svc_send(&v, 0, "X");
    svc_advance(&v, US_SEC(1) - 1);
    ck_assert_uint_eq(v.p[0].got_len, 0);
    svc_advance(&v, 1);
    ck_assert_msg(strncmp(v.p[0].got, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0, "got '%s'",
                  v.p[0].got);
    ck_assert_ptr_nonnull(strstr(v.p[0].got, "\r\nConnection: close\r\n"));
    ck_assert_msg(v.p[0].fin, "no FIN after the 408");
    ck_assert_uint_eq(stats(&v).http_head_timeouts, 1);
    /* more trickle while the server lingers is read and dropped, no RST */
    svc_send(&v, 0, "Y");
    svc_client_fin(&v, 0);
    ck_assert_uint_eq(stats(&v).http_conns, 0);
    svc_close(&v);
}
END_TEST

START_TEST(silent_connection_closed_at_head_timeout)
{
    struct svc v;
    svc_one(&v);
    ck_assert_int_eq(us_services_next_deadline(v.s), v.o.now + HEAD);
    svc_advance(&v, HEAD - 1);
    ck_assert(!v.p[0].fin);
    svc_advance(&v, 1);
    ck_assert_msg(v.p[0].fin, "no FIN at the head timeout");
    ck_assert_uint_eq(v.p[0].got_len, 0); /* nothing asked, nothing answered */
    ck_assert_uint_eq(stats(&v).http_silent_timeouts, 1);
    ck_assert_uint_eq(stats(&v).http_head_timeouts, 0);
    svc_client_fin(&v, 0);
    svc_close(&v);
}
END_TEST

START_TEST(kept_alive_head_deadline_from_first_byte)
{
    /* After a response the idle timeout runs; the next request's first byte starts the head
     * deadline, which then ends a head that does not complete. */
    struct svc v;
    svc_one(&v);
    svc_send(&v, 0, get_ka);
    svc_advance(&v, IDLE - US_SEC(1));
    svc_send(&v, 0, "GET /a.txt HTTP/1.1\r\n"); /* the idle deadline would pass in 1 s */
    svc_advance(&v, US_SEC(2));
    ck_assert(!v.p[0].fin);
    svc_advance(&v, HEAD - US_SEC(2) - 1);
    ck_assert(!v.p[0].fin);
    svc_advance(&v, 1);
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1 200 OK\r\n"), 1);
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1 408 Request Timeout\r\n"), 1);
    ck_assert(v.p[0].fin);
    ck_assert_uint_eq(stats(&v).http_idle_timeouts, 0);
    svc_client_fin(&v, 0);
    svc_close(&v);
}
END_TEST

START_TEST(send_timeout_resets_a_client_that_does_not_read)
{
    struct svc v;
    svc_one(&v);
    v.p[0].deaf = true;
    svc_send(&v, 0, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    /* the send buffer filled at once; TCP retransmits, the service waits for room */
    svc_advance(&v, SEND - 1);
    ck_assert(!v.p[0].rst);
    ck_assert_uint_eq(stats(&v).http_conns, 1);
    svc_advance(&v, 1);
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
    struct svc_peer *p = &v.p[0];
    p->deaf = true;
    p->hi = p->t.ack;
    svc_send(&v, 0, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        svc_advance(&v, SEND - US_SEC(1));
        ck_assert_msg(!p->rst, "round %d: reset; send timeouts %llu", i,
                      (unsigned long long)stats(&v).http_send_timeouts);
        p->t.ack = p->hi; /* acknowledges what it has now, then stops again */
        os_tcp_tx(&v.o, &p->t, A, NULL, 0);
        svc_step(&v);
    }
    ck_assert_uint_eq(stats(&v).http_send_timeouts, 0);
    ck_assert_uint_eq(stats(&v).http_conns, 1);
    os_tcp_tx(&v.o, &p->t, R, NULL, 0); /* the client gives up: the server lets go */
    svc_step(&v);
    ck_assert_uint_eq(stats(&v).http_conns, 0);
    svc_close(&v);
}
END_TEST

/* Checks that peer i got exactly one 503 with Connection: close, and the FIN after it. */
static void
expect_503(struct svc *v, int i)
{
    struct svc_peer *p = &v->p[i];
    ck_assert_msg(strncmp(p->got, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0, "got '%s'",
                  p->got);
    ck_assert_ptr_nonnull(strstr(p->got, "\r\nConnection: close\r\n"));
    ck_assert_int_eq(svc_responses(p, "HTTP/1.1"), 1);
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
    svc_peer_open(&v, 0);
    /* the second client's request is already in when the server takes the connection: the
     * close after the 503 must still be a FIN (the request is read and dropped) */
    struct svc_peer *p = &v.p[1];
    *p = (struct svc_peer){.t = {.port = 80, .pport = 40001, .seq = 1000, .wnd = 65535}};
    os_tcp_syn(&v.o, &p->t, S, 0, S | A, NULL);
    os_tcp_tx(&v.o, &p->t, A, NULL, 0);
    os_tcp_tx(&v.o, &p->t, A | P, get_ka, strlen(get_ka));
    svc_step(&v);
    expect_503(&v, 1);
    ck_assert_uint_eq(stats(&v).http_reject_conns, 1);
    ck_assert_uint_eq(stats(&v).http_conns, 1);
    svc_client_fin(&v, 1);
    /* the connection within the limit is served as before */
    svc_send(&v, 0, get_ka);
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1 200 OK\r\n"), 1);
    /* once it ends, a new one is served */
    svc_send(&v, 0, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert(v.p[0].fin);
    svc_client_fin(&v, 0);
    svc_peer_open(&v, 2);
    svc_send(&v, 2, get_ka);
    ck_assert_int_eq(svc_responses(&v.p[2], "HTTP/1.1 200 OK\r\n"), 1);
    ck_assert_uint_eq(stats(&v).http_reject_conns, 1);
    ck_assert_uint_eq(stats(&v).http_accepted, 2);
    svc_client_fin(&v, 2);
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
    svc_peer_open(&v, 0);
    expect_503(&v, 0);
    ck_assert_uint_eq(stats(&v).http_reject_memory, 1);
    ck_assert_uint_eq(stats(&v).http_reject_conns, 0);
    ck_assert_uint_eq(stats(&v).http_accepted, 0);
    /* the answered connection lingers for the client's FIN, and not for ever */
    ck_assert_int_eq(us_services_next_deadline(v.s), v.o.now + US_SEC(5));
    svc_advance(&v, US_SEC(5));
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
    svc_peer_open(&v, 0);
    svc_peer_open(&v, 1);
    char buf[2048];
    size_t n = us_services_format_stats(v.s, buf, sizeof(buf));
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_ptr_nonnull(strstr(buf, "HTTP_CONNS                          1  "));
    ck_assert_ptr_nonnull(strstr(buf, "HTTP_REJECT_CONNS                   1  "));
    svc_client_fin(&v, 1);
    svc_client_fin(&v, 0);
    svc_close(&v);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("http_limits");
    TCase *tc = tcase_create("http");
    tcase_add_unchecked_fixture(tc, svc_root_make, svc_root_remove);
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
