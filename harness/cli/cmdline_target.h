/*
 * cmdline_target.h — `leakbench run --leaky-cmd CMD --graceful-cmd CMD
 * ...`: a target scenario built from options instead of a spec file.
 *
 * The options become the same scenario spec a file would give (name
 * "cmdline"), loaded and validated by the spec loader, so a run from the
 * command line and one from a file are the same run.  Each CMD is split
 * into words like a shell does (core/words.h), without any expansion.
 */
#ifndef LEAKBENCH_CMDLINE_TARGET_H
#define LEAKBENCH_CMDLINE_TARGET_H

#include "core/spec.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct lb_cmdline_target {
    const char *leaky_cmd, *graceful_cmd; /* NULL: not given */
    const char *probe;                    /* --probe KIND, NULL: none */
    const char *ready;                    /* --ready PATH|tcp, NULL: tcp */
    const char *path;                     /* --path TEMPLATE, NULL: the default request */
    double timeout_ms, settle_ms;         /* --timeout, --settle; < 0: not given */
} lb_cmdline_target;

#define LB_CMDLINE_TARGET_NONE ((lb_cmdline_target){NULL, NULL, NULL, NULL, NULL, -1, -1})

/* True when any of the options above was given. */
bool lb_cmdline_target_given(const lb_cmdline_target *c);

/* Builds and loads the scenario into out.  With aa ("leaky" or
 * "graceful": `run --aa`, one program as both sides) only that variant's
 * command is needed; the other side, when given, is replaced by it
 * later (spec_aa.h).  0, or -EINVAL with the message (naming the option)
 * in err. */
int lb_cmdline_target_load(const lb_cmdline_target *c, const char *aa, lb_spec *out, char *err,
                           size_t n);

#endif
