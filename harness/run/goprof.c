/*
 * goprof.c — the two text formats of Go's goroutine profile, parsed.
 *
 * How it works: one pass over the lines.  The first line decides the
 * format: "goroutine profile: total N" is debug=1, "goroutine N [...]:"
 * is debug=2.
 *
 * debug=1: each record is "COUNT @ PC PC ...", an optional "# labels:"
 * line, then "#\tPC\tFUNC+OFF\tFILE:LINE" frames, ended by a blank line.
 * debug=2: each record is "goroutine ID [STATE, N minutes, ...]:", then
 * pairs of lines "FUNC(ARGS)" / "\tFILE:LINE +OFF", optionally
 * "...additional frames elided...", optionally "created by FUNC[ in
 * goroutine N]" / "\tFILE:LINE +OFF", ended by a blank line.  A record
 * whose stack is unavailable ("goroutine running on other thread") has no
 * frames.
 *
 * Frames are normalised so both formats print one frame the same way:
 * FUNC loses its "+0x.." offset (debug=1) or its argument list (debug=2;
 * the last balanced "(...)", since receiver types carry parentheses too).
 * Frames of the runtime package itself and compiler wrappers are dropped
 * (the formats elide them differently; neither is a user's code).
 * A record's frames are hashed (FNV-1a over func, file, line) into its
 * key, and debug=2 records are merged into the stack with the same key
 * and state.  Lookup of an existing stack is a linear scan over the
 * stacks seen so far, which stay few (a leak is many goroutines on one
 * stack); LB_GO_MAX_STACKS bounds it.
 */
#include "goprof.h"

#include "core/hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- lines -- */

typedef struct reader {
    const char *p, *end;
    int lineno;
    const char *line; /* current line, not NUL-terminated */
    size_t len;
} reader;

static bool next_line(reader *r)
{
    if (r->p >= r->end) return false;
    r->line = r->p;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    r->len = (size_t)((nl ? nl : r->end) - r->p);
    if (r->len && r->line[r->len - 1] == '\r') r->len--;
    r->p = nl ? nl + 1 : r->end;
    r->lineno++;
    return true;
}

static bool starts(const reader *r, const char *prefix)
{
    size_t n = strlen(prefix);
    return r->len >= n && memcmp(r->line, prefix, n) == 0;
}

static int bad(const reader *r, const char *at, char *err, size_t errn, const char *what)
{
    int col = at && r->line && at >= r->line ? (int)(at - r->line) + 1 : 1;
    char shown[48];
    size_t n = r->len < sizeof shown - 1 ? r->len : sizeof shown - 1;
    memcpy(shown, r->line ? r->line : "", r->line ? n : 0);
    shown[r->line ? n : 0] = 0;
    for (char *c = shown; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) *c = '?';
    snprintf(err, errn, "line %d:%d: %s (the line reads \"%s%s\")", r->lineno, col, what, shown,
             r->len > n ? "..." : "");
    return -EBADMSG;
}

/* Parses a decimal integer at s (len n); the first byte after it in *end. */
static bool parse_int(const char *s, size_t n, int64_t *v, const char **end)
{
    size_t i = 0;
    int64_t x = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (x > (INT64_MAX - 9) / 10) return false;
        x = x * 10 + (s[i] - '0');
        i++;
    }
    if (i == 0) return false;
    *v = x;
    *end = s + i;
    return true;
}

static void copy_span(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap) n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

/* "FILE:LINE" at s (n bytes, ending at the first blank or the end). */
static bool parse_file_line(const char *s, size_t n, lb_go_frame *f)
{
    size_t stop = 0;
    while (stop < n && s[stop] != ' ' && s[stop] != '\t') stop++;
    const char *colon = NULL;
    for (size_t i = stop; i > 0; i--)
        if (s[i - 1] == ':') {
            colon = s + i - 1;
            break;
        }
    if (!colon || colon == s) return false;
    int64_t line;
    const char *after;
    if (!parse_int(colon + 1, (size_t)(s + stop - colon - 1), &line, &after) || after != s + stop ||
        line > 1 << 30)
        return false;
    copy_span(f->file, sizeof f->file, s, (size_t)(colon - s));
    f->line = (int)line;
    return true;
}

/* --------------------------------------------------------- profiles -- */

static uint64_t hash_frame(uint64_t h, const lb_go_frame *f)
{
    h = lb_fnv1a64(h, f->func, strlen(f->func) + 1);
    h = lb_fnv1a64(h, f->file, strlen(f->file) + 1);
    return lb_fnv1a64(h, &f->line, sizeof f->line);
}

uint64_t lb_go_frame_hash(const lb_go_frame *f)
{
    return hash_frame(LB_FNV1A64_BASIS, f);
}

/* A record being read: its frames (the kept ones) and running hash. */
typedef struct record {
    lb_go_stack s;
    uint64_t h;
} record;

static void record_start(record *rec)
{
    memset(&rec->s, 0, sizeof rec->s);
    rec->h = LB_FNV1A64_BASIS;
}

/* The two formats elide the runtime's own frames differently (debug=1
 * only leading ones, debug=2 all but exported ones), and wrappers: both
 * are dropped here so the same goroutines give the same frames. */
