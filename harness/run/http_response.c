/*
 * http_response.c — an HTTP/1.1 response parsed incrementally by llhttp.
 *
 * How it works: llhttp calls back for the status, the body (in pieces,
 * after de-chunking) and the end of the message.  on_message_complete
 * pauses the parser, so llhttp_execute returns HPE_PAUSED exactly where
 * the response ends and llhttp_get_error_pos says how many bytes it used;
 * anything after that belongs to whatever the server sent next.  The body
 * is appended to a buffer that doubles as needed, never past max_body.
 */
#include "http_response.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int on_status_complete(llhttp_t *p)
{
    lb_http_response *r = p->data;
    r->status = llhttp_get_status_code(p);
    return HPE_OK;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    lb_http_response *r = p->data;
    if (r->max_body == 0) return HPE_OK;
    if (n > r->max_body - r->body_len) {
        r->error = -E2BIG;
        return HPE_USER;
    }
    /* Grow to the next power of two that holds the body and its NUL. */
    size_t need = r->body_len + n + 1, cap = 256;
    while (cap < need) cap *= 2;
    char *b = realloc(r->body, cap);
    if (!b) {
        r->error = -ENOMEM;
        return HPE_USER;
    }
    memcpy(b + r->body_len, at, n);
    r->body = b;
    r->body_len += n;
    r->body[r->body_len] = 0;
    return HPE_OK;
}

static int on_message_complete(llhttp_t *p)
{
    lb_http_response *r = p->data;
    r->complete = true;
    r->status = llhttp_get_status_code(p);
    r->keep_alive = llhttp_should_keep_alive(p);
    return HPE_PAUSED;
}

void lb_http_response_init(lb_http_response *r, size_t max_body)
{
    memset(r, 0, sizeof *r);
    llhttp_settings_init(&r->settings);
    r->settings.on_status_complete = on_status_complete;
    r->settings.on_body = on_body;
    r->settings.on_message_complete = on_message_complete;
    llhttp_init(&r->parser, HTTP_RESPONSE, &r->settings);
    r->parser.data = r;
    r->max_body = max_body;
}

int lb_http_response_feed(lb_http_response *r, const char *data, size_t n, size_t *used)
{
    if (r->error) return r->error;
    if (r->complete) {
        if (used) *used = 0;
        return 1;
    }
    llhttp_errno_t e = llhttp_execute(&r->parser, data, n);
    if (e == HPE_PAUSED && r->complete) {
        if (used) *used = (size_t)(llhttp_get_error_pos(&r->parser) - data);
        return 1;
    }
    if (e == HPE_OK) return 0;
    if (!r->error) r->error = -EBADMSG; /* else on_body's -E2BIG or -ENOMEM */
    return r->error;
}

int lb_http_response_eof(lb_http_response *r)
{
    if (r->error) return r->error;
    if (r->complete) return 1;
    llhttp_errno_t e = llhttp_finish(&r->parser);
    if ((e == HPE_OK || e == HPE_PAUSED) && r->complete) return 1;
    r->error = -EBADMSG;
    return r->error;
}

const char *lb_http_response_reason(const lb_http_response *r)
{
    if (r->error != -EBADMSG) return "";
    const char *reason = llhttp_get_error_reason(&r->parser);
    if (reason) return reason;
    return r->complete ? "" : "the connection closed before the whole response";
}

void lb_http_response_free(lb_http_response *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
