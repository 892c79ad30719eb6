/*
 * target_spec_test.c — the "target" object of a scenario file
 * (target_spec.c through spec.c): every field with its default and its
 * override per variant, every bad value with its exact message (file,
 * JSON path, field), the fields of built-in pairs refused with a target,
 * the spec as run loading back to the same pair, a variant copied by
 * assignment (the A/A mode), and the command-line form.
 */
#include "spec.h"
#include "target_spec.h"
#include "test_util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* A valid target scenario with `extra` (a JSON fragment ending in a
 * comma, or "") added to its target object and `top` to the scenario. */
static char *spec_text(const char *extra, const char *top)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"name\": \"pair\", %s \"target\": {%s"
             "\"leaky\": {\"command\": [\"bin/server\", \"-mode\", \"leaky\"]},"
             "\"graceful\": {\"command\": [\"bin/server\", \"-mode\", \"graceful\"]}}}",
             top, extra);
    return buf;
}

static void refused(const char *extra, const char *top, const char *want)
{
    lb_test_spec_refused("t.json", spec_text(extra, top), want);
}

/* -------------------------------------------------------------- valid -- */

static void defaults_are_filled_in(void **state)
{
    (void)state;
    lb_spec spec = lb_test_load_spec("t.json", spec_text("", ""));
    const lb_scenario_spec *s = &spec.items[0];
    assert_true(s->target.active);
    assert_null(s->scenario);
    assert_string_equal(s->name, "pair");
    assert_int_equal(s->http.transport, LB_TRANSPORT_HTTP);
    const lb_target_variant_spec *l = &s->target.leaky, *g = &s->target.graceful;
    const char *argv[LB_TARGET_MAX_ARGS + 1];
    lb_target_variant_argv(l, argv);
    assert_string_equal(argv[0], "bin/server");
    assert_string_equal(argv[2], "leaky");
    assert_null(argv[3]);
    lb_target_variant_argv(g, argv);
    assert_string_equal(argv[2], "graceful");
    assert_int_equal(l->port, LB_TARGET_PORT_AUTO);
    assert_int_equal(l->ready, LB_READY_TCP);
    assert_int_equal(l->ready_timeout_ms, 10000);
    assert_int_equal(l->probe, LB_PROBE_NONE);
    assert_int_equal(l->probe_interval_ms, 100);
    assert_int_equal(l->probe_timeout_ms, 1000);
    assert_int_equal(l->shutdown_signal, SIGTERM);
    assert_int_equal(l->shutdown_grace_ms, 2000);
    assert_string_equal(l->cwd, "");
    assert_int_equal(l->n_env, 0);
    /* the wall guard counts the longer grace */
    assert_near(s->shutdown_grace_ms, 2000, 0);
    lb_guards g2;
    lb_guards_resolve(s, 0, &g2);
    assert_int_equal(g2.tasks, LB_TASKS_DEFAULT_COROUTINES);
    /* the wall guard: load + settle + the longer grace + 30 s + the longer readiness wait */
    assert_near(g2.wall_ms, 5000 + 2000 + 2000 + 30000 + 10000, 0);
    /* a target pair has no scheduler to override */
    lb_spec_overrides o = LB_SPEC_NO_OVERRIDES;
    o.scheduler = RT_SCHED_COROUTINES;
    lb_spec_error err;
    assert_int_equal(lb_spec_apply_overrides(&spec, &o, &err), -EINVAL);
    assert_string_equal(err.text, "--scheduler: pair (t.json $) is a target pair: its programs "
                                  "have their own");
    lb_spec_free(&spec);
}

