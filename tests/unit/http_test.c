/* Unit tests for apps/http.c: URL parsing, the static file server state machine over a temporary
 * document root (exact response bytes, errors, pipelining, persistence, path traversal, a 5 MB
 * file streamed through a small buffer) and the response parser (RFC 9112 6.3 framings). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "lib/testutil.h"

Suite *make_suite(void);

/* ---- fixture: base/root (served) and base/outside (must never be served) --------------------- */

static char base[64];
static char root[96];

static void
write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void
mk(const char *fmt, const char *arg, bool dir)
{
    char p[256];
    snprintf(p, sizeof p, fmt, base, arg);
    if (dir)
        ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void
setup(void)
{
    strcpy(base, "/tmp/ustack-http-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(root, sizeof root, "%s/root", base);
    mk("%s/%s", "root", true);
    mk("%s/%s", "outside", true);
    mk("%s/root/%s", "sub", true);
    mk("%s/root/%s", "empty", true);
    char out[128], p[256];
    snprintf(out, sizeof out, "%s/outside", base);
    write_file(out, "secret.txt", "SECRET\n", 7);
    write_file(root, "hello.txt", "Hello, world!\n", 14);
    write_file(root, "index.html", "<h1>home</h1>\n", 14);
    write_file(root, "data.bin", "\x00\x01\x02", 3);
    write_file(root, "noext", "x", 1);
    write_file(root, "sub/page.css", "p{}\n", 4);
    write_file(root, "sub/app.js", "1;", 2);
    write_file(root, "sub/index.html", "sub\n", 4);
    snprintf(p, sizeof p, "%s/link", root);
    ck_assert_int_eq(symlink("../outside/secret.txt", p), 0);
    snprintf(p, sizeof p, "%s/linkdir", root);
    ck_assert_int_eq(symlink("../outside", p), 0);
    snprintf(p, sizeof p, "%s/abslink", root);
    ck_assert_int_eq(symlink("/etc/passwd", p), 0);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
teardown(void)
{
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- server driver --------------------------------------------------------------------------- */

struct out {
    char *b;
    size_t len;
    int responses;
};

/* Feeds in[] to conn and drains every response through a cap-byte buffer. */
static void
serve_conn(struct us_http_server_conn *c, const char *in, size_t in_len, size_t cap,
           struct out *o)
{
    uint8_t *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        int r = us_http_srv_feed(c, (const uint8_t *)in + off, in_len - off, &used);
        ck_assert_uint_le(used, in_len - off);
        off += used;
        if (r != 1)
            break;
        ck_assert_int_eq(us_http_srv_feed(c, (const uint8_t *)in + off, in_len - off, &used),
                         -EBUSY);
        o->responses++;
        size_t n;
        while ((n = us_http_srv_next_output(c, buf, cap)) > 0) {
            ck_assert_uint_le(n, cap);
            o->b = realloc(o->b, o->len + n + 1);
            memcpy(o->b + o->len, buf, n);
            o->len += n;
            o->b[o->len] = '\0';
        }
        if (off == in_len)
            break;
    }
    free(buf);
}

static bool
has(const struct out *o, const char *s)
{
    return memmem(o->b, o->len, s, strlen(s)) != NULL;
}

static struct out
serve(const char *in, bool *closed)
{
    struct us_http_server_conn *c = malloc(sizeof(*c));
    ck_assert_int_eq(us_http_srv_init(c, root), 0);
    struct out o = {calloc(1, 1), 0, 0};
    serve_conn(c, in, strlen(in), 4096, &o);
    if (closed)
        *closed = us_http_srv_wants_close(c);
    us_http_srv_free(c);
    free(c);
    return o;
}

static void
expect_status(const char *req, const char *status_line, bool want_closed)
{
    bool closed;
    struct out o = serve(req, &closed);
    ck_assert_msg(o.responses == 1, "%s: %d responses", req, o.responses);
    ck_assert_msg(strncmp(o.b, status_line, strlen(status_line)) == 0, "%s -> %s", req, o.b);
    ck_assert_int_eq(closed, want_closed);
    free(o.b);
}

/* ---- URLs ------------------------------------------------------------------------------------ */

START_TEST(url_good)
{
    struct us_url u;
    ck_assert_int_eq(us_url_parse("http://example.com", &u), 0);
    ck_assert_str_eq(u.host, "example.com");
    ck_assert_uint_eq(u.port, 80);
    ck_assert_str_eq(u.path, "/");
    ck_assert_int_eq(us_url_parse("HTTP://Example.COM:8080/a/b%20c?x=1&y#frag", &u), 0);
    ck_assert_str_eq(u.host, "Example.COM");
    ck_assert_uint_eq(u.port, 8080);
    ck_assert_str_eq(u.path, "/a/b%20c?x=1&y");
    ck_assert_int_eq(us_url_parse("http://192.0.2.1/x.bin", &u), 0);
    ck_assert_str_eq(u.host, "192.0.2.1");
    ck_assert_str_eq(u.path, "/x.bin");
    ck_assert_int_eq(us_url_parse("http://h?q=1", &u), 0);
    ck_assert_str_eq(u.path, "/?q=1");
    ck_assert_int_eq(us_url_parse("http://h:/#f", &u), 0);
    ck_assert_uint_eq(u.port, 80);
    ck_assert_str_eq(u.path, "/");
    ck_assert_int_eq(us_url_parse("http://h:65535", &u), 0);
    ck_assert_uint_eq(u.port, 65535);
    ck_assert_int_eq(us_url_parse("http://my_host-1.example.:1/", &u), 0);
    ck_assert_str_eq(u.host, "my_host-1.example.");
}
END_TEST

START_TEST(url_bad)
{
    struct us_url u;
    static const char *const einval[] = {
        "example.com/x", "http:/x", "http//x", "http://", "http:///path", "http://user@host/",
        "http://user:pw@host/", "http://host:0/", "http://host:65536/", "http://host:8o/",
        "http://host:123456/", "http://ho st/", "http://host/a b", "http://host/\x01",
        "http://host/\x7f", "http://h\xc3\xa9/", "http://[::1]/", "http://256.1.1.1/",
        "http://1.2.3/", "http://1.2.3.4.5/", "http://a..b/", "http://.a/", "http://a/\t",
        "http://a:-1/", "://x", "",
    };
    for (size_t i = 0; i < sizeof einval / sizeof einval[0]; i++)
        ck_assert_msg(us_url_parse(einval[i], &u) == -EINVAL, "%s", einval[i]);
    ck_assert_int_eq(us_url_parse("https://example.com/", &u), -EPROTONOSUPPORT);
    ck_assert_int_eq(us_url_parse("ftp://example.com/", &u), -EPROTONOSUPPORT);
    ck_assert_int_eq(us_url_parse("git+ssh://example.com/", &u), -EPROTONOSUPPORT);

    char big[4000];
    strcpy(big, "http://");
    memset(big + 7, 'a', 300);
    strcpy(big + 307, "/");
    ck_assert_int_eq(us_url_parse(big, &u), -EINVAL); /* host label > 63 and host > 255 */
    strcpy(big, "http://h/");
    memset(big + 9, 'p', 2100);
    big[2109] = '\0';
    ck_assert_int_eq(us_url_parse(big, &u), -EINVAL);
    ck_assert_str_eq(u.host, ""); /* cleared on failure */
    big[9 + US_URL_PATH_MAX - 2] = '\0'; /* "/" + 2046 'p' = 2047 bytes: fits */
    ck_assert_int_eq(us_url_parse(big, &u), 0);
    ck_assert_uint_eq(strlen(u.path), US_URL_PATH_MAX - 1);
}
END_TEST

START_TEST(build_get)
{
    struct us_url u;
    char buf[512];
    ck_assert_int_eq(us_url_parse("http://example.com/a?b", &u), 0);
    const char *want = "GET /a?b HTTP/1.1\r\nHost: example.com\r\nUser-Agent: ustack\r\n"
                       "Accept: */*\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(us_http_build_get(buf, sizeof buf, &u), (int)strlen(want));
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(us_url_parse("http://192.0.2.7:8080", &u), 0);
    ck_assert_int_gt(us_http_build_get(buf, sizeof buf, &u), 0);
    ck_assert_ptr_nonnull(strstr(buf, "GET / HTTP/1.1\r\nHost: 192.0.2.7:8080\r\n"));
    ck_assert_int_eq(us_http_build_get(buf, 20, &u), -ENOSPC);
    strcpy(u.path, "/x\r\nEvil: 1");
    ck_assert_int_eq(us_http_build_get(buf, sizeof buf, &u), -EINVAL);
}
END_TEST

/* ---- server ---------------------------------------------------------------------------------- */

START_TEST(srv_get_file)
{
    bool closed;
    struct out o = serve("GET /hello.txt HTTP/1.1\r\nHost: example.com\r\n\r\n", &closed);
    ck_assert_str_eq(o.b, "HTTP/1.1 200 OK\r\nServer: ustack\r\nContent-Type: text/plain\r\n"
                          "Content-Length: 14\r\n\r\nHello, world!\n");
    ck_assert(!closed);
    free(o.b);
}
END_TEST

START_TEST(srv_date_and_types)
{
    struct us_http_server_conn *c = malloc(sizeof(*c));
    ck_assert_int_eq(us_http_srv_init(c, root), 0);
    us_http_srv_set_date(c, 784111777); /* RFC 9110 5.6.7's example */
    struct out o = {calloc(1, 1), 0, 0};
    const char *req = "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /sub/page.css HTTP/1.1\r\nHost: h\r\n\r\n"
                      "GET /sub/app.js HTTP/1.1\r\nHost: h\r\n\r\nGET /data.bin HTTP/1.1\r\nHost: h\r\n\r\n"
                      "GET /noext HTTP/1.1\r\nHost: h\r\n\r\nGET /sub HTTP/1.1\r\nHost: h\r\n\r\n";
    serve_conn(c, req, strlen(req), 4096, &o);
    ck_assert_int_eq(o.responses, 6);
    ck_assert(has(&o, "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
    ck_assert(has(&o, "Content-Type: text/html\r\nContent-Length: 14\r\n\r\n<h1>home"));
    ck_assert(has(&o, "Content-Type: text/css\r\nContent-Length: 4\r\n\r\np{}\n"));
    ck_assert(has(&o, "Content-Type: text/javascript\r\n"));
    ck_assert(has(&o, "Content-Type: application/octet-stream\r\nContent-Length: 3\r\n"));
    ck_assert(has(&o, "Content-Type: application/octet-stream\r\nContent-Length: 1\r\n"));
    ck_assert(has(&o, "Content-Length: 4\r\n\r\nsub\n"));
    ck_assert(!us_http_srv_wants_close(c));
    us_http_srv_free(c);
    us_http_srv_free(c);
    free(c);
    free(o.b);
}
END_TEST

START_TEST(srv_head)
{
    struct out o = serve("HEAD /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n", NULL);
    ck_assert_str_eq(o.b, "HTTP/1.1 200 OK\r\nServer: ustack\r\nContent-Type: text/plain\r\n"
                          "Content-Length: 14\r\n\r\n");
    free(o.b);
    o = serve("HEAD /missing HTTP/1.1\r\nHost: h\r\n\r\n", NULL);
    ck_assert_ptr_nonnull(strstr(o.b, "Content-Length: 14\r\n\r\n"));
    ck_assert_ptr_null(strstr(o.b, "\r\n\r\n404"));
    free(o.b);
}
END_TEST

START_TEST(srv_errors)
{
    struct out o = serve("GET /missing.txt HTTP/1.1\r\nHost: h\r\n\r\n", NULL);
    ck_assert_str_eq(o.b, "HTTP/1.1 404 Not Found\r\nServer: ustack\r\nContent-Type: text/plain\r\n"
                          "Content-Length: 14\r\n\r\n404 Not Found\n");
    free(o.b);
    expect_status("GET /empty/ HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 404 ", false);
    expect_status("GET /hello.txt/x HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 404 ", false);
    o = serve("POST /hello.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", NULL);
    ck_assert_ptr_nonnull(strstr(o.b, "HTTP/1.1 405 Method Not Allowed\r\n"));
    ck_assert_ptr_nonnull(strstr(o.b, "\r\nAllow: GET, HEAD\r\n"));
    ck_assert_ptr_nonnull(strstr(o.b, "\r\nConnection: close\r\n")); /* unread body */
    free(o.b);
    expect_status("DELETE / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 405 ", false);
    expect_status("get / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 405 ", false);
    expect_status("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("\x16\x03\x01\x02\x01\x01\x01\xfc\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("hello there\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / http/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/1.1\r\nHost : h\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n", "HTTP/1.1 400 ",
                  true);
    expect_status("GET x HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 ", true);
    expect_status("GET / HTTP/2.0\r\nHost: h\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported",
                  true);
    expect_status("GET / HTTP/0.9\r\n\r\n", "HTTP/1.1 505 ", true);
    /* Bare LF line ends are accepted (RFC 9112 2.2), as are empty lines before the request. */
    expect_status("\r\n\nGET /hello.txt HTTP/1.1\nHost: h\n\n", "HTTP/1.1 200 ", false);
    /* absolute-form (RFC 9112 3.2.2) */
    expect_status("GET http://h/hello.txt HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 ", false);
}
END_TEST

START_TEST(srv_limits)
{
    size_t n = 20000;
    char *req = malloc(n + 64);
    strcpy(req, "GET /");
    memset(req + 5, 'a', n);
    strcpy(req + 5 + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
    expect_status(req, "HTTP/1.1 414 ", true);
    strcpy(req, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
    size_t l = strlen(req);
    memset(req + l, 'b', n);
    strcpy(req + l + n, "\r\n\r\n");
    expect_status(req, "HTTP/1.1 431 ", true);
    /* Exactly at the limit is fine. */
    strcpy(req, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    l = strlen(req);
    size_t fill = US_HTTP_REQ_HEAD_MAX - l - 4;
    memset(req + l, 'c', fill);
    strcpy(req + l + fill, "\r\n\r\n");
    ck_assert_uint_eq(strlen(req), US_HTTP_REQ_HEAD_MAX);
    expect_status(req, "HTTP/1.1 200 ", false);
    free(req);
}
END_TEST

START_TEST(srv_pipeline)
{
    struct us_http_server_conn *c = malloc(sizeof(*c));
    ck_assert_int_eq(us_http_srv_init(c, root), 0);
    const char *r1 = "GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n";
    const char *r2 = "GET /sub/page.css HTTP/1.1\r\nHost: h\r\n\r\n";
    char both[256];
    snprintf(both, sizeof both, "%s%s", r1, r2);
    size_t used;
    ck_assert_int_eq(us_http_srv_feed(c, (const uint8_t *)both, strlen(both), &used), 1);
    ck_assert_uint_eq(used, strlen(r1)); /* the second request stays unconsumed */
    struct out o = {calloc(1, 1), 0, 1};
    /* finish the first response, then feed the rest */
    uint8_t buf[4096];
    size_t k = us_http_srv_next_output(c, buf, sizeof buf);
    ck_assert_uint_gt(k, 0);
    ck_assert_uint_eq(us_http_srv_next_output(c, buf + k, sizeof buf - k), 0);
    buf[k] = 0;
    ck_assert_ptr_nonnull(strstr((char *)buf, "Hello, world!\n"));
    serve_conn(c, both + used, strlen(both) - used, 4096, &o);
    ck_assert_int_eq(o.responses, 2);
    ck_assert_ptr_nonnull(strstr(o.b, "p{}\n"));
    ck_assert_uint_eq(c->requests, 2);
    ck_assert(!us_http_srv_wants_close(c));
    us_http_srv_free(c);
    free(c);
    free(o.b);

    /* Three requests, one with an error in the middle, all in one buffer and in order. */
    bool closed;
    o = serve("GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\nGET /nope HTTP/1.1\r\nHost: h\r\n\r\n"
              "HEAD /sub/page.css HTTP/1.1\r\nHost: h\r\n\r\n",
              &closed);
    ck_assert_int_eq(o.responses, 3);
    char *a = strstr(o.b, "200 OK"), *b = strstr(o.b, "404 Not Found"), *d = strstr(o.b, "text/css");
    ck_assert(a && b && d && a < b && b < d);
    ck_assert(!closed);
    free(o.b);
}
END_TEST

START_TEST(srv_byte_by_byte)
{
    struct us_http_server_conn *c = malloc(sizeof(*c));
    ck_assert_int_eq(us_http_srv_init(c, root), 0);
    const char *req = "GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t n = strlen(req), used;
    for (size_t i = 0; i + 1 < n; i++) {
        ck_assert_int_eq(us_http_srv_feed(c, (const uint8_t *)req + i, 1, &used), 0);
        ck_assert_uint_eq(used, 1);
    }
    ck_assert_int_eq(us_http_srv_feed(c, (const uint8_t *)req + n - 1, 1, &used), 1);
    ck_assert_int_eq(c->status, 200);
    /* one byte of output at a time */
    char got[256];
    size_t len = 0;
    uint8_t b;
    while (us_http_srv_next_output(c, &b, 1) == 1)
        got[len++] = (char)b;
    got[len] = '\0';
    ck_assert_ptr_nonnull(strstr(got, "\r\n\r\nHello, world!\n"));
    us_http_srv_free(c);
    free(c);
}
END_TEST

START_TEST(srv_connection_close)
{
    bool closed;
    struct out o = serve("GET /hello.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                         "GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n",
                         &closed);
    ck_assert_int_eq(o.responses, 1);
    ck_assert(closed);
    ck_assert_ptr_nonnull(strstr(o.b, "\r\nConnection: close\r\n"));
    free(o.b);

    struct us_http_server_conn c;
    ck_assert_int_eq(us_http_srv_init(&c, root), 0);
    size_t used;
    const char *r = "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, Close\r\n\r\n";
    ck_assert_int_eq(us_http_srv_feed(&c, (const uint8_t *)r, strlen(r), &used), 1);
    uint8_t buf[512];
    while (us_http_srv_next_output(&c, buf, sizeof buf) > 0)
        ;
    ck_assert(us_http_srv_wants_close(&c));
    ck_assert_int_eq(us_http_srv_feed(&c, (const uint8_t *)r, strlen(r), &used), -ESHUTDOWN);
    ck_assert_uint_eq(used, 0);
    us_http_srv_free(&c);
}
END_TEST

START_TEST(srv_http10)
{
    bool closed;
    struct out o = serve("GET /hello.txt HTTP/1.0\r\n\r\n", &closed);
    ck_assert(strncmp(o.b, "HTTP/1.1 200 OK\r\n", 17) == 0);
    ck_assert_ptr_nonnull(strstr(o.b, "\r\nConnection: close\r\n"));
    ck_assert(closed);
    free(o.b);
    o = serve("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
              "GET /hello.txt HTTP/1.0\r\n\r\n",
              &closed);
    ck_assert_int_eq(o.responses, 2);
    ck_assert_ptr_nonnull(strstr(o.b, "\r\nConnection: keep-alive\r\n"));
    ck_assert(closed);
    free(o.b);
    /* 1.0 with Transfer-Encoding: framing is faulty, close after (RFC 9112 6.1). */
    o = serve("GET /hello.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
              &closed);
    ck_assert(closed);
    free(o.b);
}
END_TEST

/* The lowest free descriptor: unchanged across a test means nothing leaked. */
static int
lowest_free_fd(void)
{
    int fd = dup(0);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return fd;
}

START_TEST(srv_traversal)
{
    int fd0 = lowest_free_fd();
    static const char *const targets[] = {
        "/../etc/passwd", "/../outside/secret.txt", "/%2e%2e/outside/secret.txt",
        "/%2E%2E/%2e%2E/etc/passwd", "/..%2foutside%2fsecret.txt", "/sub/../../outside/secret.txt",
        "/%2e%2e%2foutside/secret.txt", "/hello.txt%00.html", "/%00", "/a%00/../../etc/passwd",
        "/..\\outside\\secret.txt", "/%5c..%5coutside%5csecret.txt", "/link", "/linkdir/secret.txt",
        "/abslink", "/linkdir/", "/%2Flink", "/./link", "/sub/./../link", "/%", "/%zz", "/%2",
        "http://h/../outside/secret.txt", "/....//outside/secret.txt", "//etc/passwd",
        "/%c0%ae%c0%ae/etc/passwd", "/%252e%252e/outside/secret.txt",
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", targets[i]);
        struct out o = serve(req, NULL);
        ck_assert_int_eq(o.responses, 1);
        ck_assert_msg(strncmp(o.b, "HTTP/1.1 200", 12) != 0, "%s served: %s", targets[i], o.b);
        ck_assert_msg(strncmp(o.b, "HTTP/1.1 4", 10) == 0, "%s -> %s", targets[i], o.b);
        ck_assert_ptr_null(strstr(o.b, "SECRET"));
        ck_assert_ptr_null(strstr(o.b, "root:"));
        free(o.b);
    }
    /* Plain "." segments and empty segments still work inside the root. */
    expect_status("GET /./sub//page.css HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 ", false);
    expect_status("GET /hello%2etxt?x=../../y HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 ", false);
    ck_assert_int_eq(lowest_free_fd(), fd0);
}
END_TEST

static uint32_t
fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

START_TEST(srv_big_file)
{
    const size_t size = 5u << 20;
    uint8_t *data = malloc(size);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (uint8_t)x;
    }
    write_file(root, "big.dat", data, size);
    uint32_t want = fnv1a(2166136261u, data, size);
    free(data);

    struct us_http_server_conn *c = malloc(sizeof(*c));
    ck_assert_int_eq(us_http_srv_init(c, root), 0);
    const char *req = "GET /big.dat HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t used;
    ck_assert_int_eq(us_http_srv_feed(c, (const uint8_t *)req, strlen(req), &used), 1);
    uint8_t buf[1000];
    char head[1024];
    size_t head_len = 0, body = 0, calls = 0, n;
    uint32_t h = 2166136261u;
    bool in_head = true;
    while ((n = us_http_srv_next_output(c, buf, sizeof buf)) > 0) {
        calls++;
        ck_assert_uint_le(n, sizeof buf);
        size_t i = 0;
        while (in_head && i < n) {
            head[head_len++] = (char)buf[i++];
            if (head_len >= 4 && memcmp(head + head_len - 4, "\r\n\r\n", 4) == 0)
                in_head = false;
        }
        h = fnv1a(h, buf + i, n - i);
        body += n - i;
    }
    head[head_len] = '\0';
    ck_assert_ptr_nonnull(strstr(head, "\r\nContent-Length: 5242880\r\n"));
    ck_assert_uint_eq(body, size);
    ck_assert_uint_eq(h, want);
    ck_assert_uint_ge(calls, size / sizeof buf);
    ck_assert(!us_http_srv_wants_close(c));
    ck_assert_int_eq(c->body_fd, -1);
    us_http_srv_free(c);
    free(c);
}
END_TEST

START_TEST(srv_file_shrinks)
{
    char big[4096];
    memset(big, 'z', sizeof big);
    write_file(root, "shrink.txt", big, sizeof big);
    struct us_http_server_conn c;
    ck_assert_int_eq(us_http_srv_init(&c, root), 0);
    const char *req = "GET /shrink.txt HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t used;
    ck_assert_int_eq(us_http_srv_feed(&c, (const uint8_t *)req, strlen(req), &used), 1);
    char p[256];
    snprintf(p, sizeof p, "%s/shrink.txt", root);
    ck_assert_int_eq(truncate(p, 100), 0);
    uint8_t buf[512];
    size_t total = 0, n;
    while ((n = us_http_srv_next_output(&c, buf, sizeof buf)) > 0)
        total += n;
    ck_assert_uint_lt(total, 4096);
    ck_assert(us_http_srv_wants_close(&c));
    us_http_srv_free(&c);
}
END_TEST

START_TEST(srv_bad_root)
{
    struct us_http_server_conn c;
    ck_assert_int_eq(us_http_srv_init(&c, "/nonexistent/ustack"), -ENOENT);
    us_http_srv_free(&c);
    char p[256];
    snprintf(p, sizeof p, "%s/hello.txt", root);
    ck_assert_int_eq(us_http_srv_init(&c, p), -ENOTDIR);
    us_http_srv_free(&c);
}
END_TEST

/* ---- client ---------------------------------------------------------------------------------- */

struct cli_run {
    int err;
    char body[65536];
    size_t body_len;
    size_t consumed;
};

/* Feeds s in pieces of `step` bytes (0: all at once), collecting the body. */
static void
cli_run(struct us_http_client_resp *r, const char *s, size_t len, size_t step, struct cli_run *o)
{
    memset(o, 0, sizeof(*o));
    size_t off = 0;
    while (off < len && !r->done) {
        size_t piece = step && len - off > step ? step : len - off;
        size_t in_off = 0;
        while (in_off < piece && !r->done) {
            size_t used;
            const uint8_t *body;
            size_t blen;
            o->err = us_http_cli_feed(r, (const uint8_t *)s + off + in_off, piece - in_off, &used,
                                      &body, &blen);
            if (o->err < 0)
                return;
            ck_assert_uint_le(used, piece - in_off);
            ck_assert_uint_gt(used, 0);
            if (blen) {
                ck_assert((const char *)body >= s + off + in_off);
                ck_assert((const char *)body + blen <= s + off + in_off + used);
                ck_assert_uint_le(o->body_len + blen, sizeof o->body);
                memcpy(o->body + o->body_len, body, blen);
                o->body_len += blen;
            }
            in_off += used;
        }
        off += in_off;
    }
    o->consumed = off;
}

static struct us_http_client_resp *
cli_new(bool head)
{
    struct us_http_client_resp *r = malloc(sizeof(*r));
    us_http_cli_init(r, head);
    return r;
}

START_TEST(cli_content_length)
{
    const char *s = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 11\r\n\r\nhello worldEXTRA";
    for (size_t step = 0; step <= 3; step++) {
        struct us_http_client_resp *r = cli_new(false);
        struct cli_run *o = malloc(sizeof(*o));
        cli_run(r, s, strlen(s), step, o);
        ck_assert_int_eq(o->err, 0);
        ck_assert(r->done);
        ck_assert_int_eq(r->status, 200);
        ck_assert_str_eq(r->reason, "OK");
        ck_assert_int_eq(r->version_minor, 1);
        ck_assert_int_eq(r->content_length, 11);
        ck_assert_uint_eq(o->body_len, 11);
        ck_assert(memcmp(o->body, "hello world", 11) == 0);
        ck_assert_uint_eq(o->consumed, strlen(s) - 5); /* EXTRA is left alone */
        ck_assert_int_eq(us_http_cli_eof(r), 0);
        size_t used;
        const uint8_t *body;
        size_t blen;
        ck_assert_int_eq(us_http_cli_feed(r, (const uint8_t *)"x", 1, &used, &body, &blen), 0);
        ck_assert_uint_eq(used, 0);
        free(o);
        free(r);
    }
}
END_TEST

START_TEST(cli_chunked)
{
    const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n"
                    "5;ext=1\r\nhello\r\n6 ; name=\"q v\"\r\n world\r\n"
                    "A\r\n0123456789\r\n0;last\r\nX-Trailer: 1\r\nY: 2\r\n\r\nNEXT";
    for (size_t step = 0; step <= 2; step++) {
        struct us_http_client_resp *r = cli_new(false);
        struct cli_run *o = malloc(sizeof(*o));
        cli_run(r, s, strlen(s), step, o);
        ck_assert_int_eq(o->err, 0);
        ck_assert(r->done && r->chunked);
        ck_assert_int_eq(r->content_length, -1);
        ck_assert_uint_eq(o->body_len, 21);
        ck_assert(memcmp(o->body, "hello world0123456789", 21) == 0);
        ck_assert_uint_eq(o->consumed, strlen(s) - 4);
        ck_assert_uint_eq(r->body_bytes, 21);
        free(o);
        free(r);
    }
}
END_TEST

START_TEST(cli_close_delimited)
{
    const char *s = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until EOF";
    for (size_t step = 0; step <= 1; step++) {
        struct us_http_client_resp *r = cli_new(false);
        struct cli_run *o = malloc(sizeof(*o));
        cli_run(r, s, strlen(s), step, o);
        ck_assert_int_eq(o->err, 0);
        ck_assert(!r->done && r->close_delimited);
        ck_assert_int_eq(r->version_minor, 0);
        ck_assert_uint_eq(o->body_len, 21);
        ck_assert(memcmp(o->body, "all of this until EOF", 21) == 0);
        ck_assert_int_eq(us_http_cli_eof(r), 0);
        ck_assert(r->done);
        free(o);
        free(r);
    }
}
END_TEST

START_TEST(cli_no_body)
{
    struct cli_run *o = malloc(sizeof(*o));
    struct us_http_client_resp *r = cli_new(true);
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    cli_run(r, s, strlen(s), 0, o);
    ck_assert(r->done && o->body_len == 0);
    free(r);
    r = cli_new(false);
    s = "HTTP/1.1 204 No Content\r\n\r\n";
    cli_run(r, s, strlen(s), 0, o);
    ck_assert(r->done && o->body_len == 0);
    free(r);
    r = cli_new(false);
    s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
        "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
    cli_run(r, s, strlen(s), 0, o);
    ck_assert(r->done);
    ck_assert_int_eq(r->status, 404);
    ck_assert_str_eq(r->reason, "Not Found");
    ck_assert_uint_eq(o->body_len, 2);
    free(r);
    r = cli_new(false);
    s = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
    cli_run(r, s, strlen(s), 0, o);
    ck_assert(r->done);
    ck_assert_str_eq(r->reason, "");
    free(r);
    /* obs-fold is unfolded (RFC 9112 5.2) */
    r = cli_new(false);
    s = "HTTP/1.1 200 OK\r\nX-Long: a\r\n b\r\nContent-Length: 1\r\n\r\nZ";
    cli_run(r, s, strlen(s), 0, o);
    ck_assert_int_eq(o->err, 0);
    ck_assert(r->done && o->body_len == 1);
    free(r);
    free(o);
}
END_TEST

START_TEST(cli_truncated)
{
    static const char *const cut[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        "HTTP/1.1 200 OK\r\nContent-Le",
        "",
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        struct us_http_client_resp *r = cli_new(false);
        struct cli_run *o = malloc(sizeof(*o));
        cli_run(r, cut[i], strlen(cut[i]), 0, o);
        ck_assert_int_eq(o->err, 0);
        ck_assert_msg(us_http_cli_eof(r) == -EPIPE, "%s", cut[i]);
        ck_assert(!r->done);
        free(o);
        free(r);
    }
}
END_TEST

START_TEST(cli_errors)
{
    static const struct {
        const char *s;
        int err;
    } bad[] = {
        {"HTTP/1.1 2OO OK\r\n\r\n", -EBADMSG},
        {"garbage\r\n\r\n", -EBADMSG},
        {"HTTP/1.1200 OK\r\n\r\n", -EBADMSG},
        {"HTTP/1.1 600 Weird\r\n\r\n", -EBADMSG},
        {"HTTP/1.1 099 Low\r\n\r\n", -EBADMSG},
        {"HTTP/1.1 2000 OK\r\n\r\n", -EBADMSG},
        {"http/1.1 200 OK\r\n\r\n", -EBADMSG},
        {"HTTP/2.0 200 OK\r\n\r\n", -EPROTO},
        {"HTTP/1.1 101 Switching\r\n\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", -EBADMSG},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EBADMSG},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", -EBADMSG},
        {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", -EBADMSG},
        {"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", -EBADMSG},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -EBADMSG},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", -EBADMSG},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", -EBADMSG},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", -EBADMSG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct us_http_client_resp *r = cli_new(false);
        struct cli_run *o = malloc(sizeof(*o));
        cli_run(r, bad[i].s, strlen(bad[i].s), 0, o);
        ck_assert_msg(o->err == bad[i].err, "%s: %d", bad[i].s, o->err);
        ck_assert_int_eq(us_http_cli_eof(r), bad[i].err); /* sticky */
        free(o);
        free(r);
    }
}
END_TEST

START_TEST(cli_oversized)
{
    size_t n = 20000;
    char *s = malloc(n + 64);
    strcpy(s, "HTTP/1.1 200 OK\r\nX-Big: ");
    size_t l = strlen(s);
    memset(s + l, 'b', n);
    strcpy(s + l + n, "\r\n\r\n");
    struct us_http_client_resp *r = cli_new(false);
    struct cli_run *o = malloc(sizeof(*o));
    cli_run(r, s, strlen(s), 1000, o);
    ck_assert_int_eq(o->err, -EMSGSIZE);
    free(r);
    /* an endless chunk extension */
    strcpy(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
    l = strlen(s);
    memset(s + l, 'e', n);
    s[l + n] = '\0';
    r = cli_new(false);
    cli_run(r, s, strlen(s), 0, o);
    ck_assert_int_eq(o->err, -EMSGSIZE);
    free(r);
    free(o);
    free(s);
}
END_TEST

/* The server's output parses with the client parser. */
START_TEST(round_trip)
{
    struct out o = serve("GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n", NULL);
    struct us_http_client_resp *r = cli_new(false);
    struct cli_run *c = malloc(sizeof(*c));
    cli_run(r, o.b, o.len, 7, c);
    ck_assert_int_eq(c->err, 0);
    ck_assert(r->done);
    ck_assert_uint_eq(c->body_len, 14);
    ck_assert(memcmp(c->body, "<h1>home</h1>\n", 14) == 0);
    free(c);
    free(r);
    free(o.b);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("http");
    TCase *u = tcase_create("url");
    tcase_add_test(u, url_good);
    tcase_add_test(u, url_bad);
    tcase_add_test(u, build_get);
    suite_add_tcase(s, u);

    TCase *srv = tcase_create("server");
    tcase_add_checked_fixture(srv, setup, teardown);
    tcase_set_timeout(srv, 30);
    tcase_add_test(srv, srv_get_file);
    tcase_add_test(srv, srv_date_and_types);
    tcase_add_test(srv, srv_head);
    tcase_add_test(srv, srv_errors);
    tcase_add_test(srv, srv_limits);
    tcase_add_test(srv, srv_pipeline);
    tcase_add_test(srv, srv_byte_by_byte);
    tcase_add_test(srv, srv_connection_close);
    tcase_add_test(srv, srv_http10);
    tcase_add_test(srv, srv_traversal);
    tcase_add_test(srv, srv_big_file);
    tcase_add_test(srv, srv_file_shrinks);
    tcase_add_test(srv, srv_bad_root);
    tcase_add_test(srv, round_trip);
    suite_add_tcase(s, srv);

    TCase *cli = tcase_create("client");
    tcase_add_test(cli, cli_content_length);
    tcase_add_test(cli, cli_chunked);
    tcase_add_test(cli, cli_close_delimited);
    tcase_add_test(cli, cli_no_body);
    tcase_add_test(cli, cli_truncated);
    tcase_add_test(cli, cli_errors);
    tcase_add_test(cli, cli_oversized);
    suite_add_tcase(s, cli);
    return s;
}

US_TEST_MAIN()
