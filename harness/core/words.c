/*
 * words.c — shell-like word splitting without expansion (words.h).
 *
 * How it works: one pass over the text with a small state (outside a
 * word, in a word, in single quotes, in double quotes); the current word
 * is built in a buffer as long as the text, so no word can overflow it.
 */
#include "words.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lb_split_words_free(char **words, int n)
{
    for (int i = 0; i < n; i++) free(words[i]);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

int lb_split_words(const char *text, char **words, int max, int *n, char *err, size_t errn)
{
    *n = 0;
    char *buf = malloc(strlen(text) + 1);
    if (!buf) {
        snprintf(err, errn, "out of memory");
        return -ENOMEM;
    }
    int rc = 0;
    size_t len = 0;
    bool in_word = false;
    const char *p = text;
    while (!rc) {
        char c = *p;
        if (!c || is_blank(c)) {
            if (in_word) {
                if (*n == max) {
                    snprintf(err, errn, "more than %d words", max);
                    rc = -EINVAL;
                    break;
                }
                buf[len] = 0;
                if (!(words[*n] = strdup(buf))) {
                    snprintf(err, errn, "out of memory");
                    rc = -ENOMEM;
                    break;
                }
                (*n)++;
                in_word = false;
                len = 0;
            }
            if (!c) break;
            p++;
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (!p[1]) {
                snprintf(err, errn, "character %zu: a backslash at the end (escapes nothing)",
                         (size_t)(p - text) + 1);
                rc = -EINVAL;
            } else if (p[1] == '\n') {
                p += 2; /* a line continuation */
            } else {
                buf[len++] = p[1];
                p += 2;
            }
        } else if (c == '\'' || c == '"') {
            const char *open = p++;
            while (*p && *p != c) {
                if (c == '"' && *p == '\\' && p[1] && strchr("\\\"$`\n", p[1])) {
                    if (p[1] != '\n') buf[len++] = p[1];
                    p += 2;
                } else {
                    buf[len++] = *p++;
                }
            }
            if (!*p) {
                snprintf(err, errn, "character %zu: the %s quote is never closed",
                         (size_t)(open - text) + 1, c == '"' ? "double" : "single");
                rc = -EINVAL;
            } else {
                p++;
            }
        } else {
            buf[len++] = *p++;
        }
    }
    free(buf);
    if (rc) {
        lb_split_words_free(words, *n);
        *n = 0;
    }
    return rc;
}

const char *lb_quote_word(const char *word, char *out, size_t n)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "-_./:=,+@%{}";
    if (*word && strspn(word, safe) == strlen(word)) {
        snprintf(out, n, "%s", word);
        return out;
    }
    if (n < 3) {
        if (n) out[0] = 0;
        return out;
    }
    size_t used = 0;
    out[used++] = '\'';
    for (const char *c = word; *c && used + 5 < n; c++) {
        if (*c == '\'') {
            memcpy(out + used, "'\\''", 4);
            used += 4;
        } else {
            out[used++] = *c;
        }
    }
    out[used++] = '\''; /* the loop left room for it and the NUL */
    out[used] = 0;
    return out;
}
