/* Unit tests for the DNS stub resolver (apps/dns.c): exact query bytes, answer parsing against
 * hand-built messages (RFC 1035 4.1), and the retry/timeout logic over a scripted transport. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "lib/testutil.h"

Suite *make_suite(void);

/* ---- a tiny message builder ----------------------------------------------------------------- */

struct msg {
    uint8_t b[1024];
    size_t len;
};

static void
put8(struct msg *m, unsigned v)
{
    ck_assert_uint_lt(m->len, sizeof m->b);
    m->b[m->len++] = (uint8_t)v;
}

static void
put16(struct msg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

static void
put32(struct msg *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}

/* Uncompressed labels; ends with the root label unless ptr >= 0, then with a pointer to ptr. */
static void
put_name_ptr(struct msg *m, const char *name, int ptr)
{
    while (*name != '\0') {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        put8(m, (unsigned)n);
        for (size_t i = 0; i < n; i++)
            put8(m, (uint8_t)name[i]);
        name += n + (dot ? 1 : 0);
    }
    if (ptr >= 0)
        put16(m, 0xc000u | (unsigned)ptr);
    else
        put8(m, 0);
}

static void
put_name(struct msg *m, const char *name)
{
    put_name_ptr(m, name, -1);
}

#define QID 0x1234
#define QNAME "www.example.com"
#define F_RESP 0x8180 /* QR, RD, RA, NOERROR */
#define OFF_QNAME 12
#define T_A 1
#define T_CNAME 5
#define T_TXT 16
#define C_IN 1

static void
hdr(struct msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    m->len = 0;
    put16(m, id);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

static void
question(struct msg *m, const char *name, unsigned type, unsigned cls)
{
    put_name(m, name);
    put16(m, type);
    put16(m, cls);
}

/* Header + our question, ready for `an` answer records. */
static void
start(struct msg *m, unsigned flags, unsigned an)
{
    hdr(m, QID, flags, 1, an, 0, 0);
    question(m, QNAME, T_A, C_IN);
}

/* RR fixed part after the owner name (RFC 1035 4.1.3). */
static void
rr_fixed(struct msg *m, unsigned type, unsigned cls, uint32_t ttl, unsigned rdlen)
{
    put16(m, type);
    put16(m, cls);
    put32(m, ttl);
    put16(m, rdlen);
}

/* An A record owned by the question name (via a compression pointer). */
static void
a_rr(struct msg *m, uint32_t ttl, uint32_t addr)
{
    put16(m, 0xc000 | OFF_QNAME);
    rr_fixed(m, T_A, C_IN, ttl, 4);
    put32(m, addr);
}

static int
parse(const struct msg *m, struct us_dns_result *r)
{
    return us_dns_parse_answer(m->b, m->len, QID, QNAME, r);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* ---- query building ------------------------------------------------------------------------- */

START_TEST(test_query_bytes)
{
    static const uint8_t want[] = {
        0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header, RD */
        3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
        0x00, 0x01, 0x00, 0x01, /* A, IN */
    };
    uint8_t buf[512];
    memset(buf, 0xaa, sizeof buf);
    int n = us_dns_build_query(buf, sizeof buf, "www.example.com", 0xbeef);
    ck_assert_int_eq(n, (int)sizeof want);
    ck_assert_mem_eq(buf, want, sizeof want);
    /* A trailing dot names the same query. */
    uint8_t buf2[512];
    ck_assert_int_eq(us_dns_build_query(buf2, sizeof buf2, "www.example.com.", 0xbeef), n);
    ck_assert_mem_eq(buf2, want, sizeof want);
    /* Exactly enough room works, one byte less does not. */
    ck_assert_int_eq(us_dns_build_query(buf2, sizeof want, "www.example.com", 1), n);
    ck_assert_int_eq(us_dns_build_query(buf2, sizeof want - 1, "www.example.com", 1), -ENOSPC);
}
END_TEST

START_TEST(test_query_bad_names)
{
    uint8_t buf[512];
    char label63[64], label64[65], long253[254], long254[255];
    memset(label63, 'a', 63);
    label63[63] = '\0';
    memset(label64, 'b', 64);
    label64[64] = '\0';
    /* 253 characters: 4 labels of 62 + 1-char label, with dots: 4*63 + 1 = 253. */
    for (size_t i = 0; i < 253; i++)
        long253[i] = (i % 63 == 62) ? '.' : 'c';
    long253[253] = '\0';
    memcpy(long254, long253, 253);
    long254[253] = 'd';
    long254[254] = '\0';

    const char *bad[] = {"", ".", "..", "a..b", ".a", "a b", "a\\.b", "exa$mple.com", label64,
                         long254, "a.b..", "\xc3\xa9.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(us_dns_build_query(buf, sizeof buf, bad[i], 1) == -EINVAL, "name %zu", i);
    ck_assert_int_eq(us_dns_build_query(buf, sizeof buf, NULL, 1), -EINVAL);

    int n = us_dns_build_query(buf, sizeof buf, label63, 7);
    ck_assert_int_eq(n, 12 + 1 + 63 + 1 + 4);
    ck_assert_uint_eq(buf[12], 63);
    n = us_dns_build_query(buf, sizeof buf, long253, 7);
    ck_assert_int_eq(n, 12 + 255 + 4);
    ck_assert_int_gt(us_dns_build_query(buf, sizeof buf, "_sip._udp.Example-1.COM", 7), 0);
}
END_TEST

/* ---- answers -------------------------------------------------------------------------------- */

START_TEST(test_simple_a)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    a_rr(&m, 300, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_uint_eq(r.n_addrs, 1);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 1));
    ck_assert_uint_eq(r.ttl, 300);
    ck_assert_str_eq(r.canonical, QNAME);
    ck_assert_int_eq(r.rcode, 0);
    ck_assert(!r.truncated);
    /* Names compare without regard to ASCII case (RFC 1035 2.3.3), and a trailing dot is fine. */
    ck_assert_int_eq(us_dns_parse_answer(m.b, m.len, QID, "WWW.Example.COM.", &r), 0);
    ck_assert_uint_eq(r.n_addrs, 1);
}
END_TEST

START_TEST(test_multiple_a)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 4);
    a_rr(&m, 300, IP(192, 0, 2, 1));
    a_rr(&m, 60, IP(192, 0, 2, 2));
    a_rr(&m, 120, IP(192, 0, 2, 3));
    a_rr(&m, 10, IP(192, 0, 2, 2)); /* duplicate: not used, so its TTL does not count */
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_uint_eq(r.n_addrs, 3);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 1));
    ck_assert_uint_eq(r.addrs[1], IP(192, 0, 2, 2));
    ck_assert_uint_eq(r.addrs[2], IP(192, 0, 2, 3));
    ck_assert_uint_eq(r.ttl, 60);
}
END_TEST