static void every_field_and_per_variant_overrides(void **state)
{
    (void)state;
    const char *text =
        "{\"name\": \"pair\", \"transport\": \"http\", \"target\": {"
        "\"port\": 18080, \"ready\": {\"http\": \"/healthz\", \"timeout_ms\": 5000},"
        "\"probe\": {\"kind\": \"prometheus\", \"metric\": \"go_goroutines\","
        "  \"path\": \"/m\", \"labels\": {\"job\": \"a\\\"b\"}, \"interval_ms\": 50,"
        "  \"timeout_ms\": 700},"
        "\"shutdown\": {\"signal\": \"SIGINT\", \"grace_ms\": 300},"
        "\"leaky\": {\"command\": [\"./srv\", \"{port}\"], \"cwd\": \"/tmp\","
        "  \"env\": {\"GOMAXPROCS\": \"2\", \"X\": \"\"}},"
        "\"graceful\": {\"command\": [\"./srv\"], \"port\": \"auto\", \"ready\": {\"tcp\": true},"
        "  \"probe\": {\"kind\": \"go_pprof\"}, \"shutdown\": {\"signal\": \"SIGKILL\","
        "  \"grace_ms\": 0}}},"
        "\"request\": {\"path\": \"/work?ms={service_ms}\"}}";
    lb_spec spec = lb_test_load_spec("t.json", text);
    const lb_target_variant_spec *l = &spec.items[0].target.leaky,
                                 *g = &spec.items[0].target.graceful;
    assert_int_equal(l->port, 18080);
    assert_int_equal(l->ready, LB_READY_HTTP);
    assert_string_equal(l->ready_path, "/healthz");
    assert_int_equal(l->ready_timeout_ms, 5000);
    assert_int_equal(l->probe, LB_PROBE_PROMETHEUS);
    assert_string_equal(l->probe_metric, "go_goroutines");
    assert_string_equal(l->probe_path, "/m");
    char labels[64];
    assert_int_equal(lb_target_variant_labels(l, labels, sizeof labels), 0);
    assert_string_equal(labels, "job=\"a\\\"b\"");
    assert_int_equal(lb_target_variant_labels(l, labels, 4), -ENOSPC);
    assert_int_equal(l->probe_interval_ms, 50);
    assert_int_equal(l->probe_timeout_ms, 700);
    assert_int_equal(l->shutdown_signal, SIGINT);
    assert_int_equal(l->shutdown_grace_ms, 300);
    assert_string_equal(l->cwd, "/tmp");
    const char *env[LB_TARGET_MAX_ENV + 1];
    lb_target_variant_env(l, env);
    assert_string_equal(env[0], "GOMAXPROCS=2");
    assert_string_equal(env[1], "X=");
    assert_null(env[2]);
    /* the graceful variant's own keys replace the common ones whole */
    assert_int_equal(g->port, LB_TARGET_PORT_AUTO);
    assert_int_equal(g->ready, LB_READY_TCP);
    assert_int_equal(g->ready_timeout_ms, 10000);
    assert_int_equal(g->probe, LB_PROBE_GO_PPROF);
    assert_string_equal(g->probe_metric, "");
    assert_string_equal(g->probe_path, "");
    assert_int_equal(g->probe_interval_ms, 100);
    assert_int_equal(g->shutdown_signal, SIGKILL);
    assert_int_equal(g->shutdown_grace_ms, 0);
    assert_near(spec.items[0].shutdown_grace_ms, 300, 0);
    lb_spec_free(&spec);
}

/* -------------------------------------------------------------- errors -- */

