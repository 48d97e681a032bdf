/* HTTP/1.1 URL parsing, static file server state machine and response parser (RFC 9110, 9112).
 * Layer: apps. No sockets and no clock: bytes in, bytes out. The server opens files one path
 * segment at a time below the root with O_NOFOLLOW, so no symlink and no ".." leads outside it;
 * the cost is that symlinks inside the root are not followed either. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- character classes ----------------------------------------------------------------------- */

static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
hex_val(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 9110 5.6.2: tchar. */
static bool
is_tchar(int c)
{
    return is_alpha(c) || is_digit(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

/* RFC 9110 5.5: field-value bytes; CR, LF, NUL and other controls are rejected (HTAB is fine). */
static bool
is_field_value(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static bool
ieq(const char *a, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(a, lit, n) == 0;
}

static void
trim_ows(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Calls fn for each element of a comma-separated list (RFC 9110 5.6.1), OWS trimmed, empty
 * elements skipped. Stops at and returns the first non-zero result. */
static int
for_each_element(const char *s, size_t n, int (*fn)(void *, const char *, size_t), void *arg)
{
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        const char *e = s + i;
        size_t en = j - i;
        trim_ows(&e, &en);
        if (en > 0) {
            int r = fn(arg, e, en);
            if (r != 0)
                return r;
        }
        i = j + 1;
    }
    return 0;
}

/* 1*DIGIT without overflow; RFC 9112 6.2 Content-Length. */
static int
parse_u63(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 18)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Content-Length may repeat (as a list or several fields) only with one value (RFC 9112 6.3
 * item 5); *cl is -1 before the first. */
static int
content_length_elem(void *arg, const char *e, size_t n)
{
    int64_t *cl = arg;
    uint64_t v;
    if (parse_u63(e, n, &v) < 0)
        return -EBADMSG;
    if (*cl >= 0 && (uint64_t)*cl != v)
        return -EBADMSG;
    *cl = (int64_t)v;
    return 0;
}

static int
content_length_value(const char *v, size_t n, int64_t *cl)
{
    if (n == 0)
        return -EBADMSG;
    return for_each_element(v, n, content_length_elem, cl);
}

/* ---- URLs ------------------------------------------------------------------------------------ */

static bool
host_is_dotted_quad(const char *h, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t start = i;
        unsigned v = 0;
        while (i < n && is_digit((unsigned char)h[i]) && i - start < 3)
            v = v * 10 + (unsigned)(h[i++] - '0');
        if (i == start || v > 255 || (i < n && is_digit((unsigned char)h[i])))
            return false;
        parts++;
        if (parts < 4) {
            if (i >= n || h[i] != '.')
                return false;
            i++;
        }
    }
    return i == n;
}

/* A DNS-style name: labels of letters, digits, '-' and '_', 1..63 each, one trailing dot ok. A
 * name made only of digits and dots must be a dotted quad. */
static bool
host_is_valid(const char *h, size_t n)
{
    if (n == 0 || n >= US_URL_HOST_MAX || n > 254)
        return false;
    bool numeric = true;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)h[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
            if (++label > 63)
                return false;
            if (!is_digit(c))
                numeric = false;
        } else {
            return false;
        }
    }
    return numeric ? host_is_dotted_quad(h, n) : true;
}

/* RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://" for us. */
static size_t
scheme_len(const char *url)
{
    if (!is_alpha((unsigned char)url[0]))
        return 0;
    size_t i = 1;
    while (is_alpha((unsigned char)url[i]) || is_digit((unsigned char)url[i]) || url[i] == '+' ||
           url[i] == '-' || url[i] == '.')
        i++;
    return strncmp(url + i, "://", 3) == 0 ? i : 0;
}

static int
url_port(const char *s, size_t n, uint16_t *port)
{
    if (n == 0) {
        *port = US_HTTP_PORT; /* RFC 3986 3.2.3: an empty port is the scheme's default */
        return 0;
    }
    if (n > 5)
        return -EINVAL;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}

int
us_url_parse(const char *url, struct us_url *out)
{
    memset(out, 0, sizeof(*out));
    if (!url)
        return -EINVAL;
    for (const char *p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f)
            return -EINVAL; /* controls, spaces and raw non-ASCII must be percent-encoded */
    }
    size_t sl = scheme_len(url);
    if (sl == 0)
        return -EINVAL;
    if (!ieq(url, sl, "http"))
        return -EPROTONOSUPPORT;
    const char *auth = url + sl + 3;
    size_t alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen) || (alen > 0 && auth[0] == '['))
        return -EINVAL; /* userinfo (RFC 9110 4.2.4 deprecates it) and IPv6 literals */
    const char *colon = memchr(auth, ':', alen);
    size_t hlen = colon ? (size_t)(colon - auth) : alen;
    if (!host_is_valid(auth, hlen))
        return -EINVAL;
    out->port = US_HTTP_PORT;
    if (colon && url_port(colon + 1, alen - hlen - 1, &out->port) < 0)
        return -EINVAL;
    memcpy(out->host, auth, hlen);

    /* RFC 9112 3.2.1: an empty path is sent as "/"; the fragment is never sent. */
    const char *rest = auth + alen;
    size_t plen = strcspn(rest, "#");
    size_t off = 0;
    if (plen == 0 || rest[0] == '?')
        out->path[off++] = '/';
    if (off + plen >= sizeof(out->path)) {
        memset(out, 0, sizeof(*out));
        return -EINVAL;
    }
    memcpy(out->path + off, rest, plen);
    return 0;
}