START_TEST(test_ttl_top_bit)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    a_rr(&m, 0x80000000u, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_uint_eq(r.ttl, 0); /* RFC 2181 8 */
}
END_TEST

START_TEST(test_cname_chain_compressed)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 3);
    /* www.example.com CNAME web.<ptr example.com> */
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_CNAME, C_IN, 600, 6);
    size_t web = m.len;
    put_name_ptr(&m, "web", OFF_QNAME + 4);
    /* web.example.com (pointer to the CNAME target) CNAME cdn.<ptr example.com> */
    put16(&m, 0xc000 | (unsigned)web);
    rr_fixed(&m, T_CNAME, C_IN, 600, 6);
    size_t cdn = m.len;
    put_name_ptr(&m, "cdn", OFF_QNAME + 4);
    /* cdn.example.com A */
    put16(&m, 0xc000 | (unsigned)cdn);
    rr_fixed(&m, T_A, C_IN, 30, 4);
    put32(&m, IP(198, 51, 100, 7));
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_str_eq(r.canonical, "cdn.example.com");
    ck_assert_uint_eq(r.n_addrs, 1);
    ck_assert_uint_eq(r.addrs[0], IP(198, 51, 100, 7));
    ck_assert_uint_eq(r.ttl, 30);
}
END_TEST

START_TEST(test_cname_out_of_order)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 2);
    put_name(&m, "target.example.net");
    rr_fixed(&m, T_A, C_IN, 5, 4);
    put32(&m, IP(203, 0, 113, 9));
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_CNAME, C_IN, 600, 20);
    put_name(&m, "target.example.net");
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_str_eq(r.canonical, "target.example.net");
    ck_assert_uint_eq(r.addrs[0], IP(203, 0, 113, 9));
}
END_TEST