static void bad_values_are_refused_with_their_path(void **state)
{
    (void)state;
    refused("\"port\": \"any\",", "",
            "t.json: $.target.port: expected \"auto\", a port number or null, got \"any\"");
    refused("\"port\": 70000,", "", "t.json: $.target.port: 70000 is out of range [1, 65535]");
    refused("\"port\": true,", "",
            "t.json: $.target.port: expected \"auto\", a port number or null, got a boolean");
    refused("\"port\": null,", "",
            "t.json: $.target.port: null (no port) is not allowed in a run: the load engine "
            "sends its requests to 127.0.0.1:{port}");
    refused("\"ready\": {},", "",
            "t.json: $.target.ready: needs \"http\": PATH (a 2xx answer) or \"tcp\": true");
    refused("\"ready\": {\"http\": \"/h\", \"tcp\": true},", "",
            "t.json: $.target.ready.tcp: not allowed with http (one readiness check)");
    refused("\"ready\": {\"http\": \"healthz\"},", "",
            "t.json: $.target.ready.http: must start with '/'");
    refused("\"ready\": {\"tcp\": false},", "",
            "t.json: $.target.ready.tcp: expected true, got false");
    refused("\"ready\": {\"tcp\": true, \"timeout_ms\": 0},", "",
            "t.json: $.target.ready.timeout_ms: 0 is out of range [1, 600000]");
    refused("\"ready\": {\"tcp\": true, \"wait\": 1},", "",
            "t.json: $.target.ready.wait: unknown key (expected one of: http, tcp, timeout_ms)");
    refused("\"probe\": {\"interval_ms\": 10},", "",
            "t.json: $.target.probe.kind: missing (go_pprof, prometheus, threads or none)");
    refused("\"probe\": {\"kind\": \"pprof\"},", "",
            "t.json: $.target.probe.kind: unknown probe 'pprof' (expected go_pprof, prometheus, "
            "threads or none)");
    refused("\"probe\": {\"kind\": \"prometheus\"},", "",
            "t.json: $.target.probe.metric: required for the prometheus probe (the gauge's name, "
            "e.g. go_goroutines)");
    refused("\"probe\": {\"kind\": \"go_pprof\", \"metric\": \"x\"},", "",
            "t.json: $.target.probe.metric: only for the prometheus probe (this probe is "
            "go_pprof)");
    refused("\"probe\": {\"kind\": \"threads\", \"labels\": {\"a\": \"b\"}},", "",
            "t.json: $.target.probe.labels: only for the prometheus probe (this probe is "
            "threads)");
    refused("\"probe\": {\"kind\": \"threads\", \"path\": \"/x\"},", "",
            "t.json: $.target.probe.path: only for the go_pprof and prometheus probes (this "
            "probe is threads)");
    refused("\"probe\": {\"kind\": \"prometheus\", \"metric\": \"m\", \"labels\": {\"1a\": "
            "\"b\"}},",
            "",
            "t.json: $.target.probe.labels.1a: not a Prometheus label name "
            "([a-zA-Z_][a-zA-Z0-9_]*)");
    refused("\"probe\": {\"kind\": \"go_pprof\", \"timeout_ms\": 1.5},", "",
            "t.json: $.target.probe.timeout_ms: expected an integer, got 1.5");
    refused("\"shutdown\": {\"signal\": \"TERM\"},", "",
            "t.json: $.target.shutdown.signal: unknown signal 'TERM' (expected SIGTERM, SIGINT, "
            "SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 or SIGKILL)");
    refused("\"shutdown\": {\"grace_ms\": -1},", "",
            "t.json: $.target.shutdown.grace_ms: -1 is out of range [0, 600000]");
    refused("\"command\": [\"x\"],", "",
            "t.json: $.target.command: unknown key (expected one of: leaky, graceful, port, "
            "ready, probe, shutdown)");
}

static void bad_variants_are_refused_with_their_path(void **state)
{
    (void)state;
    const char *head = "{\"name\": \"p\", \"target\": {\"graceful\": {\"command\": [\"g\"]}, ";
    char text[2048];
    struct {
        const char *leaky, *want;
    } cases[] = {
        {"{}", "t.json: $.target.leaky.command: missing (the program and its arguments, an array)"},
        {"{\"command\": \"srv -x\"}",
         "t.json: $.target.leaky.command: expected an array of strings (argv, no shell), got a "
         "string"},
        {"{\"command\": []}",
         "t.json: $.target.leaky.command: empty (the first word is the program to run)"},
        {"{\"command\": [\"\"]}", "t.json: $.target.leaky.command[0]: empty program name"},
        {"{\"command\": [\"a\", 1]}",
         "t.json: $.target.leaky.command[1]: expected a string, got an integer"},
        {"{\"command\": [\"a\"], \"cwd\": \"\"}",
         "t.json: $.target.leaky.cwd: empty (leave it out for the current directory)"},
        {"{\"command\": [\"a\"], \"env\": {\"A=B\": \"1\"}}",
         "t.json: $.target.leaky.env.A=B: not a valid variable name (empty or with '=')"},
        {"{\"command\": [\"a\"], \"env\": {\"A\": 1}}",
         "t.json: $.target.leaky.env.A: expected a string, got an integer"},
        {"{\"command\": [\"a\"], \"env\": []}",
         "t.json: $.target.leaky.env: expected an object, got an array"},
        {"{\"command\": [\"a\"], \"probe\": {\"kind\": \"prometheus\"}}",
         "t.json: $.target.leaky.probe.metric: required for the prometheus probe (the gauge's "
         "name, e.g. go_goroutines)"},
        {"{\"command\": [\"a\"], \"port\": null}",
         "t.json: $.target.leaky.port: null (no port) is not allowed in a run: the load engine "
         "sends its requests to 127.0.0.1:{port}"},
        {"{\"command\": [\"a\"], \"args\": []}",
         "t.json: $.target.leaky.args: unknown key (expected one of: command, cwd, env, port, "
         "ready, probe, shutdown)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "%s\"leaky\": %s}}", head, cases[i].leaky);
        lb_test_spec_refused("t.json", text, cases[i].want);
    }
    lb_test_spec_refused("t.json",
                         "{\"name\": \"p\", \"target\": {\"leaky\": {\"command\": [\"g\"]}}}",
                         "t.json: $.target.graceful: missing (a target pair needs a \"leaky\" "
                         "and a \"graceful\" program, each {\"command\": [...]})");
    lb_test_spec_refused("t.json", "{\"name\": \"p\", \"target\": []}",
                         "t.json: $.target: expected an object, got an array");
}

