/* HTTP/1.1 (RFC 9110, RFC 9112) for the daemon's static file server (`--serve http=DIR`) and
 * `ustack get URL`. Layer: apps. Transport-agnostic: pure parsers and per-connection state
 * machines fed with bytes and drained into caller buffers; no sockets, no clock, no global state.
 * The server reads files with openat()/read() and never holds a whole file in memory. */
#ifndef US_APPS_HTTP_H
#define US_APPS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define US_HTTP_PORT 80
#define US_URL_HOST_MAX 256
#define US_URL_PATH_MAX 2048
#define US_HTTP_REQ_HEAD_MAX 8192   /* request line + header section + empty line */
#define US_HTTP_RESP_HEAD_MAX 16384 /* status line + header section + empty line */
#define US_HTTP_OUT_HEAD_MAX 1024   /* server response head plus an error body */

/* ---- URLs ------------------------------------------------------------------------------------ */

struct us_url {
    char host[US_URL_HOST_MAX];  /* reg-name or dotted quad, as written (no brackets, no port) */
    uint16_t port;               /* 80 if absent */
    char path[US_URL_PATH_MAX];  /* origin-form: "/" + path [+ "?" query]; fragment dropped */
};

/* Parses "http://host[:port][/path][?query][#fragment]" (scheme case-insensitive). Returns 0, or
 *   -EPROTONOSUPPORT  a syntactically valid scheme other than http (https, ftp, ...);
 *   -EINVAL           no scheme, userinfo ("user@"), IP literal in brackets, empty or bad host
 *                     (labels of letters, digits, '-', '_' up to 63; all-numeric hosts must be
 *                     a dotted quad), port not 1..65535, a space, control or non-ASCII byte,
 *                     host or path too long for struct us_url.
 * An empty port ("host:") means 80 (RFC 3986 3.2.3). out is cleared first. */
int us_url_parse(const char *url, struct us_url *out);

/* ---- server ---------------------------------------------------------------------------------- */

enum us_http_srv_state {
    US_HTTP_SRV_READ,  /* collecting a request head */
    US_HTTP_SRV_SEND,  /* a response is being produced by us_http_srv_next_output */
    US_HTTP_SRV_CLOSED /* last response produced; the caller closes the connection */
};

/* One per connection; large (about 9 KiB), so allocate it with the connection. Fields are private
 * except state, status and requests, which may be read. */
struct us_http_server_conn {
    enum us_http_srv_state state;
    int status;          /* status code of the current or last response, 0 before any */
    uint64_t requests;   /* responses started on this connection */

    int root_fd;         /* O_DIRECTORY descriptor of the document root */
    int64_t date;        /* Unix seconds for the Date field; < 0: no Date field */
    bool close_after;    /* close once the current response is out */
    bool head_done;      /* request line seen (for 414 versus 431) */
    size_t head_len;
    char head[US_HTTP_REQ_HEAD_MAX];

    size_t out_len, out_off;
    char out[US_HTTP_OUT_HEAD_MAX];
    int body_fd;         /* file being sent, -1 if none */
    uint64_t body_left;  /* bytes of body_fd still to send */
};

/* Opens root_dir (which must be a directory) for the connection. Returns 0 or -errno; on error
 * conn is still safe to pass to us_http_srv_free. */
int us_http_srv_init(struct us_http_server_conn *conn, const char *root_dir);

/* Sets the time used for Date fields (RFC 9110 6.6.1) of later responses; < 0 turns Date off,
 * which is the default, as apps/ reads no clock. */
void us_http_srv_set_date(struct us_http_server_conn *conn, int64_t unix_seconds);

/* Feeds received bytes. Consumes bytes of at most one request head (RFC 9112 9.3.2: pipelined
 * requests are answered one at a time, in order); *consumed says how many. Returns:
 *   1             a request (or an unparseable one) is complete and a response is ready: drain
 *                 it with us_http_srv_next_output, then feed the unconsumed rest again;
 *   0             all of data was consumed and the request is still incomplete;
 *   -EBUSY        a response is still being produced; nothing consumed;
 *   -ESHUTDOWN    the connection is closing (us_http_srv_wants_close); nothing consumed.
 * Errors in the request produce a response (400, 405, 414, 431, 505, ...), not a return code.
 * Request bodies are not read: a request announcing one is answered, then the connection
 * closes. */