START_TEST(test_cname_to_root)
{
    /* Found by fuzz_dns: a CNAME to the root name; dn_expand() renders the root as "". */
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 2);
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_CNAME, C_IN, 60, 1);
    put8(&m, 0);
    put8(&m, 0);
    rr_fixed(&m, T_A, C_IN, 60, 4);
    put32(&m, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_str_eq(r.canonical, ".");
    ck_assert_uint_eq(r.n_addrs, 1);
}
END_TEST

static void
cname_rr(struct msg *m, const char *owner, const char *target)
{
    put_name(m, owner);
    rr_fixed(m, T_CNAME, C_IN, 60, (unsigned)strlen(target) + 2);
    put_name(m, target);
}

START_TEST(test_cname_loop_and_limit)
{
    struct msg m;
    struct us_dns_result r;
    /* www -> a -> www: bounded, reported as a loop. */
    start(&m, F_RESP, 2);
    cname_rr(&m, QNAME, "a.example.com");
    cname_rr(&m, "a.example.com", QNAME);
    ck_assert_int_eq(parse(&m, &r), -ELOOP);

    /* Exactly US_DNS_MAX_CNAME_HOPS hops are followed. */
    char names[US_DNS_MAX_CNAME_HOPS + 2][32];
    snprintf(names[0], sizeof names[0], "%s", QNAME);
    for (int i = 1; i <= US_DNS_MAX_CNAME_HOPS + 1; i++)
        snprintf(names[i], sizeof names[i], "h%d.example.com", i);
    start(&m, F_RESP, US_DNS_MAX_CNAME_HOPS + 1);
    for (int i = 0; i < US_DNS_MAX_CNAME_HOPS; i++)
        cname_rr(&m, names[i], names[i + 1]);
    put_name(&m, names[US_DNS_MAX_CNAME_HOPS]);
    rr_fixed(&m, T_A, C_IN, 60, 4);
    put32(&m, IP(192, 0, 2, 8));
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_str_eq(r.canonical, names[US_DNS_MAX_CNAME_HOPS]);

    /* One more is refused. */
    start(&m, F_RESP, US_DNS_MAX_CNAME_HOPS + 1);
    for (int i = 0; i <= US_DNS_MAX_CNAME_HOPS; i++)
        cname_rr(&m, names[i], names[i + 1]);
    ck_assert_int_eq(parse(&m, &r), -ELOOP);
}
END_TEST

START_TEST(test_compression_loop)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    size_t self = m.len;
    put16(&m, 0xc000 | (unsigned)self); /* owner name points at itself */
    rr_fixed(&m, T_A, C_IN, 60, 4);
    put32(&m, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);

    /* Two pointers pointing at each other, inside a CNAME's RDATA. */
    start(&m, F_RESP, 1);
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_CNAME, C_IN, 60, 4);
    size_t p = m.len;
    put16(&m, 0xc000 | (unsigned)(p + 2));
    put16(&m, 0xc000 | (unsigned)p);
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
}
END_TEST

START_TEST(test_pointer_past_end)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    put16(&m, 0xc000 | 0x3ff);
    rr_fixed(&m, T_A, C_IN, 60, 4);
    put32(&m, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);

    /* CNAME target pointing past the end. */
    start(&m, F_RESP, 1);
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_CNAME, C_IN, 60, 2);
    put16(&m, 0xc000 | 0x200);
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
}
END_TEST

START_TEST(test_rdlength_past_end)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_A, C_IN, 60, 40);
    put32(&m, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
}
END_TEST

START_TEST(test_a_rdlength_5)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_A, C_IN, 60, 5);
    put32(&m, IP(192, 0, 2, 1));
    put8(&m, 0);
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
}
END_TEST

START_TEST(test_cname_rdlength_mismatch)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_CNAME, C_IN, 60, 3); /* the name takes 2 */
    put16(&m, 0xc000 | OFF_QNAME);
    put8(&m, 0);
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
}
END_TEST

START_TEST(test_count_beyond_data)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 3);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    a_rr(&m, 60, IP(192, 0, 2, 2));
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
    /* Authority count beyond the data, too. */
    start(&m, F_RESP, 1);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    m.b[9] = 1;
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
}
END_TEST

START_TEST(test_short_and_trailing)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    for (size_t n = 0; n < m.len; n++)
        ck_assert_int_eq(us_dns_parse_answer(m.b, n, QID, QNAME, &r), -EBADMSG);
    /* libresolv's ns_initparse() insists the sections end exactly at the end of the message. */
    put8(&m, 0);
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
    ck_assert_int_eq(us_dns_parse_answer(NULL, 0, QID, QNAME, &r), -EBADMSG);
}
END_TEST