static void builtin_fields_are_refused_with_a_target(void **state)
{
    (void)state;
    refused("", "\"scenario\": \"timeout_leak\",",
            "t.json: $.scenario: not allowed with a target: names a built-in pair; a scenario "
            "runs either a built-in pair or a target");
    refused("", "\"scheduler\": \"threads\",",
            "t.json: $.scheduler: not allowed with a target: is leakbench's own runtime's; a "
            "target has its own");
    refused("", "\"knobs\": {},",
            "t.json: $.knobs: not allowed with a target: are a built-in pair's parameters; pass "
            "a target's in its command");
    refused("", "\"pool_size\": 4,",
            "t.json: $.pool_size: not allowed with a target: sizes a built-in pair's worker "
            "pool; a target sizes its own");
    refused("", "\"queue_capacity\": 4,",
            "t.json: $.queue_capacity: not allowed with a target: sizes a built-in pair's "
            "queue; a target sizes its own");
    refused("", "\"listen\": \"tcp\",",
            "t.json: $.listen: not allowed with a target: is where leakbench's own server "
            "listens; a target listens on its port");
    refused("", "\"url\": \"127.0.0.1:80\",",
            "t.json: $.url: not allowed with a target: names a server already running; a target "
            "is started on its port");
    refused("", "\"shutdown_grace_ms\": 100,",
            "t.json: $.shutdown_grace_ms: not allowed with a target: is a built-in pair's; use "
            "target.shutdown.grace_ms");
    refused("", "\"transport\": \"inproc\",",
            "t.json: $.transport: a target is driven over HTTP: leave it out or say \"http\"");
    lb_test_spec_refused("t.json",
                         "{\"target\": {\"leaky\": {\"command\": [\"a\"]}, \"graceful\": "
                         "{\"command\": [\"a\"]}}}",
                         "t.json: $.name: missing (a target pair needs a name for results and "
                         "compare)");
    lb_test_spec_refused("t.json", "{\"name\": \"x\"}",
                         "t.json: $.scenario: missing (the name of a scenario pair, see "
                         "`leakbench list`)");
}

/* ------------------------------------------------------- round trips -- */

static void spec_as_run_loads_back(void **state)
{
    (void)state;
    const char *text =
        "{\"name\": \"pair\", \"target\": {\"port\": 18080, \"ready\": {\"http\": \"/h\"},"
        "\"probe\": {\"kind\": \"prometheus\", \"metric\": \"m\", \"labels\": {\"a\": \"b\"}},"
        "\"leaky\": {\"command\": [\"./srv\", \"x y\"], \"cwd\": \"/tmp\", \"env\": {\"A\": "
        "\"1\"}},"
        "\"graceful\": {\"command\": [\"./srv\"], \"shutdown\": {\"signal\": \"SIGUSR2\"}}},"
        "\"load\": {\"rate\": 50, \"duration_ms\": 1000}}";
    lb_spec a = lb_test_load_spec("t.json", text);
    json_t *j = lb_scenario_spec_to_json(&a.items[0]);
    assert_non_null(j);
    assert_null(json_object_get(j, "scenario"));
    assert_null(json_object_get(j, "pool_size"));
    char *dumped = json_dumps(j, 0);
    json_decref(j);
    /* labels come back as promtext's selector string: as JSON an object */
    lb_spec b;
    lb_spec_error err;
    int rc = lb_spec_load_string("as-run.json", dumped, &b, &err);
    if (rc) print_error("%s\n%s\n", err.text, dumped);
    assert_int_equal(rc, 0);
    free(dumped);
    const lb_target_variant_spec *la = &a.items[0].target.leaky, *lb = &b.items[0].target.leaky;
    const lb_target_variant_spec *ga = &a.items[0].target.graceful,
                                 *gb = &b.items[0].target.graceful;
    assert_int_equal(lb->argc, 2);
    assert_string_equal(lb->text + lb->arg_at[1], "x y");
    assert_string_equal(lb->cwd, la->cwd);
    assert_string_equal(lb->text + lb->env_at[0], "A=1");
    assert_int_equal(lb->port, 18080);
    assert_string_equal(lb->ready_path, "/h");
    char sa[64], sb[64];
    assert_int_equal(lb_target_variant_labels(la, sa, sizeof sa), 0);
    assert_int_equal(lb_target_variant_labels(lb, sb, sizeof sb), 0);
    assert_string_equal(sa, "a=\"b\"");
    assert_string_equal(sb, sa);
    assert_int_equal(gb->shutdown_signal, ga->shutdown_signal);
    assert_int_equal(gb->shutdown_signal, SIGUSR2);
    lb_spec_free(&a);
    lb_spec_free(&b);
}

