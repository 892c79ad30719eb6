/*
 * suggest.h — "did you mean" for every name a user can misspell: commands,
 * options, scenario names, knobs, metric names.  One edit distance and one
 * rule for how far a suggestion may be, so every message suggests the same
 * way.
 *
 * Use: lb_suggest_begin with the misspelt name, lb_suggest_try with every
 * valid name (from whatever table holds them), then lb_suggest_best.
 */
#ifndef LEAKBENCH_SUGGEST_H
#define LEAKBENCH_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance between a[0..la) and b[0..lb); SIZE_MAX when either
 * is longer than 63 characters. */
size_t lb_edit_distance(const char *a, size_t la, const char *b, size_t lb);

typedef struct lb_suggester {
    const char *name; /* what the user typed */
    size_t len;
    const char *best; /* the closest valid name so far, or NULL */
    size_t best_distance;
} lb_suggester;

/* Starts a search for names close to name[0..len). */
void lb_suggest_begin(lb_suggester *s, const char *name, size_t len);
/* Offers one valid name. */
void lb_suggest_try(lb_suggester *s, const char *candidate);
/* The closest name offered, if it is close enough to be what was meant:
 * at most 3 edits, and at most half the typed name's length ("rn" is
 * "run", but "x" is not "ls"); else NULL. */
const char *lb_suggest_best(const lb_suggester *s);

#endif
