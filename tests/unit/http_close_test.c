/* The built-in HTTP service's connection handling (apps/services.c) on one stack driven segment
 * by segment: after a response that carries "Connection: close" (the request asked, or it was
 * HTTP/1.0 without keep-alive) the server sends its FIN right behind the body (RFC 9112 9.6,
 * 9.3), never an RST, even with a pipelined request unread behind the closing one; it waits for
 * the client's FIN before it lets go of the socket (a lingering close), but not forever; a
 * keep-alive request keeps the connection open. */
#include <string.h>

#include "lib/svcharness.h"
#include "lib/testutil.h"

/* The HTTP service with the default limits and one client connected. */
static void
svc_open(struct svc *v)
{
    svc_start(v, NULL);
    svc_peer_open(v, 0);
}

static void
expect_body_last(const struct svc *v)
{
    const struct svc_peer *p = &v->p[0];
    size_t bl = sizeof(SVC_BODY) - 1;
    ck_assert_uint_ge(p->got_len, bl);
    ck_assert_mem_eq(p->got + p->got_len - bl, SVC_BODY, bl);
}

/* The state of the service's end of the connection, with a descriptor or orphaned. */
static const char *
conn_state(struct svc *v)
{
    struct us_sock_info si[8];
    size_t n = us_sock_list(v->o.st, si, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (si[i].fd >= 0 && si[i].remote.port == v->p[0].t.pport)
            return us_tcp_state_name(si[i].state);
    return os_tcp_state(&v->o, -1, &v->p[0].t);
}

/* The client's FIN: after ours, the server lets go and the stack keeps only TIME-WAIT; before
 * ours (want ""), the server closes too and the connection is gone once we ACK its FIN. */
static void
client_fin(struct svc *v, const char *want)
{
    svc_client_fin(v, 0);
    ck_assert_str_eq(conn_state(v), want);
}

START_TEST(close_requested_fin_follows_body)
{
    struct svc v;
    svc_open(&v);
    svc_send(&v, 0, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1"), 1);
    ck_assert_ptr_nonnull(strstr(v.p[0].got, "\r\nConnection: close\r\n"));
    expect_body_last(&v);
    ck_assert_msg(v.p[0].fin, "no FIN after the Connection: close response");
    ck_assert(!v.p[0].rst);
    ck_assert_str_eq(conn_state(&v), "FIN-WAIT-2");
    client_fin(&v, "TIME-WAIT");
    ck_assert(!v.p[0].rst);
    svc_close(&v);
}
END_TEST

START_TEST(http10_closes)
{
    struct svc v;
    svc_open(&v);
    svc_send(&v, 0, "GET /a.txt HTTP/1.0\r\n\r\n");
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1"), 1);
    expect_body_last(&v);
    ck_assert_msg(v.p[0].fin, "no FIN after an HTTP/1.0 response");
    client_fin(&v, "TIME-WAIT");
    ck_assert(!v.p[0].rst);
    svc_close(&v);
}
END_TEST

START_TEST(pipelined_behind_close_no_rst)
{
    /* RFC 9112 9.6: the request after the closing one is not answered, and the close is a FIN,
     * not the RST an immediate close with unread data would be. More data from the client
     * while the server lingers is read and dropped, also without an RST. */
    struct svc v;
    svc_open(&v);
    svc_send(&v, 0, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1"), 1);
    expect_body_last(&v);
    ck_assert(v.p[0].fin);
    svc_send(&v, 0, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1"), 1);
    ck_assert(!v.p[0].rst);
    client_fin(&v, "TIME-WAIT");
    ck_assert(!v.p[0].rst);
    svc_close(&v);
}
END_TEST

START_TEST(keep_alive_stays_open)
{
    struct svc v;
    svc_open(&v);
    svc_send(&v, 0, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    svc_send(&v, 0, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ck_assert_int_eq(svc_responses(&v.p[0], "HTTP/1.1"), 2);
    ck_assert(!v.p[0].fin);
    svc_advance(&v, US_SEC(30));
    ck_assert(!v.p[0].fin);
    ck_assert_str_eq(conn_state(&v), "ESTABLISHED");
    /* the client closes: so does the server */
    client_fin(&v, "");
    ck_assert(v.p[0].fin);
    ck_assert(!v.p[0].rst);
    svc_close(&v);
}
END_TEST

/* Sockets with a descriptor (orphaned connections have none). */
static int
open_fds(struct svc *v)
{
    struct us_sock_info si[8];
    size_t n = us_sock_list(v->o.st, si, 8);
    int fds = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        fds += si[i].fd >= 0;
    return fds;
}

START_TEST(linger_is_bounded)
{
    /* A client that never sends its FIN does not hold the service's socket for ever: after the
     * linger time the server closes it (the stack's FIN-WAIT-2 timeout ends the rest). */
    struct svc v;
    svc_open(&v);
    svc_send(&v, 0, "GET /a.txt HTTP/1.0\r\n\r\n");
    ck_assert(v.p[0].fin);
    ck_assert_int_eq(open_fds(&v), 2); /* the listener and the connection */
    us_time_t due = us_services_next_deadline(v.s);
    ck_assert_int_eq(due, v.o.now + US_SEC(5)); /* the daemon's loop wakes up for it */
    svc_advance(&v, US_SEC(5) - 1);
    ck_assert_int_eq(open_fds(&v), 2); /* still lingering */
    svc_advance(&v, 1);
    ck_assert_int_eq(open_fds(&v), 1); /* the listener only */
    ck_assert_int_eq(us_services_next_deadline(v.s), US_TIME_NEVER);
    ck_assert(!v.p[0].rst);
    svc_close(&v);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("http_close");
    TCase *tc = tcase_create("http");
    tcase_add_unchecked_fixture(tc, svc_root_make, svc_root_remove);
    tcase_add_test(tc, close_requested_fin_follows_body);
    tcase_add_test(tc, http10_closes);
    tcase_add_test(tc, pipelined_behind_close_no_rst);
    tcase_add_test(tc, keep_alive_stays_open);
    tcase_add_test(tc, linger_is_bounded);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