START_TEST(test_wrong_id_and_not_response)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 1);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    ck_assert_int_eq(us_dns_parse_answer(m.b, m.len, QID + 1, QNAME, &r), -EPROTO);
    ck_assert_uint_eq(r.n_addrs, 0);
    m.b[2] &= 0x7f; /* QR clear: a query, not a response */
    ck_assert_int_eq(parse(&m, &r), -EPROTO);
    m.b[2] = 0x80 | (2 << 3); /* OPCODE STATUS */
    ck_assert_int_eq(parse(&m, &r), -EPROTO);
}
END_TEST

START_TEST(test_question_mismatch)
{
    struct msg m;
    struct us_dns_result r;
    hdr(&m, QID, F_RESP, 1, 1, 0, 0);
    question(&m, "www.example.org", T_A, C_IN);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), -EPROTO);

    hdr(&m, QID, F_RESP, 1, 1, 0, 0);
    question(&m, QNAME, 28 /* AAAA */, C_IN);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), -EPROTO);

    hdr(&m, QID, F_RESP, 1, 1, 0, 0);
    question(&m, QNAME, T_A, 3 /* CH */);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), -EPROTO);

    /* No question in a NOERROR answer, or two questions. */
    hdr(&m, QID, F_RESP, 0, 0, 0, 0);
    ck_assert_int_eq(parse(&m, &r), -EPROTO);
    hdr(&m, QID, F_RESP, 2, 0, 0, 0);
    question(&m, QNAME, T_A, C_IN);
    question(&m, QNAME, T_A, C_IN);
    ck_assert_int_eq(parse(&m, &r), -EPROTO);

    /* Same name, different case. */
    hdr(&m, QID, F_RESP, 1, 1, 0, 0);
    question(&m, "WwW.eXample.Com", T_A, C_IN);
    put16(&m, 0xc000 | OFF_QNAME);
    rr_fixed(&m, T_A, C_IN, 60, 4);
    put32(&m, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), 0);
}
END_TEST

START_TEST(test_rcodes)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP | 3, 0);
    ck_assert_int_eq(parse(&m, &r), -ENOENT);
    ck_assert_int_eq(r.rcode, 3);

    start(&m, F_RESP, 0); /* NODATA */
    ck_assert_int_eq(parse(&m, &r), -ENOENT);
    ck_assert_int_eq(r.rcode, 0);

    start(&m, F_RESP | 2, 0);
    ck_assert_int_eq(parse(&m, &r), -EAGAIN);
    ck_assert_int_eq(r.rcode, 2);

    start(&m, F_RESP | 5, 0);
    ck_assert_int_eq(parse(&m, &r), -EACCES);
    ck_assert_int_eq(r.rcode, 5);

    start(&m, F_RESP | 4, 0); /* NOTIMP */
    ck_assert_int_eq(parse(&m, &r), -EAGAIN);

    /* FORMERR without the question section. */
    hdr(&m, QID, F_RESP | 1, 0, 0, 0, 0);
    ck_assert_int_eq(parse(&m, &r), -EAGAIN);
    ck_assert_int_eq(r.rcode, 1);

    /* NXDOMAIN after a CNAME: the chain is reported, no addresses. */
    start(&m, F_RESP | 3, 1);
    cname_rr(&m, QNAME, "gone.example.net");
    ck_assert_int_eq(parse(&m, &r), -ENOENT);
    ck_assert_uint_eq(r.n_addrs, 0);

    /* NODATA with only a CNAME. */
    start(&m, F_RESP, 1);
    cname_rr(&m, QNAME, "v6only.example.net");
    ck_assert_int_eq(parse(&m, &r), -ENOENT);
}
END_TEST

START_TEST(test_truncated)
{
    struct msg m;
    struct us_dns_result r;
    /* TC with consistent counts: the records are used. */
    start(&m, F_RESP | 0x0200, 1);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert(r.truncated);
    ck_assert_uint_eq(r.n_addrs, 1);

    /* TC, cut in the middle of the second of three records: the complete one is used. */
    start(&m, F_RESP | 0x0200, 3);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    a_rr(&m, 60, IP(192, 0, 2, 2));
    m.len -= 3;
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert(r.truncated);
    ck_assert_uint_eq(r.n_addrs, 1);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 1));

    /* TC and no records. */
    start(&m, F_RESP | 0x0200, 0);
    ck_assert_int_eq(parse(&m, &r), -EMSGSIZE);
    ck_assert(r.truncated);

    /* TC, claims records, none complete. */
    start(&m, F_RESP | 0x0200, 2);
    put16(&m, 0xc000 | OFF_QNAME);
    put16(&m, T_A);
    ck_assert_int_eq(parse(&m, &r), -EMSGSIZE);

    /* TC but the question itself is cut: nothing to match against. */
    start(&m, F_RESP | 0x0200, 0);
    m.len -= 2;
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);

    /* The same cut without TC is malformed. */
    start(&m, F_RESP, 3);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    a_rr(&m, 60, IP(192, 0, 2, 2));
    m.len -= 3;
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
}
END_TEST

