/* The built-in HTTP service's connection handling (apps/services.c) on one stack driven segment
 * by segment: after a response that carries "Connection: close" (the request asked, or it was
 * HTTP/1.0 without keep-alive) the server sends its FIN right behind the body (RFC 9112 9.6,
 * 9.3), never an RST, even with a pipelined request unread behind the closing one; it waits for
 * the client's FIN before it lets go of the socket (a lingering close), but not forever; a
 * keep-alive request keeps the connection open. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/onestack.h"
#include "lib/testutil.h"
#include "services.h"

#define S US_TCP_SYN
#define A US_TCP_ACK
#define F US_TCP_FIN
#define R US_TCP_RST
#define P US_TCP_PSH

static char root[64];
static const char body[] = "hello from the ustack http service\n";

static void
root_make(void)
{
    snprintf(root, sizeof(root), "/tmp/ust-services-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char path[128];
    snprintf(path, sizeof(path), "%s/a.txt", root);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(body, 1, sizeof(body) - 1, f), sizeof(body) - 1);
    fclose(f);
}

static void
root_remove(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/a.txt", root);
    unlink(path);
    rmdir(root);
}

struct svc {
    struct onestack o;
    struct us_services *s;
    struct os_tcp t;
    char got[8192]; /* what the server sent, in order */
    size_t got_len;
    bool fin, rst;
};

/* What the daemon's loop does: the ready sockets, then the services' own work (connections
 * that used up their burst, lingering closes past their deadline). */
static void
run(struct svc *v)
{
    us_ready_dispatch(v->o.st, 1024, v->o.now);
    us_services_run(v->s, v->o.st, v->o.now);
}

/* Runs the services, then collects what the stack sent (ACKing each data segment). */
static void
step(struct svc *v)
{
    run(v);
    while (os_tcp_pending(&v->o) > 0) {
        struct us_tcp_repr r;
        os_tcp_rx(&v->o, &v->t, &r);
        if (r.flags & R) {
            v->rst = true;
            continue;
        }
        ck_assert_msg(!v->fin || r.payload_len == 0, "data after the FIN");
        if (r.payload_len > 0) {
            ck_assert_uint_eq(r.seq, v->t.ack);
            ck_assert_uint_le(v->got_len + r.payload_len, sizeof(v->got));
            memcpy(v->got + v->got_len, r.payload, r.payload_len);
            v->got_len += r.payload_len;
            v->t.ack += (uint32_t)r.payload_len;
        }
        if (r.flags & F) {
            v->fin = true;
            v->t.ack = r.seq + (uint32_t)r.payload_len + 1;
        }
        if (r.payload_len > 0 || (r.flags & F))
            os_tcp_tx(&v->o, &v->t, A, NULL, 0);
        run(v);
    }
}

