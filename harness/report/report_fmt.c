/*
 * report_fmt.c — file-name slugs and the escapers that keep text from a
 * results file from turning into markup (gnuplot's quoting is gnuplot.c's).
 * (Numbers get their units in core/units.c, shared by every view.)
 *
 * Escaping rules, in one place:
 *  - Markdown: the characters that mean something inline (\ ` * _ [ ] | ~)
 *    are backslash-escaped, '<', '>' and '&' become HTML entities (code
 *    hosts pass some HTML through), a leading # + - = or "12." that
 *    would start a block is escaped, and control characters (newlines
 *    included, which would end a table row) become spaces.
 *  - HTML: & < > " ' become entities; control characters become spaces.
 */
#include "report_internal.h"

#include <stdio.h>
#include <string.h>

void lb_slug(char *buf, size_t n, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 1 < n && o < 40; s++) {
        unsigned char c = (unsigned char)*s;
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
        buf[o++] = keep ? (char)c : '_';
    }
    if (o == 0 && n > 1) buf[o++] = '_';
    buf[o] = 0;
}

/* The length of S without a trailing incomplete UTF-8 sequence, which a
 * truncating snprintf into a fixed buffer can leave behind; escaped text
 * must stay valid UTF-8 (SVG and HTML reject anything else). */
static size_t utf8_complete_len(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t back = 1; back <= 4 && back <= n; back++) {
        unsigned char c = (unsigned char)s[n - back];
        if ((c & 0xC0) == 0x80) continue; /* continuation byte: keep looking */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? n - back : n;
    }
    return n;
}

void lb_escape_md(FILE *f, const char *s)
{
    /* At the start of a line these would make a heading, list, quote or
     * rule; "12." or "12)" would start an ordered list.  A leading ">"
     * is already harmless as &gt;. */
    if (s && *s && strchr("#+-=", *s)) {
        fputc('\\', f);
    } else if (s && *s >= '0' && *s <= '9') {
        const char *d = s;
        while (*d >= '0' && *d <= '9') d++;
        if ((*d == '.' || *d == ')') && (d[1] == ' ' || d[1] == '\t' || d[1] == 0)) {
            fwrite(s, 1, (size_t)(d - s), f);
            fputc('\\', f);
            s = d;
        }
    }
    for (const char *end = s ? s + utf8_complete_len(s) : s; s && s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            fputc(' ', f);
        } else if (c == '<') {
            fputs("&lt;", f);
        } else if (c == '>') {
            fputs("&gt;", f);
        } else if (c == '&') {
            fputs("&amp;", f);
        } else if (strchr("\\`*_[]|~", c)) {
            fputc('\\', f);
            fputc(c, f);
        } else {
            fputc(c, f);
        }
    }
}

void lb_escape_html(FILE *f, const char *s)
{
    for (const char *end = s ? s + utf8_complete_len(s) : s; s && s < end; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
        }
    }
}
