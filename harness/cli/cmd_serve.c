/*
 * cmd_serve.c — `leakbench serve SCENARIO --variant leaky|graceful
 * [--listen ADDR] [--scheduler NAME] [--knob K=V ...] [--grace-ms MS]`:
 * one built-in pair's variant as an HTTP/1.1 service (harness/run/
 * http_serve.h has the routes and the shutdown contract).
 *
 * The options become a scenario spec ({"scenario": ..., "knobs": ...})
 * validated by the one spec loader, so a bad scenario name, knob or value
 * gets the same message as in a spec file; the address is parsed and
 * bound here, before anything runs, and the bound address is printed on
 * stdout as "... listening on ADDR" (the port the kernel picked for 0).
 *
 * Exit codes: 0 stopped by SIGTERM/SIGINT (tasks left behind after the
 * grace are reported on stderr, not an error: they are the leak the pair
 * shows); 2 bad command line, unknown scenario or knob, bad address, or
 * the address cannot be bound (in use, not permitted); 3 the server could
 * not run (the scheduler did not start, the pipeline's setup failed).
 */
#include "cli.h"
#include "options.h"
#include "core/spec.h"
#include "run/http_serve.h"
#include "run/netaddr.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: leakbench serve SCENARIO --variant leaky|graceful [options]\n\n"
            "Serves one variant of a built-in pair over HTTP/1.1 on leakbench's runtime:\n"
            "GET /work runs the variant's handler with a context cancelled when the client\n"
            "closes its connection; /metrics (Prometheus), /debug/leaks (JSON), /healthz,\n"
            "/status/503 and /reset as described in the README.  SIGTERM or SIGINT stops\n"
            "it: the root context is cancelled and tasks get the grace period to end.\n\n"
            "options:\n"
            "      --variant V        leaky or graceful (required)\n"
            "      --listen ADDR      127.0.0.1:PORT, [::1]:PORT or unix:/path\n"
            "                         (default " DEFAULT_LISTEN "; port 0 picks a free port)\n"
            "      --scheduler NAME   threads (default) or coroutines\n"
            "      --knob K=V         a knob of the scenario (repeatable; `leakbench list -v`)\n"
            "      --grace-ms MS      shutdown grace in ms (default 500, the spec default)\n"
            "  -h, --help             this help\n\n"
            "exit codes: 0 stopped by a signal (leaked tasks are reported, not an error),\n"
            "2 bad usage, unknown scenario or knob, bad or unusable --listen address,\n"
            "3 the server could not start.\n");
}

typedef struct serve_options {
    const char *scenario, *variant, *listen, *scheduler;
    json_t *knobs;     /* {"name": value} */
    const char *grace; /* as given */
} serve_options;

static bool parse_nonneg(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

static int add_knob(serve_options *o, const char *kv)
{
    const char *eq = strchr(kv, '=');
    double v;
    if (!eq || eq == kv || !parse_nonneg(eq + 1, &v)) {
        fprintf(stderr, "leakbench serve: --knob %s: expected NAME=NUMBER\n", kv);
        return -EINVAL;
    }
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
    json_object_set_new(o->knobs, name, json_real(v));
    return 0;
}

static int parse_options(int argc, char **argv, serve_options *o)
{
    enum { OPT_VARIANT = 256, OPT_LISTEN, OPT_SCHED, OPT_KNOB, OPT_GRACE };
    static const struct option longopts[] = {
        {"variant", required_argument, NULL, OPT_VARIANT},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"scheduler", required_argument, NULL, OPT_SCHED},
        {"knob", required_argument, NULL, OPT_KNOB},
        {"grace-ms", required_argument, NULL, OPT_GRACE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_VARIANT:
            o->variant = optarg;
            break;
        case OPT_LISTEN:
            o->listen = optarg;
            break;
        case OPT_SCHED:
            o->scheduler = optarg;
            break;
        case OPT_KNOB:
            if (add_knob(o, optarg)) return LB_EXIT_USAGE;
            break;
        case OPT_GRACE:
            o->grace = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            return lb_cli_bad_option(stderr, "serve", ch, argv, longopts);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "leakbench serve: expected one SCENARIO (`leakbench list` shows them)\n");
        usage(stderr);
        return LB_EXIT_USAGE;
    }
    o->scenario = argv[optind];
    if (!o->variant || (strcmp(o->variant, "leaky") && strcmp(o->variant, "graceful"))) {
        fprintf(stderr, "leakbench serve: --variant %s: expected leaky or graceful\n",
                o->variant ? o->variant : "(missing)");
        return LB_EXIT_USAGE;
    }
    return 0;
}