START_TEST(test_unrelated_ignored)
{
    struct msg m;
    struct us_dns_result r;
    start(&m, F_RESP, 5);
    put_name(&m, "evil.example.net"); /* out of bailiwick A */
    rr_fixed(&m, T_A, C_IN, 60, 4);
    put32(&m, IP(6, 6, 6, 6));
    cname_rr(&m, "other.example.com", "evil.example.net"); /* CNAME for another name */
    put16(&m, 0xc000 | OFF_QNAME); /* our name, class CH */
    rr_fixed(&m, T_A, 3, 60, 4);
    put32(&m, IP(7, 7, 7, 7));
    put16(&m, 0xc000 | OFF_QNAME); /* our name, TXT */
    rr_fixed(&m, T_TXT, C_IN, 60, 4);
    put32(&m, 0x03616263);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_uint_eq(r.n_addrs, 1);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 1));
    ck_assert_str_eq(r.canonical, QNAME);

    /* A records in the additional section are not answers. */
    hdr(&m, QID, F_RESP, 1, 0, 0, 1);
    question(&m, QNAME, T_A, C_IN);
    a_rr(&m, 60, IP(192, 0, 2, 1));
    ck_assert_int_eq(parse(&m, &r), -ENOENT);
}
END_TEST

/* 20 A records padded with a TXT record to exactly 512 octets (RFC 1035 2.3.4 UDP limit). */
static void
build_512(struct msg *m, unsigned flags)
{
    start(m, flags, 21);
    for (unsigned i = 0; i < 20; i++)
        a_rr(m, 100 + i, IP(10, 0, 0, i + 1));
    size_t rdlen = 512 - m->len - 12;
    put16(m, 0xc000 | OFF_QNAME);
    rr_fixed(m, T_TXT, C_IN, 60, (unsigned)rdlen);
    while (m->len < 512)
        put8(m, 'x');
}

START_TEST(test_512_boundary)
{
    struct msg m;
    struct us_dns_result r;
    build_512(&m, F_RESP);
    ck_assert_uint_eq(m.len, 512);
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert_uint_eq(r.n_addrs, US_DNS_MAX_ADDRS);
    ck_assert_uint_eq(r.addrs[15], IP(10, 0, 0, 16));
    ck_assert_uint_eq(r.ttl, 100);
    /* One octet short: malformed, unless TC says it was cut, then all A records survive. */
    m.len = 511;
    ck_assert_int_eq(parse(&m, &r), -EBADMSG);
    build_512(&m, F_RESP | 0x0200);
    m.len = 511;
    ck_assert_int_eq(parse(&m, &r), 0);
    ck_assert(r.truncated);
    ck_assert_uint_eq(r.n_addrs, US_DNS_MAX_ADDRS);
}
END_TEST

START_TEST(test_long_labels)
{
    char label63[80], name64[80];
    memset(label63, 'q', 63);
    strcpy(label63 + 63, ".example.com");
    memset(name64, 'q', 64);
    strcpy(name64 + 64, ".example.com");

    struct msg m;
    struct us_dns_result r;
    hdr(&m, QID, F_RESP, 1, 1, 0, 0);
    question(&m, label63, T_A, C_IN);
    a_rr(&m, 60, IP(192, 0, 2, 63));
    ck_assert_int_eq(us_dns_parse_answer(m.b, m.len, QID, label63, &r), 0);
    ck_assert_str_eq(r.canonical, label63);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 63));
    ck_assert_int_eq(us_dns_parse_answer(m.b, m.len, QID, name64, &r), -EINVAL);

    /* A 64-octet label length on the wire is the reserved 0x40 label type: malformed. */
    hdr(&m, QID, F_RESP, 1, 0, 0, 0);
    put8(&m, 64);
    for (int i = 0; i < 64; i++)
        put8(&m, 'q');
    put8(&m, 0);
    put16(&m, T_A);
    put16(&m, C_IN);
    ck_assert_int_eq(us_dns_parse_answer(m.b, m.len, QID, label63, &r), -EBADMSG);
}
END_TEST

