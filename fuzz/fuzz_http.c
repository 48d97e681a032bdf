/* libFuzzer target for apps/http.c: arbitrary bytes as a stream of requests to the file server
 * (root: a temp dir made once, with a secret file and symlinks outside it) and as a response to
 * the client parser, fed whole and in pieces. Must never crash, leak a descriptor, loop, or
 * serve the secret; responses must be well-formed and body spans must lie inside the input. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"

#define SECRET "FUZZ-SECRET-OUTSIDE-ROOT"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Harness state, written once by LLVMFuzzerInitialize. */
static char base[64];
static char root[96];

static void
put(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void
cleanup(void)
{
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    strcpy(base, "/tmp/ustack-fuzz-http-XXXXXX");
    if (!mkdtemp(base))
        abort();
    char out[128], p[256];
    snprintf(root, sizeof root, "%s/root", base);
    snprintf(out, sizeof out, "%s/outside", base);
    snprintf(p, sizeof p, "%s/sub", root);
    if (mkdir(root, 0755) || mkdir(out, 0755) || mkdir(p, 0755))
        abort();
    put(out, "secret.txt", SECRET "\n");
    put(root, "index.html", "<p>index</p>\n");
    put(root, "a.txt", "aaaa\n");
    put(root, "sub/b.css", "b{}\n");
    snprintf(p, sizeof p, "%s/link", root);
    if (symlink("../outside/secret.txt", p))
        abort();
    snprintf(p, sizeof p, "%s/linkdir", root);
    if (symlink("../outside", p))
        abort();
    atexit(cleanup);
    return 0;
}

static void
fuzz_server(const uint8_t *data, size_t size, size_t piece)
{
    struct us_http_server_conn *c = malloc(sizeof(*c));
    if (!c || us_http_srv_init(c, root) != 0)
        abort();
    uint8_t buf[600];
    size_t off = 0;
    for (int rounds = 0; off < size; rounds++) {
        if (rounds > 100000)
            abort(); /* no progress */
        size_t len = size - off < piece ? size - off : piece, used = 99999;
        int r = us_http_srv_feed(c, data + off, len, &used);
        if (used > len || (r == 0 && used != len) || (r < 0 && used != 0))
            abort();
        off += used;
        if (r == -ESHUTDOWN)
            break;
        if (r != 1)
            continue;
        size_t n, total = 0;
        char head[16];
        while ((n = us_http_srv_next_output(c, buf, sizeof buf)) > 0) {
            if (n > sizeof buf)
                abort();
            if (total < sizeof head)
                memcpy(head + total, buf, n < sizeof head - total ? n : sizeof head - total);
            if (memmem(buf, n, SECRET, 8))
                abort();
            total += n;
        }
        if (total < 16 || memcmp(head, "HTTP/1.1 ", 9) != 0 || c->state == US_HTTP_SRV_SEND)
            abort();
        if (c->status == 200 && c->body_fd != -1)
            abort();
    }
    us_http_srv_free(c);
    free(c);
}

static void
fuzz_client(const uint8_t *data, size_t size, size_t piece, bool head)
{
    struct us_http_client_resp *r = malloc(sizeof(*r));
    if (!r)
        abort();
    us_http_cli_init(r, head);
    size_t off = 0;
    uint64_t body_total = 0;
    while (off < size && !r->done) {
        size_t len = size - off < piece ? size - off : piece, used;
        const uint8_t *body;
        size_t blen;
        int err = us_http_cli_feed(r, data + off, len, &used, &body, &blen);
        if (used > len)
            abort();
        if (err < 0) {
            if (us_http_cli_feed(r, data, size, &used, &body, &blen) != err || used != 0)
                abort(); /* sticky */
            break;
        }
        if (err > 0 || used == 0)
            abort(); /* no progress */
        if (blen > 0 && (body < data + off || body + blen > data + off + used))
            abort();
        body_total += blen;
        off += used;
    }
    if (r->content_length >= 0 && body_total > (uint64_t)r->content_length)
        abort();
    if (body_total != r->body_bytes && r->err == 0)
        abort();
    int e = us_http_cli_eof(r);
    if (e == 0 && !r->done)
        abort();
    if (r->done && (r->status < 200 || r->status > 599 || !r->headers_done))
        abort();
    free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t piece = size > 0 ? (size_t)(data[0] % 13) + 1 : 1;
    fuzz_server(data, size, size ? size : 1);
    fuzz_server(data, size, piece);
    fuzz_client(data, size, size ? size : 1, false);
    fuzz_client(data, size, piece, size > 0 && (data[size - 1] & 1));
    return 0;
}