int us_http_srv_feed(struct us_http_server_conn *conn, const uint8_t *data, size_t len,
                     size_t *consumed);

/* Copies the next bytes of the response into buf (cap > 0; head first, then the file in read()
 * sized pieces). Returns the number of bytes, 0 when no response is pending. When the last byte has
 * been produced the connection is ready for the next request, or wants_close turns true. If the
 * file cannot be read to its announced length, the bytes so far are returned and the connection
 * is marked for closing (the peer sees a short body, RFC 9112 8). */
size_t us_http_srv_next_output(struct us_http_server_conn *conn, uint8_t *buf, size_t cap);

/* The request head did not complete in time: if the connection waits for one (state READ),
 * produces "408 Request Timeout" with Connection: close (RFC 9110 15.5.9) and returns true; the
 * connection closes after it. Whether anything of a head arrived is the caller's business (a
 * connection that sent nothing is closed without a response, as nginx does). */
bool us_http_srv_timeout(struct us_http_server_conn *conn);

/* Writes the whole "503 Service Unavailable" response, with Connection: close and Retry-After
 * (RFC 9110 15.6.4), that a connection over the server's limits gets instead of being served;
 * unix_seconds < 0: no Date field. Returns its length, 0 if cap is too small (256 is enough). */
size_t us_http_srv_busy(char *buf, size_t cap, int64_t unix_seconds);

/* True once the response that ends the connection has been fully produced (Connection: close,
 * HTTP/1.0 without keep-alive, a framing error, or a read error). */
bool us_http_srv_wants_close(const struct us_http_server_conn *conn);

/* Closes the root and any open file. Safe to call twice. */
void us_http_srv_free(struct us_http_server_conn *conn);

/* ---- client ---------------------------------------------------------------------------------- */

/* Writes "GET path HTTP/1.1" with Host (":port" when not 80), User-Agent: ustack, Accept: * / *
 * and Connection: close into buf, NUL-terminated. Returns the length without the NUL, -EINVAL
 * for a URL that could not have come from us_url_parse, or -ENOSPC. */
int us_http_build_get(char *buf, size_t cap, const struct us_url *u);

/* Response parser (RFC 9112 4-7). Public fields may be read; the rest is private. */
struct us_http_client_resp {
    int status;              /* final status code (1xx interim responses are skipped) */
    char reason[128];        /* reason phrase, truncated */
    int version_minor;       /* HTTP/1.x */
    int64_t content_length;  /* -1 unless framed by Content-Length */
    bool chunked;            /* Transfer-Encoding: chunked */
    bool close_delimited;    /* body ends when the connection closes */
    bool headers_done;
    bool done;               /* the whole response has been parsed */
    uint64_t body_bytes;     /* body bytes handed out so far */

    bool head_request;
    int err;                 /* sticky error */
    int phase;
    uint64_t left;           /* body or chunk bytes still to come */
    size_t trailer_bytes;
    size_t head_len;
    char head[US_HTTP_RESP_HEAD_MAX];
};

/* head_request: the request was HEAD, so the response has no body (RFC 9112 6.3). */
void us_http_cli_init(struct us_http_client_resp *resp, bool head_request);

/* Feeds received bytes. Sets *consumed (always <= len, and >= 1 when len > 0 and the response is
 * not done) and hands out at most one span of body bytes, pointing into data (*body, *body_len;
 * NULL and 0 if none). Chunked bodies come out decoded. Call again with the rest. Returns 0, or
 * a sticky error: -EMSGSIZE head over 16 KiB or chunk line/trailer too long; -EBADMSG malformed
 * status line, field, Content-Length or chunk; -EPROTO a version other than HTTP/1.x, 101, or
 * a transfer coding other than chunked. Once done, further bytes are not consumed. */
int us_http_cli_feed(struct us_http_client_resp *resp, const uint8_t *data, size_t len,
                     size_t *consumed, const uint8_t **body, size_t *body_len);

/* The connection was closed by the peer. Returns 0 if the response is complete (a
 * close-delimited body ends here and done turns true), -EPIPE if it was cut short (in the
 * head, before Content-Length bytes, or inside a chunked body), or the sticky error. */
int us_http_cli_eof(struct us_http_client_resp *resp);

#endif