/* ---- resolve over a scripted transport ------------------------------------------------------ */

enum ev_kind { EV_TIMEOUT, EV_DGRAM, EV_ERROR };

struct ev {
    enum ev_kind kind;
    int delay_ms; /* virtual time that passes before the datagram arrives */
    bool from_ok;
    struct msg m;
    int err;
};

struct fake {
    struct ev ev[16];
    size_t n_ev, next;
    int64_t now;
    int sends;
    int send_err;
    int timeouts_seen[16];
    size_t n_recv;
    uint8_t last_query[512];
    size_t last_query_len;
};

static int
fake_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    f->sends++;
    if (f->send_err != 0)
        return f->send_err;
    ck_assert_uint_le(len, sizeof f->last_query);
    memcpy(f->last_query, buf, len);
    f->last_query_len = len;
    return 0;
}

static int
fake_recv(void *ctx, uint8_t *buf, size_t cap, int timeout_ms, bool *from_ok)
{
    struct fake *f = ctx;
    ck_assert_int_gt(timeout_ms, 0);
    if (f->n_recv < 16)
        f->timeouts_seen[f->n_recv] = timeout_ms;
    f->n_recv++;
    if (f->next == f->n_ev) {
        f->now += timeout_ms;
        return -EAGAIN;
    }
    struct ev *e = &f->ev[f->next++];
    switch (e->kind) {
    case EV_TIMEOUT:
        f->now += timeout_ms;
        return -EAGAIN;
    case EV_ERROR:
        return e->err;
    case EV_DGRAM:
        break;
    }
    ck_assert_int_lt(e->delay_ms, timeout_ms);
    f->now += e->delay_ms;
    *from_ok = e->from_ok;
    size_t n = e->m.len < cap ? e->m.len : cap;
    memcpy(buf, e->m.b, n);
    return (int)n;
}

static uint16_t
fake_random16(void *ctx)
{
    return QID;
}

static int64_t
fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static struct us_dns_transport
fake_transport(struct fake *f)
{
    struct us_dns_transport t = {
        .ctx = f, .send = fake_send, .recv = fake_recv, .random16 = fake_random16, .now_ms = fake_now,
    };
    return t;
}

static struct ev *
add_ev(struct fake *f, enum ev_kind kind)
{
    ck_assert_uint_lt(f->n_ev, 16);
    struct ev *e = &f->ev[f->n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->from_ok = true;
    e->delay_ms = 10;
    return e;
}

static struct ev *
add_answer(struct fake *f, uint16_t id, uint32_t addr)
{
    struct ev *e = add_ev(f, EV_DGRAM);
    start(&e->m, F_RESP, 1);
    a_rr(&e->m, 60, addr);
    e->m.b[0] = (uint8_t)(id >> 8);
    e->m.b[1] = (uint8_t)id;
    return e;
}

START_TEST(test_resolve_first_try)
{
    struct fake f = {0};
    struct us_dns_transport t = fake_transport(&f);
    struct us_dns_result r;
    add_answer(&f, QID, IP(192, 0, 2, 10));
    ck_assert_int_eq(us_dns_resolve(&t, NULL, QNAME, &r), 0);
    ck_assert_int_eq(f.sends, 1);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 10));
    ck_assert_int_eq(f.timeouts_seen[0], US_DNS_DEFAULT_TIMEOUT_MS);
    uint8_t q[512];
    int n = us_dns_build_query(q, sizeof q, QNAME, QID);
    ck_assert_uint_eq(f.last_query_len, (size_t)n);
    ck_assert_mem_eq(f.last_query, q, (size_t)n);
}
END_TEST

START_TEST(test_resolve_retries)
{
    struct fake f = {0};
    struct us_dns_transport t = fake_transport(&f);
    struct us_dns_result r;
    add_ev(&f, EV_TIMEOUT);
    add_ev(&f, EV_TIMEOUT);
    add_answer(&f, QID, IP(192, 0, 2, 11));
    ck_assert_int_eq(us_dns_resolve(&t, NULL, QNAME, &r), 0);
    ck_assert_int_eq(f.sends, 3);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 11));
    ck_assert_int_eq(f.now, 2 * US_DNS_DEFAULT_TIMEOUT_MS + 10);
}
END_TEST