/* The A/A mode copies one variant onto the other: a plain assignment. */
static void a_variant_copies_by_assignment(void **state)
{
    (void)state;
    lb_spec spec = lb_test_load_spec("t.json", spec_text("", ""));
    lb_target_spec *t = &spec.items[0].target;
    t->graceful = t->leaky;
    lb_spec_free(&spec); /* nothing owned twice */
    spec = lb_test_load_spec("t.json", spec_text("", ""));
    lb_target_variant_spec copy = spec.items[0].target.leaky;
    lb_spec_free(&spec);
    const char *argv[LB_TARGET_MAX_ARGS + 1];
    lb_target_variant_argv(&copy, argv);
    assert_string_equal(argv[2], "leaky"); /* still valid: the strings live in the copy */
}

static void command_line_variant(void **state)
{
    (void)state;
    lb_target_variant_spec v;
    char err[256];
    assert_int_equal(lb_target_variant_from_cmdline("--leaky-cmd",
                                                    "./srv -listen '127.0.0.1:{port}' a\\ b",
                                                    "go_pprof", "/healthz", &v, err, sizeof err),
                     0);
    const char *argv[LB_TARGET_MAX_ARGS + 1];
    lb_target_variant_argv(&v, argv);
    assert_string_equal(argv[0], "./srv");
    assert_string_equal(argv[2], "127.0.0.1:{port}");
    assert_string_equal(argv[3], "a b");
    assert_null(argv[4]);
    assert_int_equal(v.probe, LB_PROBE_GO_PPROF);
    assert_int_equal(v.ready, LB_READY_HTTP);
    assert_string_equal(v.ready_path, "/healthz");
    assert_int_equal(
        lb_target_variant_from_cmdline("--leaky-cmd", "./srv", NULL, "tcp", &v, err, sizeof err),
        0);
    assert_int_equal(v.ready, LB_READY_TCP);
    assert_int_equal(v.probe, LB_PROBE_NONE);
    assert_int_equal(
        lb_target_variant_from_cmdline("--leaky-cmd", "  ", NULL, NULL, &v, err, sizeof err),
        -EINVAL);
    assert_string_equal(err, "--leaky-cmd: empty command");
    assert_int_equal(
        lb_target_variant_from_cmdline("--leaky-cmd", "a 'b", NULL, NULL, &v, err, sizeof err),
        -EINVAL);
    assert_string_equal(err, "--leaky-cmd: character 3: the single quote is never closed");
    assert_int_equal(
        lb_target_variant_from_cmdline("--leaky-cmd", "a", "pprof", NULL, &v, err, sizeof err),
        -EINVAL);
    assert_string_equal(err, "--probe: unknown probe 'pprof' (expected go_pprof, threads or none)");
    assert_int_equal(
        lb_target_variant_from_cmdline("--leaky-cmd", "a", "prometheus", NULL, &v, err, sizeof err),
        -EINVAL);
    assert_string_equal(err, "--probe: prometheus needs a metric name: use a spec file");
    assert_int_equal(
        lb_target_variant_from_cmdline("--leaky-cmd", "a", NULL, "healthz", &v, err, sizeof err),
        -EINVAL);
    assert_string_equal(err,
                        "--ready: 'healthz' is neither tcp nor an HTTP path starting with '/'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults_are_filled_in, lb_test_arm_timeout),
        cmocka_unit_test_setup(every_field_and_per_variant_overrides, lb_test_arm_timeout),
        cmocka_unit_test_setup(bad_values_are_refused_with_their_path, lb_test_arm_timeout),
        cmocka_unit_test_setup(bad_variants_are_refused_with_their_path, lb_test_arm_timeout),
        cmocka_unit_test_setup(builtin_fields_are_refused_with_a_target, lb_test_arm_timeout),
        cmocka_unit_test_setup(spec_as_run_loads_back, lb_test_arm_timeout),
        cmocka_unit_test_setup(a_variant_copies_by_assignment, lb_test_arm_timeout),
        cmocka_unit_test_setup(command_line_variant, lb_test_arm_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
