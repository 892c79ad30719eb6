/*
 * color.c — terminal colour (color.h): the auto rule and ANSI SGR
 * sequences, one per tone.  Only the eight basic colours are used, so any
 * terminal and any theme shows them.
 */
#include "color.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lb_color_mode_parse(const char *text, lb_color_mode *out)
{
    static const char *const names[] = {"auto", "always", "never"};
    for (int i = 0; i < 3; i++)
        if (text && !strcmp(text, names[i])) {
            *out = (lb_color_mode)i;
            return 0;
        }
    return -EINVAL;
}

bool lb_color_decide(lb_color_mode mode, const char *no_color, const char *term, bool tty)
{
    if (mode != LB_COLOR_AUTO) return mode == LB_COLOR_ALWAYS;
    if (no_color && *no_color) return false;
    if (term && !strcmp(term, "dumb")) return false;
    return tty;
}

bool lb_color_enabled(lb_color_mode mode, int fd)
{
    return lb_color_decide(mode, getenv("NO_COLOR"), getenv("TERM"), isatty(fd) == 1);
}

static const char *const sgr[LB_TONE_COUNT] = {
    [LB_TONE_PASS] = "\033[32m",     [LB_TONE_FAIL] = "\033[1;31m",
    [LB_TONE_IMPROVED] = "\033[32m", [LB_TONE_REGRESSED] = "\033[1;31m",
    [LB_TONE_UNSURE] = "\033[33m",   [LB_TONE_LEAKY] = "\033[31m",
    [LB_TONE_GRACEFUL] = "\033[34m", [LB_TONE_DIM] = "\033[2m",
};

const char *lb_color_start(bool on, lb_tone tone)
{
    return on && tone >= 0 && tone < LB_TONE_COUNT ? sgr[tone] : "";
}

const char *lb_color_end(bool on)
{
    return on ? "\033[0m" : "";
}

char *lb_color_paint(char *buf, size_t n, bool on, lb_tone tone, const char *text)
{
    const char *start = lb_color_start(on, tone);
    snprintf(buf, n, "%s%s%s", start, text, *start ? lb_color_end(on) : "");
    return buf;
}

/* Letters, digits and '_' make up a word ("leaky_worker" is not "leaky"). */
static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

lb_tone lb_color_variant_named(const char *text)
{
    static const char *const words[2] = {"leaky", "graceful"};
    const char *first = NULL;
    lb_tone tone = LB_TONE_COUNT;
    for (int i = 0; i < 2; i++) {
        size_t len = strlen(words[i]);
        for (const char *p = text; p && (p = strstr(p, words[i])); p++)
            if ((p == text || !word_char(p[-1])) && !word_char(p[len])) {
                if (!first || p < first) {
                    first = p;
                    tone = lb_color_variant_tone(words[i]);
                }
                break;
            }
    }
    return tone;
}

lb_tone lb_color_variant_tone(const char *variant)
{
    if (variant && !strcmp(variant, "leaky")) return LB_TONE_LEAKY;
    if (variant && !strcmp(variant, "graceful")) return LB_TONE_GRACEFUL;
    return LB_TONE_COUNT;
}
