/*
 * target_spec.h — the "target" object of a scenario file: a pair of the
 * user's own programs (the build before the fix and the build after it)
 * instead of a built-in scenario pair (README "External targets").
 *
 * A scenario with "target" names two variants, "leaky" and "graceful",
 * each a command (argv array, no shell), an optional working directory
 * and environment; the keys "port", "ready", "probe" and "shutdown" may
 * be given once for both (in "target") or per variant (inside "leaky" or
 * "graceful", overriding the common one).  Relative paths (command[0]
 * with a '/', cwd) are relative to the directory leakbench runs in, as a
 * command typed in that shell would be.
 *
 * Parsed by spec.c (lb_target_spec_parse) with the spec's own validator,
 * so every error names the file, the JSON path and the field.  A variant
 * is a plain struct with no pointers (its strings live in its own text
 * buffer, addressed by offsets): copying one variant onto the other (the
 * A/A mode) is an assignment.
 *
 * This header also owns the small vocabularies the run layer shares with
 * the spec: the probe kinds, the readiness checks and the port sentinels.
 */
#ifndef LEAKBENCH_TARGET_SPEC_H
#define LEAKBENCH_TARGET_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum lb_probe_kind {
    LB_PROBE_NONE = 0,
    LB_PROBE_GO_PPROF,
    LB_PROBE_PROMETHEUS,
    LB_PROBE_THREADS,
} lb_probe_kind;

const char *lb_probe_kind_name(lb_probe_kind k); /* "go_pprof", ... */
/* 0, or -EINVAL for a name that is none of the four. */
int lb_probe_kind_parse(const char *name, lb_probe_kind *out);

typedef enum lb_ready_kind { LB_READY_NONE = 0, LB_READY_HTTP, LB_READY_TCP } lb_ready_kind;

#define LB_TARGET_PORT_AUTO 0  /* pick a free loopback port */
#define LB_TARGET_PORT_NONE -1 /* no port: no $PORT, no {port} */

#define LB_TARGET_MAX_ARGS              64
#define LB_TARGET_MAX_ENV               64
#define LB_TARGET_TEXT_MAX              8192
#define LB_TARGET_MAX_LABELS            16
#define LB_TARGET_DEFAULT_READY_MS      10000
#define LB_TARGET_DEFAULT_PROBE_MS      100
#define LB_TARGET_DEFAULT_PROBE_TIMEOUT 1000
#define LB_TARGET_DEFAULT_GRACE_MS      2000

/* One program of the pair, every default filled in. */
typedef struct lb_target_variant_spec {
    int argc, n_env;
    uint16_t arg_at[LB_TARGET_MAX_ARGS]; /* offsets into text */
    uint16_t env_at[LB_TARGET_MAX_ENV];  /* offsets of "NAME=VALUE" into text */
    uint16_t text_used;
    char text[LB_TARGET_TEXT_MAX];
    char cwd[1024]; /* "" = leakbench's current directory */
    int port;       /* 1..65535, LB_TARGET_PORT_AUTO or LB_TARGET_PORT_NONE */
    lb_ready_kind ready;
    char ready_path[256]; /* LB_READY_HTTP */
    int ready_timeout_ms;
    lb_probe_kind probe;
    char probe_path[256];                    /* "" = the kind's default path */
    char probe_metric[128];                  /* prometheus */
    int n_labels;                            /* prometheus: label pairs the sample must carry */
    uint16_t label_at[LB_TARGET_MAX_LABELS]; /* offsets of "name\0value" into text */
    int probe_interval_ms, probe_timeout_ms;
    int shutdown_signal; /* SIGTERM, ... */
    int shutdown_grace_ms;
} lb_target_variant_spec;

typedef struct lb_target_spec {
    bool active; /* the scenario names a target pair */
    lb_target_variant_spec leaky, graceful;
} lb_target_spec;

/* The variant's argv and environment as NULL-terminated arrays pointing
 * into v (valid while v is). */
void lb_target_variant_argv(const lb_target_variant_spec *v,
                            const char *argv[LB_TARGET_MAX_ARGS + 1]);
void lb_target_variant_env(const lb_target_variant_spec *v, const char *env[LB_TARGET_MAX_ENV + 1]);

/* The probe's labels as promtext's selector ('k="v",...', values
 * escaped; "" for none) in out.  0, or -ENOSPC when n is too small. */
int lb_target_variant_labels(const lb_target_variant_spec *v, char *out, size_t n);

/* The shutdown signals a spec may name: 0 and the number, or -EINVAL. */
int lb_target_signal_parse(const char *name, int *sig);
const char *lb_target_signal_spec_name(int sig); /* "SIGTERM", ...; "?" for others */

/* The variant as written back (results.json's spec, `validate`): command,
 * cwd, env, port, ready, probe, shutdown.  New reference, NULL on no
 * memory. */
json_t *lb_target_variant_json(const lb_target_variant_spec *v);

/* Turns the JSON of a scenario spec as run (spec.c) into a target's: the
 * built-in pair's fields out, "name" and "target" (both variants whole)
 * in, so it loads back as the same spec. */
void lb_target_spec_as_run(json_t *spec, const char *name, const lb_target_spec *t);

/* The pair as `leakbench validate` shows it: each variant's argv (quoted
 * so it can be pasted back into --leaky-cmd), cwd, env, port, readiness,
 * probe and shutdown. */
void lb_target_spec_describe(FILE *out, const char *name, const lb_target_spec *t);

/* The longer of the two variants' readiness timeouts (0 when t is not
 * active): the derived wall guard makes room for it. */
int lb_target_ready_ms(const lb_target_spec *t);

/* Sets the defaults of a whole variant (no command yet). */
void lb_target_variant_defaults(lb_target_variant_spec *v);

/*
 * Builds a variant from a command line ("--leaky-cmd CMD"): CMD split by
 * lb_split_words, the probe kind (--probe; NULL: none), the readiness
 * (--ready: "tcp" or an HTTP path; NULL: tcp).  0, or -EINVAL with a
 * message in err that starts with the option at fault (cmd_option for the
 * command's own errors).
 */
int lb_target_variant_from_cmdline(const char *cmd_option, const char *cmd, const char *probe,
                                   const char *ready, lb_target_variant_spec *v, char *err,
                                   size_t n);

#endif