static void record_frame(record *rec, const lb_go_frame *f)
{
    if (strncmp(f->func, "runtime.", 8) == 0 || strcmp(f->file, "<autogenerated>") == 0) return;
    rec->h = hash_frame(rec->h, f);
    if (rec->s.n_frames < LB_GO_MAX_FRAMES) rec->s.frames[rec->s.n_frames++] = *f;
    rec->s.depth++;
}

const lb_go_stack *lb_go_profile_find(const lb_go_profile *p, uint64_t key, const char *state)
{
    for (int i = 0; i < p->n_stacks; i++)
        if (p->stacks[i].key == key && (!state || strcmp(p->stacks[i].state, state) == 0))
            return &p->stacks[i];
    return NULL;
}

static int add_wait(lb_go_stack *s, int64_t minutes)
{
    if (s->n_waits == s->cap_waits) {
        size_t cap = s->cap_waits ? s->cap_waits * 2 : 8;
        int64_t *w = realloc(s->wait_minutes, cap * sizeof *w);
        if (!w) return -ENOMEM;
        s->wait_minutes = w;
        s->cap_waits = cap;
    }
    s->wait_minutes[s->n_waits++] = minutes;
    return 0;
}

/* Adds a finished record to p: merged into its stack, or a new stack. */
static int record_end(lb_go_profile *p, record *rec, int64_t count, int64_t id, int64_t minutes,
                      int *cap)
{
    rec->s.key = rec->h;
    lb_go_stack *s = (lb_go_stack *)lb_go_profile_find(p, rec->s.key, rec->s.state);
    if (!s) {
        if (p->n_stacks == LB_GO_MAX_STACKS) {
            p->other += count;
            return 0;
        }
        if (p->n_stacks == *cap) {
            int ncap = *cap ? *cap * 2 : 16;
            lb_go_stack *ns = realloc(p->stacks, (size_t)ncap * sizeof *ns);
            if (!ns) return -ENOMEM;
            p->stacks = ns;
            *cap = ncap;
        }
        s = &p->stacks[p->n_stacks++];
        *s = rec->s;
        s->count = 0;
        s->example_id = id;
    }
    s->count += count;
    if (p->debug == 2) return add_wait(s, minutes);
    return 0;
}

/* ----------------------------------------------------------- debug=1 -- */

/* "#\tPC\tFUNC+OFF\tFILE:LINE" */
static bool parse_frame1(const reader *r, lb_go_frame *f)
{
    const char *s = r->line, *end = r->line + r->len;
    if (r->len < 2 || s[0] != '#' || s[1] != '\t') return false;
    const char *pc = s + 2, *tab = memchr(pc, '\t', (size_t)(end - pc));
    if (!tab) return false;
    const char *fn = tab + 1, *tab2 = memchr(fn, '\t', (size_t)(end - fn));
    if (!tab2) return false;
    const char *plus = tab2;
    while (plus > fn && *plus != '+') plus--;
    if (plus == fn) plus = tab2;
    copy_span(f->func, sizeof f->func, fn, (size_t)(plus - fn));
    const char *file = tab2;
    while (file < end && *file == '\t') file++;
    return f->func[0] && parse_file_line(file, (size_t)(end - file), f);
}

static int parse_debug1(reader *r, lb_go_profile *p, char *err, size_t errn)
{
    int cap = 0;
    int64_t total, sum = 0;
    const char *after;
    const char *head = "goroutine profile: total ";
    if (!parse_int(r->line + strlen(head), r->len - strlen(head), &total, &after) ||
        after != r->line + r->len)
        return bad(r, r->line + strlen(head), err, errn, "expected the goroutine total");
    p->total = total;
    while (next_line(r)) {
        if (r->len == 0) continue;
        int64_t count;
        if (!parse_int(r->line, r->len, &count, &after) || r->line + r->len - after < 2 ||
            memcmp(after, " @", 2) != 0)
            return bad(r, after, err, errn, "expected a record: \"COUNT @ PC ...\"");
        record rec;
        record_start(&rec);
        while (next_line(r) && r->len > 0) {
            if (starts(r, "# labels:")) continue;
            lb_go_frame f;
            if (!parse_frame1(r, &f))
                return bad(r, r->line, err, errn,
                           "expected a frame: \"#\\tPC\\tFUNC+OFFSET\\tFILE:LINE\"");
            record_frame(&rec, &f);
        }
        int rc = record_end(p, &rec, count, -1, -1, &cap);
        if (rc < 0) return rc;
        sum += count;
    }
    if (sum != total) {
        snprintf(err, errn,
                 "line %d: the records count %lld goroutines but the header says total %lld "
                 "(truncated?)",
                 r->lineno, (long long)sum, (long long)total);
        return -EBADMSG;
    }
    return 0;
}

/* ----------------------------------------------------------- debug=2 -- */

