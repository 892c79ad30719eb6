/*
 * cmdline_target.c — the options of `run --leaky-cmd ...` as a scenario
 * spec (cmdline_target.h).
 *
 * How it works: each command, with --probe and --ready, becomes a target
 * variant (lb_target_variant_from_cmdline, so its errors name the option);
 * the variants, written back as JSON (lb_target_variant_json), and the
 * load options make the scenario object, which goes through the spec
 * loader like a file's.  --rate and --duration are the run's usual
 * overrides, applied afterwards; here they are only required.
 */
#include "cmdline_target.h"

#include "core/target_spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lb_cmdline_target_given(const lb_cmdline_target *c)
{
    return c->leaky_cmd || c->graceful_cmd || c->probe || c->ready || c->path ||
           c->timeout_ms >= 0 || c->settle_ms >= 0;
}

static int variant(const char *option, const char *cmd, const lb_cmdline_target *c,
                   lb_target_variant_spec *v, char *err, size_t n)
{
    if (!cmd) {
        snprintf(err, n,
                 "%s is missing (a target pair needs --leaky-cmd and --graceful-cmd, or one of "
                 "them with --aa for an A/A run)",
                 option);
        return -EINVAL;
    }
    return lb_target_variant_from_cmdline(option, cmd, c->probe, c->ready, v, err, n);
}

/* The loader's message with the JSON path of a field the options wrote
 * replaced by the option. */
static void name_the_option(const char *msg, char *err, size_t n)
{
    static const struct {
        const char *path, *option;
    } fields[] = {{"the command line: $.request.path: ", "--path: "},
                  {"the command line: $.timeout_ms: ", "--timeout: "},
                  {"the command line: $.settle_ms: ", "--settle: "}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        size_t len = strlen(fields[i].path);
        if (!strncmp(msg, fields[i].path, len)) {
            snprintf(err, n, "%s%s", fields[i].option, msg + len);
            return;
        }
    }
    snprintf(err, n, "%s", msg);
}

int lb_cmdline_target_load(const lb_cmdline_target *c, const char *aa, lb_spec *out, char *err,
                           size_t n)
{
    static lb_target_variant_spec leaky, graceful; /* 10 KiB each: not on the stack */
    /* An A/A run needs one command: the side it names, on both sides. */
    const char *leaky_cmd = c->leaky_cmd, *graceful_cmd = c->graceful_cmd;
    if (aa && !strcmp(aa, "leaky") && !graceful_cmd) graceful_cmd = leaky_cmd;
    if (aa && !strcmp(aa, "graceful") && !leaky_cmd) leaky_cmd = graceful_cmd;
    int rc;
    if ((rc = variant("--leaky-cmd", leaky_cmd, c, &leaky, err, n)) ||
        (rc = variant("--graceful-cmd", graceful_cmd, c, &graceful, err, n)))
        return rc;
    json_t *o =
        json_pack("{s:s, s:{s:o, s:o}}", "name", "cmdline", "target", "leaky",
                  lb_target_variant_json(&leaky), "graceful", lb_target_variant_json(&graceful));
    if (!o) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    if (c->path) json_object_set_new(o, "request", json_pack("{s:s}", "path", c->path));
    if (c->timeout_ms >= 0) json_object_set_new(o, "timeout_ms", json_real(c->timeout_ms));
    if (c->settle_ms >= 0) json_object_set_new(o, "settle_ms", json_real(c->settle_ms));
    char *text = json_dumps(o, 0);
    json_decref(o);
    if (!text) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    lb_spec_error e;
    rc = lb_spec_load_string("the command line", text, out, &e);
    free(text);
    if (rc) name_the_option(e.text, err, n);
    return rc;
}