START_TEST(test_resolve_ignores_junk)
{
    struct fake f = {0};
    struct us_dns_transport t = fake_transport(&f);
    struct us_dns_result r;
    struct us_dns_opts o = {.tries = 1, .timeout_ms = 1000};
    add_answer(&f, QID + 1, IP(6, 6, 6, 1))->delay_ms = 100; /* wrong id */
    add_answer(&f, QID, IP(6, 6, 6, 2))->from_ok = false;     /* wrong source */
    struct ev *g = add_ev(&f, EV_DGRAM);                      /* garbage */
    memcpy(g->m.b, "\x12\x34\x81\x80garbage", 11);
    g->m.len = 11;
    struct ev *q = add_ev(&f, EV_DGRAM); /* a different question */
    hdr(&q->m, QID, F_RESP, 1, 0, 0, 0);
    question(&q->m, "evil.example.net", T_A, C_IN);
    add_ev(&f, EV_ERROR)->err = -EINTR;
    add_answer(&f, QID, IP(192, 0, 2, 12));
    ck_assert_int_eq(us_dns_resolve(&t, &o, QNAME, &r), 0);
    ck_assert_int_eq(f.sends, 1);
    ck_assert_uint_eq(r.n_addrs, 1);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 12));
    /* The wait goes on with what is left of the timeout, not a fresh one. */
    ck_assert_int_eq(f.timeouts_seen[0], 1000);
    ck_assert_int_eq(f.timeouts_seen[1], 900);
    ck_assert_int_eq(f.timeouts_seen[2], 890);
}
END_TEST

START_TEST(test_resolve_junk_until_deadline)
{
    struct fake f = {0};
    struct us_dns_transport t = fake_transport(&f);
    struct us_dns_result r;
    struct us_dns_opts o = {.tries = 2, .timeout_ms = 500};
    /* Junk keeps arriving for the whole first try; the second try gets the answer. */
    add_answer(&f, QID + 1, IP(6, 6, 6, 1))->delay_ms = 300;
    add_answer(&f, QID + 1, IP(6, 6, 6, 1))->delay_ms = 199;
    add_answer(&f, QID + 2, IP(6, 6, 6, 1))->delay_ms = 0;
    add_ev(&f, EV_TIMEOUT); /* 1 ms left */
    add_answer(&f, QID, IP(192, 0, 2, 13));
    ck_assert_int_eq(us_dns_resolve(&t, &o, QNAME, &r), 0);
    ck_assert_int_eq(f.sends, 2);
    ck_assert_int_eq(f.timeouts_seen[3], 1);
    ck_assert_int_eq(f.timeouts_seen[4], 500);
}
END_TEST

START_TEST(test_resolve_gives_up)
{
    struct fake f = {0};
    struct us_dns_transport t = fake_transport(&f);
    struct us_dns_result r;
    ck_assert_int_eq(us_dns_resolve(&t, NULL, QNAME, &r), -ETIMEDOUT);
    ck_assert_int_eq(f.sends, US_DNS_DEFAULT_TRIES);
    ck_assert_int_eq(f.now, US_DNS_DEFAULT_TRIES * US_DNS_DEFAULT_TIMEOUT_MS);
    ck_assert_uint_eq(r.n_addrs, 0);

    struct fake f2 = {0};
    struct us_dns_transport t2 = fake_transport(&f2);
    struct us_dns_opts o = {.tries = 5, .timeout_ms = 100};
    add_answer(&f2, QID + 9, IP(6, 6, 6, 6)); /* junk does not end the wait early */
    ck_assert_int_eq(us_dns_resolve(&t2, &o, QNAME, &r), -ETIMEDOUT);
    ck_assert_int_eq(f2.sends, 5);
    ck_assert_int_eq(f2.now, 500);
    ck_assert_uint_eq(r.n_addrs, 0);
}
END_TEST

