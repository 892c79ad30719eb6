/*
 * suggest.c — edit distance and the "did you mean" rule (see suggest.h).
 */
#include "suggest.h"

#include <stdint.h>
#include <string.h>

size_t lb_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    if (la > 63 || lb > 63) return SIZE_MAX;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

void lb_suggest_begin(lb_suggester *s, const char *name, size_t len)
{
    *s = (lb_suggester){.name = name, .len = len, .best = NULL, .best_distance = SIZE_MAX};
}

void lb_suggest_try(lb_suggester *s, const char *candidate)
{
    size_t d = lb_edit_distance(s->name, s->len, candidate, strlen(candidate));
    if (d < s->best_distance) {
        s->best_distance = d;
        s->best = candidate;
    }
}

const char *lb_suggest_best(const lb_suggester *s)
{
    if (!s->best || s->best_distance == 0) return NULL;
    if (s->best_distance > 3 || 2 * s->best_distance > s->len) return NULL;
    return s->best;
}
