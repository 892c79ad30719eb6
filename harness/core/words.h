/*
 * words.h — a command line split into words the way a POSIX shell splits
 * one, without any expansion: for `leakbench run --leaky-cmd CMD`.
 *
 * Blanks (space, tab, newline) separate words; 'single quotes' keep
 * everything up to the next single quote; "double quotes" keep everything
 * but a backslash before one of \ " $ ` or a newline (which it escapes);
 * outside quotes a backslash escapes the next character (and a backslash
 * before a newline joins the lines).  Nothing is expanded: $VAR, ~, *,
 * ; | & and the like are ordinary characters.
 */
#ifndef LEAKBENCH_WORDS_H
#define LEAKBENCH_WORDS_H

#include <stddef.h>

/*
 * Splits text into at most max words (each malloc'd, into words; their
 * number into *n).  0, or -EINVAL (an unterminated quote, a trailing
 * backslash, more than max words) or -ENOMEM, with a message in err; on
 * an error nothing is left allocated.
 */
int lb_split_words(const char *text, char **words, int max, int *n, char *err, size_t errn);
void lb_split_words_free(char **words, int n);

/* word quoted so that lb_split_words reads it back as one word: as is
 * when it has only safe characters (letters, digits, and -_./:=,+@%{}),
 * else in single quotes (a quote inside as '\'').  Into out (n bytes,
 * truncated); returns out. */
const char *lb_quote_word(const char *word, char *out, size_t n);

#endif
