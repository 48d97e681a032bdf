/* Harness for tests of the built-in services (see svcharness.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/svcharness.h"
#include "lib/testutil.h"

char svc_root[64];

void
svc_serve(struct us_services *svc, struct us_stack *st, us_time_t now)
{
    us_ready_dispatch(st, 1024, now);
    us_services_run(svc, st, now);
}

static void
root_file(const char *name, const void *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", svc_root, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

void
svc_root_make(void)
{
    snprintf(svc_root, sizeof(svc_root), "/tmp/ust-svc-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(svc_root));
    root_file("a.txt", SVC_BODY, sizeof(SVC_BODY) - 1);
    size_t n = 1 << 20;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, 'b', n);
    root_file("big.bin", big, n);
    free(big);
}

void
svc_root_remove(void)
{
    static const char *const files[] = {"a.txt", "big.bin"};
    char path[128];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", svc_root, files[i]);
        unlink(path);
    }
    rmdir(svc_root);
}

static void
run(struct svc *v)
{
    svc_serve(v->s, v->o.st, v->o.now);
}

void
svc_start(struct svc *v, const struct us_services_limits *lim)
{
    memset(v, 0, sizeof(*v));
    os_start(&v->o, NULL);
    char list[160];
    snprintf(list, sizeof(list), "http=%s", svc_root);
    ck_assert_int_eq(us_services_start_limits(&v->s, v->o.st, list, lim, v->o.now), 0);
    os_learn(&v->o, OS_PEER_IP, os_peer_mac);
}

void
svc_step(struct svc *v)
{
    run(v);
    while (os_tcp_pending(&v->o) > 0) {
        struct us_tcp_repr r;
        os_tcp_pop(&v->o, &r);
        struct svc_peer *p = NULL;
        for (int i = 0; i < SVC_NPEER; i++)
            if (v->p[i].t.pport == r.dst_port)
                p = &v->p[i];
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(r.src_port, 80);
        if (r.flags & US_TCP_RST) {
            p->rst = true;
            continue;
        }
        if (p->deaf && r.payload_len > 0 && (int32_t)(r.seq + (uint32_t)r.payload_len - p->hi) > 0)
            p->hi = r.seq + (uint32_t)r.payload_len;
        if (r.flags & US_TCP_SYN || p->deaf)
            continue; /* a SYN-ACK (taken by svc_peer_open), or not heard */
        ck_assert_msg(!p->fin || r.payload_len == 0, "data after the FIN");
        if (r.payload_len > 0) {
            ck_assert_uint_eq(r.seq, p->t.ack);
            ck_assert_uint_le(p->got_len + r.payload_len, sizeof(p->got) - 1);
            memcpy(p->got + p->got_len, r.payload, r.payload_len);
            p->got_len += r.payload_len;
            p->got[p->got_len] = '\0';
            p->t.ack += (uint32_t)r.payload_len;
        }
        if (r.flags & US_TCP_FIN) {
            p->fin = true;
            p->t.ack = r.seq + (uint32_t)r.payload_len + 1;
        }
        if (r.payload_len > 0 || (r.flags & US_TCP_FIN))
            os_tcp_tx(&v->o, &p->t, US_TCP_ACK, NULL, 0);
        run(v);
    }
}

void
svc_advance(struct svc *v, us_time_t dur)
{
    os_advance(&v->o, dur);
    svc_step(v);
}

void
svc_peer_open(struct svc *v, int i)
{
    struct svc_peer *p = &v->p[i];
    memset(p, 0, sizeof(*p));
    p->t = (struct os_tcp){.port = 80, .pport = (uint16_t)(40000 + i), .seq = 1000, .wnd = 65535};
    os_tcp_syn(&v->o, &p->t, US_TCP_SYN, 0, US_TCP_SYN | US_TCP_ACK, NULL);
    os_tcp_tx(&v->o, &p->t, US_TCP_ACK, NULL, 0);
    svc_step(v);
}

void
svc_send(struct svc *v, int i, const char *req)
{
    os_tcp_tx(&v->o, &v->p[i].t, US_TCP_ACK | US_TCP_PSH, req, strlen(req));
    svc_step(v);
}

void
svc_client_fin(struct svc *v, int i)
{
    os_tcp_tx(&v->o, &v->p[i].t, US_TCP_FIN | US_TCP_ACK, NULL, 0);
    svc_step(v);
}

int
svc_responses(const struct svc_peer *p, const char *status)
{
    int n = 0;
    for (const char *q = p->got; (q = strstr(q, status)); q++)
        n++;
    return n;
}

void
svc_close(struct svc *v)
{
    for (int i = 0; i < SVC_NPEER; i++)
        ck_assert_msg(!v->p[i].rst, "peer %d was reset", i);
    us_services_stop(v->s, v->o.st, v->o.now);
    os_tcp_finish(&v->o);
}
