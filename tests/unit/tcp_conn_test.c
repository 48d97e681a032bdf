/* TCP control block pages (tcp_conn.c): ids map to blocks and back, freed blocks are found no
 * more (timers name blocks by id), pages fill before new ones are taken, empty pages are
 * released but one is kept, and released page indices are reused. Loss episodes
 * (tcp_recovery.c) come from the stack's pool: an ended one is reused, at most 64 wait. */
#include <string.h>

#include <ustack.h>

#include "core/core.h"
#include "tcp/tcp.h"
#include "lib/testutil.h"

#define N (5 * US_TCP_PAGE_CONNS + 7)

START_TEST(ids_map_to_blocks)
{
    struct us_stack *st = us_stack_new(NULL, 1);
    static struct us_tcp_conn *c[N];
    for (uint32_t i = 0; i < N; i++) {
        c[i] = us_tcp_conn_new(st);
        ck_assert_ptr_nonnull(c[i]);
        ck_assert_ptr_eq(us_tcp_conn_by_id(st, c[i]->id), c[i]);
        ck_assert_int_eq(c[i]->fd, -1);
        ck_assert_int_eq(c[i]->state, US_TCPS_CLOSED);
        for (uint32_t j = 0; j < i; j++)
            ck_assert_uint_ne(c[i]->id, c[j]->id);
    }
    ck_assert_uint_eq(st->tcp->n_live, N);
    ck_assert_uint_eq(st->tcp->n_pages, N / US_TCP_PAGE_CONNS + 1); /* pages fill first */
    /* ids never handed out, and ids far beyond the table, name nothing */
    ck_assert_ptr_null(us_tcp_conn_by_id(st, N + US_TCP_PAGE_CONNS));
    ck_assert_ptr_null(us_tcp_conn_by_id(st, UINT32_MAX));

    /* Free every other block: they are found no more; the next allocations reuse them. */
    uint32_t freed_id[N];
    size_t nf = 0;
    for (uint32_t i = 0; i < N; i += 2) {
        freed_id[nf++] = c[i]->id;
        c[i]->bytes_sent = 777;
        us_tcp_conn_free(st, c[i]);
        c[i] = NULL;
    }
    for (size_t k = 0; k < nf; k++)
        ck_assert_ptr_null(us_tcp_conn_by_id(st, freed_id[k]));
    uint32_t pages = st->tcp->n_pages;
    for (uint32_t i = 0; i < N; i += 2) {
        c[i] = us_tcp_conn_new(st);
        ck_assert_ptr_nonnull(c[i]);
        ck_assert_uint_eq(c[i]->bytes_sent, 0); /* a fresh block: nothing of the old one left */
    }
    ck_assert_uint_eq(st->tcp->n_pages, pages);

    /* Free everything: all pages but one are released; then the table fills again. */
    for (uint32_t i = 0; i < N; i++)
        us_tcp_conn_free(st, c[i]);
    ck_assert_uint_eq(st->tcp->n_live, 0);
    size_t kept = 0;
    for (uint32_t p = 0; p < st->tcp->n_pages; p++)
        kept += st->tcp->pages[p] != NULL;
    ck_assert_uint_eq(kept, 1);
    for (uint32_t i = 0; i < N; i++)
        ck_assert_ptr_nonnull(c[i] = us_tcp_conn_new(st));
    ck_assert_uint_eq(st->tcp->n_pages, pages); /* released indices were reused */
    for (uint32_t i = 0; i < N; i++)
        us_tcp_conn_free(st, c[i]);
    us_stack_free(st);
}
END_TEST

START_TEST(limit_is_kept)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_max_conns = 70;
    struct us_stack *st = us_stack_new(&cfg, 1);
    struct us_tcp_conn *c[71];
    for (int i = 0; i < 70; i++)
        ck_assert_ptr_nonnull(c[i] = us_tcp_conn_new(st));
    ck_assert_ptr_null(us_tcp_conn_new(st));
    us_tcp_conn_free(st, c[3]);
    ck_assert_ptr_nonnull(c[3] = us_tcp_conn_new(st));
    for (int i = 0; i < 70; i++)
        us_tcp_conn_free(st, c[i]);
    us_stack_free(st);
}
END_TEST

START_TEST(episodes_pooled)
{
    struct us_stack *st = us_stack_new(NULL, 1);
    enum { M = 70 };
    struct us_tcp_conn *c[M];
    for (int i = 0; i < M; i++)
        ck_assert_ptr_nonnull(c[i] = us_tcp_conn_new(st));
    /* one episode ends: the next one, on another connection, is the same memory */
    c[0]->cwnd = 10000;
    us_tcp_episode_begin(st, c[0], false);
    struct us_tcp_episode *ep = c[0]->ep;
    ck_assert_ptr_nonnull(ep);
    ck_assert_uint_eq(ep->prior_cwnd, 10000);
    us_tcp_episode_free(st, c[0]);
    ck_assert_ptr_null(c[0]->ep);
    ck_assert_uint_eq(st->tcp->ep_spares, 1);
    c[1]->cwnd = 20000;
    us_tcp_episode_begin(st, c[1], true);
    ck_assert_ptr_eq(c[1]->ep, ep);
    ck_assert_uint_eq(st->tcp->ep_spares, 0);
    ck_assert_uint_eq(ep->prior_cwnd, 20000); /* a fresh episode: nothing of the old one left */
    ck_assert(ep->rto);
    ck_assert_uint_eq(ep->retrans, 0);
    /* M episodes at once, then all end: 64 wait for reuse, the rest are freed */
    for (int i = 0; i < M; i++)
        us_tcp_episode_begin(st, c[i], false);
    for (int i = 0; i < M; i++) {
        ck_assert_ptr_nonnull(c[i]->ep);
        us_tcp_episode_free(st, c[i]);
    }
    ck_assert_uint_eq(st->tcp->ep_spares, 64);
    ck_assert_uint_eq(us_stat_get(st, US_STAT_TCP_EPISODE_NO_MEM), 0);
    /* a block freed during an episode returns it; the spares go with the stack (LSan checks) */
    us_tcp_episode_begin(st, c[2], false);
    ck_assert_uint_eq(st->tcp->ep_spares, 63);
    for (int i = 0; i < M; i++)
        us_tcp_conn_free(st, c[i]);
    ck_assert_uint_eq(st->tcp->ep_spares, 64);
    us_stack_free(st);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("tcp_conn");
    TCase *tc = tcase_create("pages");
    tcase_add_test(tc, ids_map_to_blocks);
    tcase_add_test(tc, limit_is_kept);
    tcase_add_test(tc, episodes_pooled);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