/* ---- server: responses ----------------------------------------------------------------------- */

static const char *
reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {"html", "text/html"}, {"htm", "text/html"},         {"txt", "text/plain"},
    {"css", "text/css"},   {"js", "text/javascript"},    {"png", "image/png"},
    {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},       {"json", "application/json"},
    {"bin", "application/octet-stream"},
};

static const char *
content_type_for(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && dot != name) {
        for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
            if (strcasecmp(dot + 1, content_types[i].ext) == 0)
                return content_types[i].type;
    }
    return "application/octet-stream";
}

struct srv_req {
    bool head;            /* method is HEAD */
    bool http10;
    bool conn_close;      /* Connection: close */
    bool conn_keep_alive; /* Connection: keep-alive */
    bool has_body;        /* Content-Length > 0 or Transfer-Encoding */
    int hosts;
    int64_t content_length;
    const char *target;
    size_t target_len;
};

static void
srv_close_fd(struct us_http_server_conn *c)
{
    if (c->body_fd >= 0)
        close(c->body_fd);
    c->body_fd = -1;
    c->body_left = 0;
}

/* Appends printf output to the response head; the head always fits (fixed strings, one number,
 * a short body), so overflow is an internal error that truncates. */
static void
out_printf(struct us_http_server_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_printf(struct us_http_server_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof(c->out) - c->out_len;
    int n = vsnprintf(c->out + c->out_len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->out_len += (size_t)n < room ? (size_t)n : room - 1;
}

/* The Date field line for unix_seconds (RFC 9110 5.6.7: IMF-fixdate) into buf; "" when
 * unix_seconds < 0 or it cannot be converted. */
static void
date_line(char *buf, size_t cap, int64_t unix_seconds)
{
    static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    buf[0] = '\0';
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (unix_seconds < 0 || !gmtime_r(&t, &tm))
        return;
    snprintf(buf, cap, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", wday[tm.tm_wday],
             tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
out_date(struct us_http_server_conn *c)
{
    char line[64];
    date_line(line, sizeof(line), c->date);
    out_printf(c, "%s", line);
}

/* Status line and the fields every response carries (RFC 9112 4, RFC 9110 6.6.1, 10.2.4). */
static void
srv_start_head(struct us_http_server_conn *c, int status, const struct srv_req *rq)
{
    c->status = status;
    c->requests++;
    c->out_len = c->out_off = 0;
    out_printf(c, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
    out_date(c);
    out_printf(c, "Server: ustack\r\n");
    if (c->close_after)
        out_printf(c, "Connection: close\r\n");
    else if (rq && rq->http10)
        out_printf(c, "Connection: keep-alive\r\n"); /* RFC 9112 9.3: 1.0 persistence is opt-in */
}

static void
srv_error(struct us_http_server_conn *c, int status, const struct srv_req *rq)
{
    char body[64];
    int blen = snprintf(body, sizeof(body), "%d %s\n", status, reason_phrase(status));
    srv_close_fd(c);
    if (status != 404 && status != 403 && status != 405)
        c->close_after = true; /* framing errors and server trouble end the connection */
    srv_start_head(c, status, rq);
    if (status == 405)
        out_printf(c, "Allow: GET, HEAD\r\n"); /* RFC 9110 15.5.6: 405 MUST carry Allow */
    out_printf(c, "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n", blen);
    if (!rq || !rq->head)
        out_printf(c, "%s", body);
    c->state = US_HTTP_SRV_SEND;
}

static void
srv_ok(struct us_http_server_conn *c, const struct srv_req *rq, int fd, uint64_t size,
       const char *name)
{
    srv_start_head(c, 200, rq);
    out_printf(c, "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n\r\n", content_type_for(name),
               size);
    c->body_fd = fd;
    c->body_left = rq->head ? 0 : size; /* RFC 9110 9.3.2: HEAD gets the head only */
    if (c->body_left == 0)
        srv_close_fd(c);
    c->state = US_HTTP_SRV_SEND;
}

/* ---- server: path mapping -------------------------------------------------------------------- */

static int
errno_status(int e)
{
    switch (e) {
    case EACCES:
    case EPERM:
        return 403;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
        return 503;
    default:
        return 404; /* ENOENT, ENOTDIR, ELOOP (a symlink), ENAMETOOLONG, ... */
    }
}

/* Percent-decodes the path part of an origin-form target (RFC 9112 3.2.1) into out. Returns 0 or
 * an HTTP status: 400 for a bad escape, NUL or other control, 403 for a backslash. */
static int
decode_path(const char *t, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)t[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_val((unsigned char)t[i + 1]) : -1;
            int lo = i + 2 < n ? hex_val((unsigned char)t[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return 400;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return 400;
        if (c == '\\')
            return 403;
        if (o + 1 >= cap)
            return 414;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* Opens the regular file the decoded path names below the root, one segment at a time, never
 * following a symlink; a directory yields its index.html. Returns 0 with *fd, *size and *name
 * (the last component, for Content-Type), or an HTTP status. */
static int
srv_open(struct us_http_server_conn *c, char *path, int *fd, uint64_t *size, const char **name)
{
    int dir = c->root_fd;
    const char *last = ".";
    char *save = NULL;
    char *seg = strtok_r(path, "/", &save);
    while (seg) {
        char *next = strtok_r(NULL, "/", &save);
        if (strcmp(seg, "..") == 0) {
            if (dir != c->root_fd)
                close(dir);
            return 403;
        }
        if (strcmp(seg, ".") != 0) {
            if (!next) {
                last = seg;
                break;
            }
            int d = openat(dir, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int e = errno;
            if (dir != c->root_fd)
                close(dir);
            if (d < 0)
                return errno_status(e);
            dir = d;
        }
        seg = next;
    }
    int f = openat(dir, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    int e = errno;
    if (dir != c->root_fd)
        close(dir);
    if (f < 0)
        return errno_status(e);
    struct stat st;
    if (fstat(f, &st) == 0 && S_ISDIR(st.st_mode)) {
        int idx = openat(f, "index.html", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        e = errno;
        close(f);
        if (idx < 0)
            return errno_status(e);
        f = idx;
        last = "index.html";
        if (fstat(f, &st) != 0)
            st.st_mode = 0;
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return 404;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    *name = last;
    return 0;
}

/* ---- server: request parsing ----------------------------------------------------------------- */

struct conn_tokens {
    bool close, keep_alive;
};

static int
connection_elem(void *arg, const char *e, size_t n)
{
    struct conn_tokens *t = arg;
    if (ieq(e, n, "close"))
        t->close = true;
    else if (ieq(e, n, "keep-alive"))
        t->keep_alive = true;
    return 0;
}

/* RFC 9110 7.2 / RFC 9112 3.2: Host = uri-host [ ":" port ]; empty is allowed. */
static bool
host_field_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (!is_alpha(c) && !is_digit(c) && !strchr("-._~:[]%!$&'()*+,;=", c))
            return false;
    }
    return true;
}

/* One field line (RFC 9112 5.1). Returns 0 or 400. */
static int
srv_field(struct srv_req *rq, const char *line, size_t n)
{
    if (n > 0 && (line[0] == ' ' || line[0] == '\t'))
        return 400; /* RFC 9112 5.2: obs-fold in a request -> 400 */
    const char *colon = memchr(line, ':', n);
    if (!colon || !is_token(line, (size_t)(colon - line)))
        return 400; /* RFC 9112 5.1: no whitespace between name and colon */
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    trim_ows(&v, &vlen);
    if (!is_field_value(v, vlen))
        return 400;
    if (ieq(line, nlen, "host")) {
        rq->hosts++;
        if (!host_field_ok(v, vlen))
            return 400;
    } else if (ieq(line, nlen, "connection")) {
        struct conn_tokens t = {rq->conn_close, rq->conn_keep_alive};
        for_each_element(v, vlen, connection_elem, &t);
        rq->conn_close = t.close;
        rq->conn_keep_alive = t.keep_alive;
    } else if (ieq(line, nlen, "content-length")) {
        if (content_length_value(v, vlen, &rq->content_length) < 0)
            return 400; /* RFC 9112 6.3 item 5 */
        if (rq->content_length > 0)
            rq->has_body = true;
    } else if (ieq(line, nlen, "transfer-encoding")) {
        rq->has_body = true;
    }
    return 0;
}

/* Request line (RFC 9112 3): method SP request-target SP HTTP-version. Returns 0 or a status. */
static int
srv_request_line(struct srv_req *rq, const char *line, size_t n, bool *is_get_head)
{
    const char *sp1 = memchr(line, ' ', n);
    if (!sp1)
        return 400;
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', n - (size_t)(t - line));
    if (!sp2)
        return 400;
    const char *ver = sp2 + 1;
    size_t vlen = n - (size_t)(ver - line);
    size_t mlen = (size_t)(sp1 - line);
    rq->target = t;
    rq->target_len = (size_t)(sp2 - t);
    if (!is_token(line, mlen) || rq->target_len == 0)
        return 400;
    for (size_t i = 0; i < rq->target_len; i++)
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f || t[i] == '#')
            return 400;
    /* RFC 9112 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive. */
    if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || !is_digit((unsigned char)ver[5]) ||
        ver[6] != '.' || !is_digit((unsigned char)ver[7]))
        return 400;
    if (ver[5] != '1')
        return 505;
    rq->http10 = ver[7] == '0'; /* RFC 9110 6.2: 1.x with x > 1 is treated as 1.1 */
    rq->head = mlen == 4 && memcmp(line, "HEAD", 4) == 0;
    *is_get_head = rq->head || (mlen == 3 && memcmp(line, "GET", 3) == 0);
    return 0;
}

/* Next line of the collected head starting at *pos, CR stripped. False at the empty line. */
static bool
next_line(const char *head, size_t len, size_t *pos, const char **line, size_t *n)
{
    const char *s = head + *pos;
    const char *lf = memchr(s, '\n', len - *pos);
    size_t l = lf ? (size_t)(lf - s) : len - *pos;
    *pos += l + 1;
    if (l > 0 && s[l - 1] == '\r')
        l--;
    *line = s;
    *n = l;
    return l > 0;
}

/* Turns the complete head into a response. */
static void
srv_handle(struct us_http_server_conn *c)
{
    struct srv_req rq = {.content_length = -1};
    size_t pos = 0;
    const char *line;
    size_t n;
    bool get_head = false;
    next_line(c->head, c->head_len, &pos, &line, &n);
    int status = srv_request_line(&rq, line, n, &get_head);
    for (size_t i = 0; status == 0 && i + 1 < c->head_len; i++)
        if (c->head[i] == '\r' && c->head[i + 1] != '\n')
            status = 400; /* RFC 9112 2.2: a bare CR is invalid */
    while (status == 0 && next_line(c->head, c->head_len, &pos, &line, &n))
        status = srv_field(&rq, line, n);
    if (status == 0 && (rq.hosts > 1 || (!rq.http10 && rq.hosts == 0)))
        status = 400; /* RFC 9112 3.2: exactly one Host in 1.1, at most one in 1.0 */

    /* RFC 9112 9.3: persistence; 6.1: TE (and any body we do not read) -> close after. */
    c->close_after = rq.conn_close || (rq.http10 && !rq.conn_keep_alive) || rq.has_body;
    if (status == 0 && !get_head)
        status = 405;
    if (status != 0) {
        srv_error(c, status, &rq);
        return;
    }

    /* RFC 9112 3.2.1 origin-form, 3.2.2 absolute-form (a server MUST accept it). */
    const char *t = rq.target;
    size_t tlen = rq.target_len;
    if (tlen >= 7 && strncasecmp(t, "http://", 7) == 0) {
        size_t a = 7;
        while (a < tlen && t[a] != '/' && t[a] != '?')
            a++;
        t += a;
        tlen -= a;
        if (tlen == 0)
            t = "/", tlen = 1;
    }
    if (t[0] != '/') {
        srv_error(c, 400, &rq);
        return;
    }
    const char *q = memchr(t, '?', tlen);
    if (q)
        tlen = (size_t)(q - t);
    char path[US_HTTP_REQ_HEAD_MAX];
    int fd = -1;
    uint64_t size = 0;
    const char *name = NULL;
    status = decode_path(t, tlen, path, sizeof(path));
    if (status == 0)
        status = srv_open(c, path, &fd, &size, &name);
    if (status != 0)
        srv_error(c, status, &rq);
    else
        srv_ok(c, &rq, fd, size, name);
}

/* ---- server: API ----------------------------------------------------------------------------- */

int
us_http_srv_init(struct us_http_server_conn *conn, const char *root_dir)
{
    memset(conn, 0, sizeof(*conn));
    conn->body_fd = -1;
    conn->date = -1;
    conn->state = US_HTTP_SRV_READ;
    conn->root_fd = open(root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (conn->root_fd < 0) {
        int e = errno;
        conn->state = US_HTTP_SRV_CLOSED;
        return -e;
    }
    return 0;
}

void
us_http_srv_set_date(struct us_http_server_conn *conn, int64_t unix_seconds)
{
    conn->date = unix_seconds < 0 ? -1 : unix_seconds;
}

int
us_http_srv_feed(struct us_http_server_conn *conn, const uint8_t *data, size_t len,
                 size_t *consumed)
{
    *consumed = 0;
    if (conn->state == US_HTTP_SRV_SEND)
        return -EBUSY;
    if (conn->state == US_HTTP_SRV_CLOSED)
        return -ESHUTDOWN;
    for (size_t i = 0; i < len; i++) {
        char ch = (char)data[i];
        *consumed = i + 1;
        if (conn->head_len == 0 && (ch == '\r' || ch == '\n'))
            continue; /* RFC 9112 2.2: SHOULD ignore empty lines before the request line */
        if (conn->head_len == sizeof(conn->head)) {
            /* RFC 9112 3: long request line -> 414; RFC 6585 5: long header section -> 431. */
            *consumed = i;
            srv_error(conn, conn->head_done ? 431 : 414, NULL);
            return 1;
        }
        conn->head[conn->head_len++] = ch;
        if (ch != '\n')
            continue;
        if (!conn->head_done) {
            conn->head_done = true;
            continue;
        }
        /* An empty line (LF or CRLF right after an LF) ends the head (RFC 9112 2.1). */
        size_t hl = conn->head_len;
        bool end = (hl >= 2 && conn->head[hl - 2] == '\n') ||
                   (hl >= 3 && conn->head[hl - 2] == '\r' && conn->head[hl - 3] == '\n');
        if (end) {
            srv_handle(conn);
            conn->head_len = 0;
            conn->head_done = false;
            return 1;
        }
    }
    return 0;
}

size_t
us_http_srv_next_output(struct us_http_server_conn *conn, uint8_t *buf, size_t cap)
{
    if (conn->state != US_HTTP_SRV_SEND)
        return 0;
    size_t n = 0;
    if (conn->out_off < conn->out_len) {
        n = conn->out_len - conn->out_off;
        if (n > cap)
            n = cap;
        memcpy(buf, conn->out + conn->out_off, n);
        conn->out_off += n;
    }
    while (n < cap && conn->body_left > 0) {
        size_t want = cap - n;
        if (want > conn->body_left)
            want = (size_t)conn->body_left;
        ssize_t r = read(conn->body_fd, buf + n, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            /* The file shrank or failed: the promised length cannot be kept (RFC 9112 8). */
            conn->close_after = true;
            srv_close_fd(conn);
            break;
        }
        n += (size_t)r;
        conn->body_left -= (uint64_t)r;
    }
    if (conn->out_off == conn->out_len && conn->body_left == 0) {
        srv_close_fd(conn);
        conn->state = conn->close_after ? US_HTTP_SRV_CLOSED : US_HTTP_SRV_READ;
    }
    return n;
}

bool
us_http_srv_timeout(struct us_http_server_conn *conn)
{
    if (conn->state != US_HTTP_SRV_READ)
        return false;
    /* RFC 9110 15.5.9: 408, and the server SHOULD send the "close" connection option. */
    srv_error(conn, 408, NULL);
    conn->head_len = 0;
    conn->head_done = false;
    return true;
}

size_t
us_http_srv_busy(char *buf, size_t cap, int64_t unix_seconds)
{
    static const char body[] = "503 Service Unavailable\n";
    char date[64];
    date_line(date, sizeof(date), unix_seconds);
    /* RFC 9110 15.6.4: 503, the server is overloaded; Retry-After (10.2.3) says when to come
     * back; Connection: close (RFC 9112 9.6) as the connection ends after it. */
    int n = snprintf(buf, cap,
                     "HTTP/1.1 503 Service Unavailable\r\n%sServer: ustack\r\n"
                     "Connection: close\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     date, sizeof(body) - 1, body);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

bool
us_http_srv_wants_close(const struct us_http_server_conn *conn)
{
    return conn->state == US_HTTP_SRV_CLOSED;
}

void
us_http_srv_free(struct us_http_server_conn *conn)
{
    srv_close_fd(conn);
    if (conn->root_fd >= 0)
        close(conn->root_fd);
    conn->root_fd = -1;
    conn->state = US_HTTP_SRV_CLOSED;
}

/* ---- client ---------------------------------------------------------------------------------- */

int
us_http_build_get(char *buf, size_t cap, const struct us_url *u)
{
    size_t hl = strnlen(u->host, sizeof(u->host));
    size_t pl = strnlen(u->path, sizeof(u->path));
    if (hl == 0 || hl == sizeof(u->host) || pl == 0 || pl == sizeof(u->path) || u->path[0] != '/')
        return -EINVAL;
    for (size_t i = 0; i < pl; i++)
        if ((unsigned char)u->path[i] <= 0x20 || (unsigned char)u->path[i] >= 0x7f)
            return -EINVAL; /* RFC 9112 11.1: no CR/LF smuggled into the request line */
    if (!host_is_valid(u->host, hl))
        return -EINVAL;
    char port[8] = "";
    if (u->port != US_HTTP_PORT)
        snprintf(port, sizeof(port), ":%u", (unsigned)u->port);
    /* RFC 9112 3.2: Host is the authority of the target URI, port omitted when default. */
    int n = snprintf(buf, cap,
                     "GET %s HTTP/1.1\r\nHost: %s%s\r\nUser-Agent: ustack\r\nAccept: */*\r\n"
                     "Connection: close\r\n\r\n",
                     u->path, u->host, port);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    return n;
}

enum cli_phase {
    CLI_HEAD,       /* collecting status line and fields into head[] */
    CLI_BODY_LEN,   /* Content-Length body, left bytes to go */
    CLI_BODY_CLOSE, /* body until EOF */
    CLI_CHUNK_LINE, /* chunk-size [ chunk-ext ] CRLF, collected into head[] */
    CLI_CHUNK_DATA, /* left bytes of chunk data */
    CLI_CHUNK_CRLF, /* CRLF after chunk data, collected into head[] */
    CLI_TRAILER,    /* trailer field lines, collected into head[] one at a time */
    CLI_DONE,
};

#define CLI_LINE_MAX 4096 /* chunk-size line with extensions, or one trailer line */

void
us_http_cli_init(struct us_http_client_resp *resp, bool head_request)
{
    memset(resp, 0, sizeof(*resp));
    resp->content_length = -1;
    resp->head_request = head_request;
    resp->phase = CLI_HEAD;
}

static int
cli_fail(struct us_http_client_resp *r, int err)
{
    r->err = err;
    return err;
}

struct te_state {
    int codings;
    bool chunked_last;
};

static int
te_elem(void *arg, const char *e, size_t n)
{
    struct te_state *t = arg;
    /* Parameters after ';' belong to the coding name before them. */
    const char *semi = memchr(e, ';', n);
    size_t nl = semi ? (size_t)(semi - e) : n;
    trim_ows(&e, &nl);
    t->codings++;
    t->chunked_last = ieq(e, nl, "chunked");
    return 0;
}

/* Status line (RFC 9112 4): HTTP-version SP 3DIGIT SP [ reason-phrase ]. */
static int
cli_status_line(struct us_http_client_resp *r, const char *s, size_t n)
{
    if (n < 8 || memcmp(s, "HTTP/", 5) != 0 || !is_digit((unsigned char)s[5]) || s[6] != '.' ||
        !is_digit((unsigned char)s[7]))
        return -EBADMSG;
    if (s[5] != '1')
        return -EPROTO; /* RFC 9112 2.3: only major version 1 is ours */
    /* RFC 9110 15: 100..599. The SP before an empty reason is often left out; we accept that. */
    if (n < 12 || s[8] != ' ' || s[9] < '1' || s[9] > '5' || !is_digit((unsigned char)s[10]) ||
        !is_digit((unsigned char)s[11]) || (n > 12 && s[12] != ' '))
        return -EBADMSG;
    const char *reason = n > 13 ? s + 13 : "";
    size_t rlen = n > 13 ? n - 13 : 0;
    if (!is_field_value(reason, rlen))
        return -EBADMSG;
    r->version_minor = s[7] - '0';
    r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (rlen >= sizeof(r->reason))
        rlen = sizeof(r->reason) - 1;
    memcpy(r->reason, reason, rlen);
    r->reason[rlen] = '\0';
    return 0;
}

/* The head is complete in head[0..head_len): parse it and pick the body framing (RFC 9112 6.3). */
static int
cli_head(struct us_http_client_resp *r)
{
    char *h = r->head;
    size_t len = r->head_len;
    /* RFC 9112 5.2: a user agent replaces obs-fold with SP before interpreting the field. */
    for (size_t i = 1; i + 1 < len; i++) {
        if (h[i] == '\n' && (h[i + 1] == ' ' || h[i + 1] == '\t') && i + 2 < len) {
            h[i] = ' ';
            if (h[i - 1] == '\r')
                h[i - 1] = ' ';
        }
    }
    for (size_t i = 0; i + 1 < len; i++)
        if (h[i] == '\r' && h[i + 1] != '\n')
            return -EBADMSG; /* RFC 9112 2.2: bare CR */
    size_t pos = 0;
    const char *line;
    size_t n;
    next_line(h, len, &pos, &line, &n);
    int err = cli_status_line(r, line, n);
    if (err < 0)
        return err;
    int64_t cl = -1;
    struct te_state te = {0, false};
    while (next_line(h, len, &pos, &line, &n)) {
        const char *colon = memchr(line, ':', n);
        if (!colon || !is_token(line, (size_t)(colon - line)))
            return -EBADMSG;
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1;
        size_t vlen = n - nlen - 1;
        trim_ows(&v, &vlen);
        if (!is_field_value(v, vlen))
            return -EBADMSG;
        if (ieq(line, nlen, "content-length")) {
            if (content_length_value(v, vlen, &cl) < 0)
                return -EBADMSG;
        } else if (ieq(line, nlen, "transfer-encoding")) {
            for_each_element(v, vlen, te_elem, &te);
        }
    }
    if (r->status == 101)
        return -EPROTO; /* we never ask to switch protocols */
    if (r->status < 200) {
        /* RFC 9110 15.2: interim 1xx responses come before the final one; skip them. */
        r->status = 0;
        r->reason[0] = '\0';
        return 0;
    }
    r->headers_done = true;
    if (r->head_request || r->status == 204 || r->status == 304) {
        r->phase = CLI_DONE; /* RFC 9112 6.3 item 1 */
    } else if (te.codings > 0) {
        /* Item 3: Transfer-Encoding overrides Content-Length. We send no TE field, so the only
         * coding we can accept is chunked alone. */
        if (te.codings != 1 || !te.chunked_last)
            return -EPROTO;
        r->chunked = true;
        r->phase = CLI_CHUNK_LINE;
    } else if (cl >= 0) {
        r->content_length = cl; /* item 5 */
        r->left = (uint64_t)cl;
        r->phase = cl == 0 ? CLI_DONE : CLI_BODY_LEN;
    } else {
        r->close_delimited = true; /* item 7 */
        r->phase = CLI_BODY_CLOSE;
    }
    r->done = r->phase == CLI_DONE;
    return 0;
}

/* Chunk size line (RFC 9112 7.1): 1*HEXDIG [ BWS chunk-ext ]; extensions are ignored (7.1.1). */
static int
cli_chunk_size(struct us_http_client_resp *r, const char *s, size_t n)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && hex_val((unsigned char)s[i]) >= 0) {
        if (v >> 59)
            return -EBADMSG; /* more than 2^63 */
        v = v * 16 + (uint64_t)hex_val((unsigned char)s[i]);
        i++;
    }
    if (i == 0)
        return -EBADMSG;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n && s[i] != ';')
        return -EBADMSG;
    if (!is_field_value(s + i, n - i))
        return -EBADMSG;
    r->left = v;
    r->phase = v == 0 ? CLI_TRAILER : CLI_CHUNK_DATA;
    return 0;
}

/* Collects one line into head[]; returns 1 when a line is complete (CR stripped, length in
 * *n), 0 when data ran out, or a negative error. */
static int
cli_line(struct us_http_client_resp *r, const uint8_t *data, size_t len, size_t *i, size_t limit,
         size_t *n)
{
    while (*i < len) {
        char ch = (char)data[(*i)++];
        if (ch == '\n') {
            *n = r->head_len;
            if (*n > 0 && r->head[*n - 1] == '\r')
                (*n)--;
            r->head_len = 0;
            return 1;
        }
        if (r->head_len >= limit)
            return -EMSGSIZE;
        r->head[r->head_len++] = ch;
    }
    return 0;
}

static int
cli_step_head(struct us_http_client_resp *r, const uint8_t *data, size_t len, size_t *i)
{
    while (*i < len) {
        char ch = (char)data[(*i)++];
        if (r->head_len == 0 && (ch == '\r' || ch == '\n'))
            continue; /* RFC 9112 2.2: tolerate empty lines before the status line */
        if (r->head_len == sizeof(r->head))
            return -EMSGSIZE;
        r->head[r->head_len++] = ch;
        size_t hl = r->head_len;
        if (ch == '\n' && ((hl >= 2 && r->head[hl - 2] == '\n') ||
                           (hl >= 3 && r->head[hl - 2] == '\r' && r->head[hl - 3] == '\n'))) {
            int err = cli_head(r);
            r->head_len = 0;
            return err;
        }
    }
    return 0;
}

/* Processes framing bytes until a body span is ready, the data ends, or the response is done. */
static int
cli_step(struct us_http_client_resp *r, const uint8_t *data, size_t len, size_t *i,
         const uint8_t **body, size_t *body_len)
{
    size_t n;
    int got;
    switch (r->phase) {
    case CLI_HEAD:
        return cli_step_head(r, data, len, i);
    case CLI_BODY_LEN:
    case CLI_CHUNK_DATA:
    case CLI_BODY_CLOSE: {
        size_t take = len - *i;
        if (r->phase != CLI_BODY_CLOSE && take > r->left)
            take = (size_t)r->left;
        *body = data + *i;
        *body_len = take;
        *i += take;
        r->body_bytes += take;
        if (r->phase == CLI_BODY_CLOSE)
            return 0;
        r->left -= take;
        if (r->left == 0)
            r->phase = r->phase == CLI_BODY_LEN ? CLI_DONE : CLI_CHUNK_CRLF;
        return 0;
    }
    case CLI_CHUNK_LINE:
        got = cli_line(r, data, len, i, CLI_LINE_MAX, &n);
        return got <= 0 ? got : cli_chunk_size(r, r->head, n);
    case CLI_CHUNK_CRLF:
        got = cli_line(r, data, len, i, 1, &n);
        if (got > 0 && n != 0)
            return -EBADMSG;
        if (got > 0)
            r->phase = CLI_CHUNK_LINE;
        return got < 0 ? -EBADMSG : 0;
    case CLI_TRAILER:
        /* RFC 9112 7.1.2: trailer fields may be discarded; 7.1.3: up to the empty line. */
        got = cli_line(r, data, len, i, CLI_LINE_MAX, &n);
        if (got > 0) {
            r->trailer_bytes += n + 2;
            if (n == 0)
                r->phase = CLI_DONE;
            else if (r->trailer_bytes > US_HTTP_RESP_HEAD_MAX)
                return -EMSGSIZE;
        }
        return got < 0 ? got : 0;
    default:
        return 0;
    }
}

int
us_http_cli_feed(struct us_http_client_resp *resp, const uint8_t *data, size_t len,
                 size_t *consumed, const uint8_t **body, size_t *body_len)
{
    *consumed = 0;
    *body = NULL;
    *body_len = 0;
    if (resp->err)
        return resp->err;
    size_t i = 0;
    while (i < len && resp->phase != CLI_DONE && *body_len == 0) {
        int err = cli_step(resp, data, len, &i, body, body_len);
        if (err < 0) {
            *consumed = i;
            *body = NULL;
            *body_len = 0;
            return cli_fail(resp, err);
        }
    }
    resp->done = resp->phase == CLI_DONE;
    if (*body_len == 0)
        *body = NULL;
    *consumed = i;
    return 0;
}

int
us_http_cli_eof(struct us_http_client_resp *resp)
{
    if (resp->err)
        return resp->err;
    if (resp->phase == CLI_BODY_CLOSE)
        resp->phase = CLI_DONE; /* RFC 9112 6.3 item 7 */
    resp->done = resp->phase == CLI_DONE;
    if (!resp->done)
        return cli_fail(resp, -EPIPE); /* RFC 9112 8: incomplete message */
    return 0;
}