/* Starts the HTTP service and opens a connection to port 80 from the peer. */
static void
svc_open(struct svc *v)
{
    memset(v, 0, sizeof(*v));
    os_start(&v->o, NULL);
    char list[160];
    snprintf(list, sizeof(list), "http=%s", root);
    ck_assert_int_eq(us_services_start(&v->s, v->o.st, list, v->o.now), 0);
    os_learn(&v->o, OS_PEER_IP, os_peer_mac);
    v->t = (struct os_tcp){.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_tx(&v->o, &v->t, S, NULL, 0);
    struct us_tcp_repr sa;
    os_tcp_rx(&v->o, &v->t, &sa);
    ck_assert_uint_eq(sa.flags, S | A);
    v->t.ack = sa.seq + 1;
    os_tcp_tx(&v->o, &v->t, A, NULL, 0);
    step(v);
}

static void
svc_request(struct svc *v, const char *req)
{
    os_tcp_tx(&v->o, &v->t, A | P, req, strlen(req));
    step(v);
}

/* How many responses arrived (status lines). */
static int
responses(const struct svc *v)
{
    int n = 0;
    for (size_t i = 0; i + 8 <= v->got_len; i++)
        if (memcmp(v->got + i, "HTTP/1.1", 8) == 0)
            n++;
    return n;
}

static void
expect_body_last(const struct svc *v)
{
    size_t bl = sizeof(body) - 1;
    ck_assert_uint_ge(v->got_len, bl);
    ck_assert_mem_eq(v->got + v->got_len - bl, body, bl);
}

static void
svc_close(struct svc *v)
{
    us_services_stop(v->s, v->o.st, v->o.now);
    os_tcp_finish(&v->o);
}

/* The state of the service's end of the connection, with a descriptor or orphaned. */
static const char *
conn_state(struct svc *v)
{
    struct us_sock_info si[8];
    size_t n = us_sock_list(v->o.st, si, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (si[i].fd >= 0 && si[i].remote.port == v->t.pport)
            return us_tcp_state_name(si[i].state);
    return os_tcp_state(&v->o, -1, &v->t);
}

/* The client's FIN: after ours, the server lets go and the stack keeps only TIME-WAIT; before
 * ours (want ""), the server closes too and the connection is gone once we ACK its FIN. */
static void
client_fin(struct svc *v, const char *want)
{
    os_tcp_tx(&v->o, &v->t, F | A, NULL, 0);
    step(v);
    ck_assert_str_eq(conn_state(v), want);
}

START_TEST(close_requested_fin_follows_body)
{
    struct svc v;
    svc_open(&v);
    svc_request(&v, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_int_eq(responses(&v), 1);
    ck_assert_ptr_nonnull(strstr(v.got, "\r\nConnection: close\r\n"));
    expect_body_last(&v);
    ck_assert_msg(v.fin, "no FIN after the Connection: close response");
    ck_assert(!v.rst);
    ck_assert_str_eq(conn_state(&v), "FIN-WAIT-2");
    client_fin(&v, "TIME-WAIT");
    ck_assert(!v.rst);
    svc_close(&v);
}
END_TEST

START_TEST(http10_closes)
{
    struct svc v;
    svc_open(&v);
    svc_request(&v, "GET /a.txt HTTP/1.0\r\n\r\n");
    ck_assert_int_eq(responses(&v), 1);
    expect_body_last(&v);
    ck_assert_msg(v.fin, "no FIN after an HTTP/1.0 response");
    client_fin(&v, "TIME-WAIT");
    ck_assert(!v.rst);
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
    svc_request(&v, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(responses(&v), 1);
    expect_body_last(&v);
    ck_assert(v.fin);
    svc_request(&v, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(responses(&v), 1);
    ck_assert(!v.rst);
    client_fin(&v, "TIME-WAIT");
    ck_assert(!v.rst);
    svc_close(&v);
}
END_TEST

START_TEST(keep_alive_stays_open)
{
    struct svc v;
    svc_open(&v);
    svc_request(&v, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    svc_request(&v, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ck_assert_int_eq(responses(&v), 2);
    ck_assert(!v.fin);
    os_advance(&v.o, US_SEC(30));
    step(&v);
    ck_assert(!v.fin);
    ck_assert_str_eq(conn_state(&v), "ESTABLISHED");
    /* the client closes: so does the server */
    client_fin(&v, "");
    ck_assert(v.fin);
    ck_assert(!v.rst);
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
    svc_request(&v, "GET /a.txt HTTP/1.0\r\n\r\n");
    ck_assert(v.fin);
    ck_assert_int_eq(open_fds(&v), 2); /* the listener and the connection */
    us_time_t due = us_services_next_deadline(v.s);
    ck_assert_int_eq(due, v.o.now + US_SEC(5)); /* the daemon's loop wakes up for it */
    os_advance(&v.o, US_SEC(5) - 1);
    step(&v);
    ck_assert_int_eq(open_fds(&v), 2); /* still lingering */
    os_advance(&v.o, 1);
    step(&v);
    ck_assert_int_eq(open_fds(&v), 1); /* the listener only */
    ck_assert_int_eq(us_services_next_deadline(v.s), US_TIME_NEVER);
    ck_assert(!v.rst);
    svc_close(&v);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("http_close");
    TCase *tc = tcase_create("http");
    tcase_add_unchecked_fixture(tc, root_make, root_remove);
    tcase_add_test(tc, close_requested_fin_follows_body);
    tcase_add_test(tc, http10_closes);
    tcase_add_test(tc, pipelined_behind_close_no_rst);
    tcase_add_test(tc, keep_alive_stays_open);
    tcase_add_test(tc, linger_is_bounded);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
