/*
 * gnuplot.h — the one way leakbench talks to gnuplot: text quoted for a
 * script, a staging directory the charts are drawn in, and one launcher.
 * Used by the report's charts (plot.c) and history's trend chart
 * (ci/history.c), which share the templates in plots/ and their style
 * (plots/style.gp).
 *
 * Quoting.  gnuplot 5.4's scanner ends a single-quoted string at the
 * first quote that is not preceded by another character and followed by
 * a second quote, so '' works inside a word ('it''s') but not at the
 * start of a string or twice in a row ('''a', 'it''''s' are syntax
 * errors).  A string is therefore written as a string *expression*:
 * runs of ordinary characters in single quotes, runs of quotes as a
 * double-quoted string holding only single quotes, joined with `.`:
 *   it''s  ->  'it' . "''" . 's'       it's  ->  'it' . "''"[1:1] . 's'
 * The double-quoted run always holds an even number of quotes (cut to
 * length when the run is odd): gnuplot's @macro expander, which runs on
 * the whole line first, toggles "inside quotes" on every single quote,
 * double-quoted or not, and an odd count would let it expand an @name in
 * the text that follows.  Inside single quotes gnuplot substitutes
 * nothing (no backquote command, no @macro, no backslash escape); a
 * double-quoted string of quotes holds nothing to substitute either.  Control characters (a newline
 * would end the command and start another) become spaces and bytes that are not valid UTF-8 become
 * '?', so the text is one line of valid UTF-8.  The result is an expression: use it where gnuplot
 * takes one, e.g. the right-hand side of an assignment (lb_gnuplot_set_string), and refer to the
 * variable in commands and templates.
 *
 * Launching.  gnuplot is started with fork + execvp, never a shell, as
 * `gnuplot -d SCRIPT` (no init files) in the staging directory, stdin and
 * stdout on /dev/null, stderr captured (its last lines become the error
 * message), under a wall-clock limit (killed when it runs past it) and an
 * address-space limit (setrlimit RLIMIT_AS), so a huge or hostile input
 * cannot run away with the machine.
 *
 * Staging.  Every file of a chart set is written into a fresh directory
 * NAME.tmp.XXXXXX beside the destination; gnuplot draws there; then only
 * the files asked for are renamed into the destination — images only
 * when they are complete (a non-empty regular file; a PNG ending with its
 * IEND chunk, an SVG with </svg>), so a failed, empty or cut-short
 * rendering (gnuplot exits 0 on a full disk) never replaces a good
 * chart.  The staging directory is always removed.
 */
#ifndef LEAKBENCH_GNUPLOT_H
#define LEAKBENCH_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---------------------------------------------------------- quoting -- */

/* Writes S (NULL as "") as a gnuplot string expression (see above). */
void lb_gnuplot_quote(FILE *f, const char *s);
/* Writes the line `NAME = <S quoted>`.  NAME must be a gnuplot identifier. */
void lb_gnuplot_set_string(FILE *f, const char *name, const char *s);
/* Writes the line `NAME = V` (NaN when V is not finite). */
void lb_gnuplot_set_number(FILE *f, const char *name, double v);

/* ---------------------------------------------------------- staging -- */

typedef struct lb_gnuplot_stage {
    char dir[4096]; /* the staging directory */
    char **files;   /* names relative to dir: written, or expected from gnuplot */
    size_t n, cap;
} lb_gnuplot_stage;

/* Creates PARENT/PREFIX.tmp.XXXXXX.  0 or -errno. */
int lb_gnuplot_stage_open(lb_gnuplot_stage *s, const char *parent, const char *prefix);
/* Creates the subdirectory REL of the staging directory. */
int lb_gnuplot_stage_mkdir(lb_gnuplot_stage *s, const char *rel);
/* Writes LEN bytes as REL and records it. */
int lb_gnuplot_stage_write(lb_gnuplot_stage *s, const char *rel, const char *data, size_t len);
/* Closes the memory stream F (opened on *buf, *len), writes its contents
 * as REL and frees *buf.  -ENOMEM if the stream failed. */
int lb_gnuplot_stage_stream(lb_gnuplot_stage *s, const char *rel, char **buf, size_t *len, FILE *f);
/* Records REL as a file gnuplot is expected to write (an image). */
int lb_gnuplot_stage_expect(lb_gnuplot_stage *s, const char *rel);

/* Finds the directory holding the chart templates (plots/NAME.gp, with
 * the shared style.gp): $LEAKBENCH_PLOTS_DIR, else plots/ beside or above
 * the executable or ../share/leakbench/plots from it (make install), else
 * ./plots.  Returns 0 or -ENOENT. */
int lb_gnuplot_templates_dir(char *buf, size_t n);
/* Copies the N templates NAMES from the directory FROM into the staging
 * directory as plots/NAME, where scripts `load` them.  0 or -errno. */
int lb_gnuplot_stage_templates(lb_gnuplot_stage *s, const char *from, const char *const *names,
                               size_t n);

/* What lb_gnuplot_stage_finish moves into place. */
typedef enum lb_gnuplot_keep {
    LB_GNUPLOT_KEEP_NOTHING, /* remove everything (an error before drawing) */
    LB_GNUPLOT_KEEP_INPUTS,  /* the written files only (drawing skipped or failed) */
    LB_GNUPLOT_KEEP_ALL,     /* the written files and every non-empty image */
} lb_gnuplot_keep;

/* Moves the files KEEP selects into DEST (creating DEST and the
 * subdirectories of their names), then removes the staging directory and
 * everything left in it.  Expected images that are missing or incomplete
 * are not moved (*moved_images counts those that were; may be NULL).
 * 0 or the first -errno. */
int lb_gnuplot_stage_finish(lb_gnuplot_stage *s, const char *dest, lb_gnuplot_keep keep,
                            int *moved_images);

/* -------------------------------------------------------- launching -- */

#define LB_GNUPLOT_TIMEOUT_S      120  /* default wall-clock limit */
#define LB_GNUPLOT_MAX_MEMORY_MIB 2048 /* address-space limit of the gnuplot process */

/* Searches PATH the way execvp does; true if an executable NAME exists. */
bool lb_on_path(const char *name);

/* Runs `gnuplot -d SCRIPT` in DIR (see above); TIMEOUT_S <= 0 means
 * LB_GNUPLOT_TIMEOUT_S.  Returns 0 when gnuplot exited 0; -ENOENT when
 * it is not installed; -ETIMEDOUT when it ran past the limit and was
 * killed; -ECHILD when it failed (exit status or signal); another -errno
 * when it could not be started.  On failure msg holds a one-paragraph
 * reason ending with the last lines gnuplot wrote to stderr. */
int lb_gnuplot_run(const char *dir, const char *script, int timeout_s, char *msg, size_t msglen);

#endif