/* "goroutine ID [STATE, N minutes, locked to thread]:" */
static int parse_header2(reader *r, record *rec, int64_t *id, int64_t *minutes, char *err,
                         size_t errn)
{
    const char *s = r->line + strlen("goroutine "), *end = r->line + r->len, *after;
    if (!parse_int(s, (size_t)(end - s), id, &after) || end - after < 4 || after[0] != ' ' ||
        after[1] != '[')
        return bad(r, s, err, errn, "expected \"goroutine ID [STATE]:\"");
    const char *st = after + 2, *close = NULL;
    for (const char *c = end - 1; c >= st; c--)
        if (*c == ']') {
            close = c;
            break;
        }
    if (!close || close + 2 != end || close[1] != ':')
        return bad(r, st, err, errn, "expected \"[STATE]:\" to end the line");
    *minutes = -1;
    const char *item = st;
    for (int i = 0; item < close; i++) {
        const char *comma = memchr(item, ',', (size_t)(close - item));
        const char *stop = comma ? comma : close;
        if (i == 0) {
            copy_span(rec->s.state, sizeof rec->s.state, item, (size_t)(stop - item));
        } else {
            int64_t m;
            if (parse_int(item, (size_t)(stop - item), &m, &after) && (size_t)(stop - after) >= 7 &&
                memcmp(after, " minute", 7) == 0)
                *minutes = m;
        }
        item = comma ? comma + 2 : close;
    }
    if (!rec->s.state[0]) return bad(r, st, err, errn, "empty goroutine state");
    return 0;
}

/* "FUNC(ARGS)": the function, without its last balanced "(...)". */
static bool parse_func2(const char *s, size_t n, lb_go_frame *f)
{
    size_t stop = n;
    if (n && s[n - 1] == ')') {
        int depth = 0;
        for (size_t i = n; i > 0; i--) {
            if (s[i - 1] == ')') depth++;
            if (s[i - 1] == '(' && --depth == 0) {
                stop = i - 1;
                break;
            }
        }
    }
    copy_span(f->func, sizeof f->func, s, stop);
    return f->func[0] != 0;
}

static int parse_location2(reader *r, lb_go_frame *f, char *err, size_t errn)
{
    if (!next_line(r) || r->len < 2 || r->line[0] != '\t' ||
        !parse_file_line(r->line + 1, r->len - 1, f))
        return bad(r, r->line, err, errn, "expected a frame's location: \"\\tFILE:LINE +OFFSET\"");
    return 0;
}

static int parse_debug2(reader *r, lb_go_profile *p, char *err, size_t errn)
{
    int cap = 0, rc;
    for (;;) {
        if (!starts(r, "goroutine "))
            return bad(r, r->line, err, errn, "expected \"goroutine ID [STATE]:\"");
        record rec;
        record_start(&rec);
        int64_t id = 0, minutes = -1;
        if ((rc = parse_header2(r, &rec, &id, &minutes, err, errn)) < 0) return rc;
        bool more;
        while ((more = next_line(r)) && r->len > 0) {
            lb_go_frame f;
            memset(&f, 0, sizeof f);
            if (starts(r, "...additional frames elided...")) continue;
            if (r->line[0] == '\t') continue; /* "goroutine running on other thread; ..." */
            if (starts(r, "created by ")) {
                const char *fn = r->line + strlen("created by ");
                const char *in = strstr(fn, " in goroutine ");
                size_t fl = (size_t)(r->line + r->len - fn);
                if (in && in < r->line + r->len) fl = (size_t)(in - fn);
                copy_span(rec.s.creator.func, sizeof rec.s.creator.func, fn, fl);
                if ((rc = parse_location2(r, &rec.s.creator, err, errn)) < 0) return rc;
                rec.s.has_creator = true;
                continue;
            }
            if (!parse_func2(r->line, r->len, &f))
                return bad(r, r->line, err, errn, "expected a frame: \"FUNC(ARGS)\"");
            if ((rc = parse_location2(r, &f, err, errn)) < 0) return rc;
            record_frame(&rec, &f);
        }
        if ((rc = record_end(p, &rec, 1, id, minutes, &cap)) < 0) return rc;
        p->total++;
        while (more && r->len == 0) more = next_line(r);
        if (!more) return 0;
    }
}

int lb_go_profile_parse(const char *text, size_t n, lb_go_profile *out, char *err, size_t errn)
{
    memset(out, 0, sizeof *out);
    reader r = {text, text + n, 0, NULL, 0};
    if (!next_line(&r)) {
        snprintf(err, errn, "line 1:1: empty goroutine profile");
        return -EBADMSG;
    }
    if (starts(&r, "goroutine profile: total ")) {
        out->debug = 1;
        return parse_debug1(&r, out, err, errn);
    }
    if (starts(&r, "goroutine ")) {
        out->debug = 2;
        return parse_debug2(&r, out, err, errn);
    }
    return bad(&r, r.line, err, errn,
               "not a Go goroutine profile: expected \"goroutine profile: total N\" (debug=1) or "
               "\"goroutine N [STATE]:\" (debug=2)");
}

void lb_go_profile_free(lb_go_profile *p)
{
    for (int i = 0; i < p->n_stacks; i++) free(p->stacks[i].wait_minutes);
    free(p->stacks);
    memset(p, 0, sizeof *p);
}