/* The options as a scenario spec, validated by the spec loader. */
static int build_spec(const serve_options *o, lb_spec *spec)
{
    json_t *j = json_pack("{s:s, s:O}", "scenario", o->scenario, "knobs", o->knobs);
    if (o->scheduler) json_object_set_new(j, "scheduler", json_string(o->scheduler));
    if (o->grace) {
        double g;
        if (!parse_nonneg(o->grace, &g)) {
            fprintf(stderr, "leakbench serve: --grace-ms %s: expected a number of ms\n", o->grace);
            json_decref(j);
            return LB_EXIT_USAGE;
        }
        json_object_set_new(j, "shutdown_grace_ms", json_real(g));
    }
    char *text = json_dumps(j, 0);
    json_decref(j);
    lb_spec_error err;
    int rc = text ? lb_spec_load_string("leakbench serve", text, spec, &err) : -ENOMEM;
    free(text);
    if (rc) {
        fprintf(stderr, "%s\n", rc == -ENOMEM ? "leakbench serve: out of memory" : err.text);
        return LB_EXIT_USAGE;
    }
    return 0;
}

/* Binds the listening socket: the fd, or -1 after printing why. */
static int bind_listener(const char *text, lb_netaddr *bound)
{
    lb_netaddr addr;
    char why[160];
    if (lb_netaddr_parse(text, &addr, why, sizeof why)) {
        fprintf(stderr, "leakbench serve: --listen %s: %s\n", text, why);
        return -1;
    }
    int fd = lb_netaddr_listen(&addr, 1024);
    if (fd < 0) {
        fprintf(stderr, "leakbench serve: --listen %s: cannot listen: %s%s\n", text, strerror(-fd),
                fd == -EADDRINUSE && lb_netaddr_is_unix(&addr) ? " (the path exists)" : "");
        return -1;
    }
    if (lb_netaddr_local(fd, bound)) *bound = addr;
    return fd;
}

static void print_summary(const lb_serve_summary *s, double grace_ms)
{
    fprintf(stderr, "leakbench serve: stopped; /work requests: %lld (", (long long)s->requests);
    for (int o = 0; o < LB_OUTCOME_COUNT; o++)
        fprintf(stderr, "%s%lld %s", o ? ", " : "", (long long)s->outcome[o],
                lb_outcome_name((lb_outcome)o));
    if (s->drained)
        fprintf(stderr, "), connections: %lld; every task ended %.1f ms after the stop\n",
                (long long)s->connections, s->shutdown_ms);
    else
        fprintf(stderr,
                "), connections: %lld; %lld tasks still live after the %.0f ms grace "
                "(leaked)\n",
                (long long)s->connections, (long long)s->tasks_left, grace_ms);
}

static int serve_main(int argc, char **argv)
{
    serve_options o = {.listen = DEFAULT_LISTEN, .knobs = json_object()};
    int rc = parse_options(argc, argv, &o);
    lb_spec spec = {0};
    if (rc == 0) rc = build_spec(&o, &spec);
    json_decref(o.knobs);
    if (rc) return rc < 0 ? LB_EXIT_OK : rc;

    /* Blocked from here on (lb_serve_run reads them from a signalfd), so a
     * stop sent as soon as the address is printed is a graceful one. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, NULL);
    lb_netaddr bound;
    int fd = bind_listener(o.listen, &bound);
    if (fd < 0) {
        lb_spec_free(&spec);
        return LB_EXIT_USAGE;
    }
    const lb_scenario_spec *sp = &spec.items[0];
    char where[LB_NETADDR_TEXT_MAX];
    lb_netaddr_format(&bound, where, sizeof where);
    printf("leakbench serve: %s --variant %s on %s, listening on %s\n", sp->name, o.variant,
           rt_sched_name(sp->scheduler), where);
    fflush(stdout);

    lb_serve_summary summary;
    lb_serve_config cfg = {
        .spec = sp, .leaky = !strcmp(o.variant, "leaky"), .listen_fd = fd, .summary = &summary};
    rc = lb_serve_run(&cfg);
    if (lb_netaddr_is_unix(&bound)) unlink(((struct sockaddr_un *)&bound.ss)->sun_path);
    int exit_code = LB_EXIT_OK;
    if (rc) {
        fprintf(stderr, "leakbench serve: %s: %s\n",
                rc == -EIO ? "the pipeline's setup failed" : "the server could not run",
                rt_strerror(rc));
        exit_code = LB_EXIT_ERROR;
    } else {
        print_summary(&summary, sp->shutdown_grace_ms);
    }
    lb_spec_free(&spec);
    fflush(stderr);
    /* Leaked tasks are still blocked inside the runtime: leave without
     * running exit handlers under them. */
    _exit(exit_code);
}

static const lb_command cmd_serve = {"serve", "serve one variant of a pair over HTTP/1.1",
                                     serve_main};
LB_COMMAND(cmd_serve)