START_TEST(test_resolve_errors)
{
    struct us_dns_result r;
    /* Server errors end the lookup without retries. */
    struct fake f = {0};
    struct us_dns_transport t = fake_transport(&f);
    struct ev *e = add_ev(&f, EV_DGRAM);
    start(&e->m, F_RESP | 2, 0);
    ck_assert_int_eq(us_dns_resolve(&t, NULL, QNAME, &r), -EAGAIN);
    ck_assert_int_eq(f.sends, 1);

    /* Send failures: every try still waits; the send error is reported. */
    struct fake f2 = {0};
    struct us_dns_transport t2 = fake_transport(&f2);
    f2.send_err = -ENETUNREACH;
    ck_assert_int_eq(us_dns_resolve(&t2, NULL, QNAME, &r), -ENETUNREACH);
    ck_assert_int_eq(f2.sends, 3);

    /* A transport error from recv is passed on. */
    struct fake f3 = {0};
    struct us_dns_transport t3 = fake_transport(&f3);
    add_ev(&f3, EV_ERROR)->err = -EBADF;
    ck_assert_int_eq(us_dns_resolve(&t3, NULL, QNAME, &r), -EBADF);

    /* Bad names are refused before anything is sent. */
    struct fake f4 = {0};
    struct us_dns_transport t4 = fake_transport(&f4);
    ck_assert_int_eq(us_dns_resolve(&t4, NULL, "bad..name", &r), -EINVAL);
    ck_assert_int_eq(f4.sends, 0);
}
END_TEST

START_TEST(test_resolve_literal)
{
    struct fake f = {0};
    struct us_dns_transport t = fake_transport(&f);
    struct us_dns_result r;
    ck_assert_int_eq(us_dns_resolve(&t, NULL, "192.0.2.77", &r), 0);
    ck_assert_int_eq(f.sends, 0);
    ck_assert_uint_eq(r.n_addrs, 1);
    ck_assert_uint_eq(r.addrs[0], IP(192, 0, 2, 77));
    ck_assert_str_eq(r.canonical, "192.0.2.77");
    /* Not a dotted quad: treated as a name (and sent). */
    ck_assert_int_eq(us_dns_resolve(&t, NULL, "192.0.2", &r), -ETIMEDOUT);
    ck_assert_int_eq(f.sends, 3);
}
END_TEST

START_TEST(test_strerror)
{
    ck_assert_str_eq(us_dns_strerror(-ENOENT), "no such host (NXDOMAIN or no A record)");
    ck_assert_str_eq(us_dns_strerror(-ETIMEDOUT), "no answer from the DNS server");
    ck_assert_str_eq(us_dns_strerror(EACCES), "DNS server refused the query");
    ck_assert_str_eq(us_dns_strerror(ECONNREFUSED), "no DNS server at that address (port unreachable)");
    ck_assert_ptr_nonnull(us_dns_strerror(-ENETUNREACH));
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("dns");
    TCase *q = tcase_create("query");
    tcase_add_test(q, test_query_bytes);
    tcase_add_test(q, test_query_bad_names);
    suite_add_tcase(s, q);

    TCase *a = tcase_create("answer");
    tcase_add_test(a, test_simple_a);
    tcase_add_test(a, test_multiple_a);
    tcase_add_test(a, test_ttl_top_bit);
    tcase_add_test(a, test_cname_chain_compressed);
    tcase_add_test(a, test_cname_out_of_order);
    tcase_add_test(a, test_cname_loop_and_limit);
    tcase_add_test(a, test_cname_to_root);
    tcase_add_test(a, test_compression_loop);
    tcase_add_test(a, test_pointer_past_end);
    tcase_add_test(a, test_rdlength_past_end);
    tcase_add_test(a, test_a_rdlength_5);
    tcase_add_test(a, test_cname_rdlength_mismatch);
    tcase_add_test(a, test_count_beyond_data);
    tcase_add_test(a, test_short_and_trailing);
    tcase_add_test(a, test_wrong_id_and_not_response);
    tcase_add_test(a, test_question_mismatch);
    tcase_add_test(a, test_rcodes);
    tcase_add_test(a, test_truncated);
    tcase_add_test(a, test_unrelated_ignored);
    tcase_add_test(a, test_512_boundary);
    tcase_add_test(a, test_long_labels);
    suite_add_tcase(s, a);

    TCase *r = tcase_create("resolve");
    tcase_add_test(r, test_resolve_first_try);
    tcase_add_test(r, test_resolve_retries);
    tcase_add_test(r, test_resolve_ignores_junk);
    tcase_add_test(r, test_resolve_junk_until_deadline);
    tcase_add_test(r, test_resolve_gives_up);
    tcase_add_test(r, test_resolve_errors);
    tcase_add_test(r, test_resolve_literal);
    tcase_add_test(r, test_strerror);
    suite_add_tcase(s, r);
    return s;
}

US_TEST_MAIN()
