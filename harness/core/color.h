/*
 * color.h — whether and how leakbench colours what it prints in a
 * terminal: pass/fail, improved/regressed, and the two twins in the
 * charts' colours (leaky red, graceful blue).
 *
 * `--color auto|always|never` picks the mode.  auto colours a stream only
 * when it is a terminal, TERM is not "dumb" and NO_COLOR is unset or empty
 * (https://no-color.org); always and never are what they say, so an
 * explicit --color always wins over NO_COLOR.  Colour is a decision per
 * stream (stdout may be a pipe while stderr is the terminal), made once
 * and handed to the printing code as a bool: nothing here is global.
 *
 * Colour only ever wraps text: with colour off every function writes the
 * text unchanged, so plain output is byte-for-byte what it was.
 */
#ifndef LEAKBENCH_COLOR_H
#define LEAKBENCH_COLOR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum lb_color_mode { LB_COLOR_AUTO, LB_COLOR_ALWAYS, LB_COLOR_NEVER } lb_color_mode;

/* "auto", "always" or "never": 0, or -EINVAL for anything else. */
int lb_color_mode_parse(const char *text, lb_color_mode *out);

/* The rule above, from its inputs: no_color and term are the values of
 * NO_COLOR and TERM (NULL when unset), tty whether the stream is a
 * terminal. */
bool lb_color_decide(lb_color_mode mode, const char *no_color, const char *term, bool tty);
/* The rule for file descriptor fd, with this process's environment. */
bool lb_color_enabled(lb_color_mode mode, int fd);

typedef enum lb_tone {
    LB_TONE_PASS,      /* a threshold that held */
    LB_TONE_FAIL,      /* a threshold that failed */
    LB_TONE_IMPROVED,  /* compare: better than the base */
    LB_TONE_REGRESSED, /* compare: worse than the base */
    LB_TONE_UNSURE,    /* compare: inconclusive */
    LB_TONE_LEAKY,     /* the leaky twin (red in the charts) */
    LB_TONE_GRACEFUL,  /* the graceful twin (blue in the charts) */
    LB_TONE_DIM,       /* secondary text: unchanged rows, hints */
    LB_TONE_COUNT
} lb_tone;

/* The escape sequence that starts tone, and the one that ends any; ""
 * when on is false. */
const char *lb_color_start(bool on, lb_tone tone);
const char *lb_color_end(bool on);
/* text wrapped in tone when on, else text as it is; into buf (size n,
 * always terminated).  Returns buf. */
char *lb_color_paint(char *buf, size_t n, bool on, lb_tone tone, const char *text);
/* The tone of a variant's name ("leaky" or "graceful"); LB_TONE_COUNT
 * for anything else. */
lb_tone lb_color_variant_tone(const char *variant);
/* The tone of the first variant text names as a whole word ("Before fix
 * (leaky)", "graceful rep 0"); LB_TONE_COUNT when it names none. */
lb_tone lb_color_variant_named(const char *text);

#endif
