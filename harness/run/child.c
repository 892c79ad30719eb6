/*
 * child.c — a run's child process: phases, load generator, clients.
 *
 * The main task (the function rt_run starts) owns the phases:
 *   ready     setup() built the pipeline; the child holds still for
 *             a few sample intervals so the parent sees the idle
 *             baseline, then records its live-task count;
 *   load      open models: the main task walks the arrival schedule
 *             (loadgen.c), sleeping until each arrival and spawning one
 *             "client" task per request; closed model: N client tasks
 *             loop request after request until the load ends;
 *   settle    no new arrivals for settle_ms;
 *   shutdown  the root context is cancelled; the child waits for every
 *             client task (spawned, whether or not it has entered
 *             handle() yet) to finish, then variant.shutdown() runs, and
 *             the child waits for every task but itself to end (that
 *             moment, counted from the cancel, is the shutdown time).
 *             Both waits share one deadline, shutdown_grace_ms after the
 *             cancel: a leaky handler may never return, and then
 *             shutdown() runs at the deadline with those clients still
 *             inside handle() (their requests end up unanswered);
 *   exit      the live tasks left are snapshotted and grouped into the
 *             leak report; the child waits (up to 2 s) for the parent's
 *             final sample and _exits.
 * A client builds the request's context (a child of the root with the
 * client timeout as deadline, counted from the scheduled arrival, so a
 * late generator cannot hide queueing: no coordinated omission), calls
 * variant.handle, records the outcome and the latency from the scheduled
 * arrival, and releases the context.
 *
 * In a run over HTTP the child has no clients: it serves the variant on the
 * listening socket it inherited with lb_serve_run (http_serve.h) until the
 * load process's SIGTERM, while that process (http_load_run.c) owns the
 * phases up to shutdown; the child then records when its tasks drained and
 * publishes the exit phase (serve_over_http below).
 */
#include "child.h"

#include "http_serve.h"
#include "loadgen.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

typedef struct child_run {
    const lb_scenario_spec *spec;
    const lb_variant *variant;
    lb_shared *sh;
    uint64_t seed;
    lb_env env;
    void *state;
    rt_time load_start, load_end;
    _Atomic uint64_t next_id;
    /* Client tasks spawned and not yet finished: counted before rt_go,
     * so one that has not started running yet is counted too. */
    _Atomic int64_t clients_active;
} child_run;

typedef struct client_arg {
    child_run *run;
    lb_request req;
} client_arg;

uint64_t lb_rep_seed(const lb_scenario_spec *spec, int rep)
{
    return spec->seed + (uint64_t)rep * 0x9e3779b97f4a7c15ULL;
}

void lb_env_from_spec(const lb_scenario_spec *spec, uint64_t seed, lb_env *env)
{
    env->scenario = spec->scenario;
    env->pool_size = spec->pool_size;
    env->queue_cap = spec->queue_capacity;
    env->payload_bytes = (size_t)spec->payload_bytes;
    for (int i = 0; i < LB_MAX_KNOBS; i++) env->knob[i] = spec->knob[i];
    env->seed = seed;
}

double lb_ready_hold_ms(const lb_scenario_spec *s)
{
    double hold_ms = 5 * s->sample_ms;
    if (hold_ms < 50) hold_ms = 50;
    if (hold_ms > 2000) hold_ms = 2000;
    return hold_ms;
}

static void count(_Atomic int64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static void draw_request(child_run *run, lb_rng *rng, rt_time arrival, lb_request *req)
{
    const lb_scenario_spec *s = run->spec;
    lb_request_draw d;
    lb_request_draw_next(s, rng, &d);
    req->id = atomic_fetch_add(&run->next_id, 1);
    req->ctx = NULL;
    req->arrival = arrival;
    req->service_ns = d.service_ns;
    req->timeout_ns = (int64_t)(s->timeout_ms * 1e6);
    req->inject_error = d.inject_error;
    req->payload_bytes = d.payload_bytes;
    req->rand = d.rand;
}

/* Serves one request in the calling (client) task and records it. */
static void serve(child_run *run, lb_request *req)
{
    lb_outcome outcome = LB_FAILED;
    req->ctx = rt_ctx_with_deadline(run->env.root, req->arrival + req->timeout_ns);
    if (req->ctx) {
        outcome = run->variant->handle(run->state, req);
        rt_ctx_release(req->ctx);
        req->ctx = NULL;
    }
    if ((unsigned)outcome >= LB_OUTCOME_COUNT) outcome = LB_FAILED;
    rt_time now = rt_now();
    lb_shared_record_request(run->sh, outcome,
                             now > req->arrival ? (uint64_t)(now - req->arrival) / 1000 : 0);
}

static void client_finished(child_run *run)
{
    atomic_fetch_sub_explicit(&run->clients_active, 1, memory_order_release);
}

static void open_client(void *arg)
{
    client_arg *ca = arg;
    child_run *run = ca->run;
    serve(run, &ca->req);
    free(ca);
    client_finished(run);
}

static void run_open_load(child_run *run)
{
    lb_arrivals arrivals;
    lb_arrivals_init(&arrivals, run->spec, run->seed);
    lb_rng rng;
    lb_rng_seed(&rng, lb_request_draw_seed(run->seed));
    double at_ms;
    while (lb_arrivals_next(&arrivals, &at_ms)) {
        rt_time when = run->load_start + (rt_time)(at_ms * 1e6);
        rt_time now = rt_now();
        if (when > now) rt_sleep(when - now, NULL);
        /* How late this arrival is submitted (load_schedule.h). */
        now = rt_now();
        lb_hist_record_us(&run->sh->arrival_lateness,
                          now > when ? (uint64_t)(now - when) / 1000 : 0);
        count(&run->sh->submitted);
        client_arg *ca = malloc(sizeof *ca);
        if (ca) {
            ca->run = run;
            draw_request(run, &rng, when, &ca->req);
        }
        atomic_fetch_add_explicit(&run->clients_active, 1, memory_order_relaxed);
        if (!ca || rt_go("client", open_client, ca) != 0) {
            client_finished(run);
            free(ca);
            count(&run->sh->spawn_failures);
            count(&run->sh->outcome[LB_FAILED]);
        }
    }
}

typedef struct closed_client_arg {
    child_run *run;
    int index;
} closed_client_arg;

static void closed_client(void *arg)
{
    closed_client_arg *cc = arg;
    child_run *run = cc->run;
    lb_rng rng;
    lb_rng_seed(&rng, run->seed + (uint64_t)cc->index * 0x2545f4914f6cdd1dULL);
    free(cc);
    while (rt_now() < run->load_end) {
        lb_request req;
        draw_request(run, &rng, rt_now(), &req);
        count(&run->sh->submitted);
        serve(run, &req);
        if (run->spec->think_ms > 0) rt_sleep((int64_t)(run->spec->think_ms * 1e6), run->env.root);
    }
    client_finished(run);
}

static void run_closed_load(child_run *run)
{
    for (int i = 0; i < run->spec->clients; i++) {
        closed_client_arg *cc = malloc(sizeof *cc);
        if (cc) {
            cc->run = run;
            cc->index = i;
        }
        atomic_fetch_add_explicit(&run->clients_active, 1, memory_order_relaxed);
        if (!cc || rt_go("client", closed_client, cc) != 0) {
            client_finished(run);
            free(cc);
            count(&run->sh->spawn_failures);
        }
    }
    rt_time now = rt_now();
    if (run->load_end > now) rt_sleep(run->load_end - now, NULL);
}

static void snapshot_leaks(child_run *run)
{
    if (lb_leak_snapshot(&run->sh->leaks)) atomic_store(&run->sh->child_error, LB_CHILD_NO_MEMORY);
}

static void child_main_task(void *arg)
{
    child_run *run = arg;
    const lb_scenario_spec *s = run->spec;
    lb_shared *sh = run->sh;

    run->env.root = rt_ctx_with_cancel(rt_ctx_background());
    run->state = run->env.root ? run->variant->setup(&run->env) : NULL;
    if (!run->state) {
        atomic_store(&sh->child_error, LB_CHILD_SETUP);
        return;
    }
    lb_shared_enter_phase(sh, LB_PHASE_READY);
    rt_sleep((int64_t)(lb_ready_hold_ms(s) * 1e6), NULL);
    atomic_store(&sh->ready_tasks, rt_live_tasks());

    lb_shared_enter_phase(sh, LB_PHASE_LOAD);
    run->load_start = atomic_load(&sh->phase_at_ns[LB_PHASE_LOAD]);
    run->load_end = run->load_start + (rt_time)(s->duration_ms * 1e6);
    if (s->model == LB_LOAD_CLOSED)
        run_closed_load(run);
    else
        run_open_load(run);

    lb_shared_enter_phase(sh, LB_PHASE_SETTLE);
    if (s->settle_ms > 0) rt_sleep((int64_t)(s->settle_ms * 1e6), NULL);

    lb_shared_enter_phase(sh, LB_PHASE_SHUTDOWN);
    rt_time cancel_at = rt_now();
    rt_ctx_cancel(run->env.root);
    rt_time give_up = cancel_at + (rt_time)(s->shutdown_grace_ms * 1e6);
    /* No handle() may be running or about to start when shutdown() frees
     * the pipeline, unless a handler outlives the grace period. */
    while (atomic_load_explicit(&run->clients_active, memory_order_acquire) > 0 &&
           rt_now() < give_up)
        rt_sleep(RT_MS(1), NULL);
    run->variant->shutdown(run->state);
    for (;;) {
        if (rt_live_tasks() <= 1) {
            atomic_store(&sh->shutdown_done_ns, rt_now());
            break;
        }
        if (rt_now() >= give_up) break;
        rt_sleep(RT_MS(1), NULL);
    }

    snapshot_leaks(run);
    lb_shared_enter_phase(sh, LB_PHASE_EXIT);
    /* Let the parent take its final sample while the leaked tasks live. */
    rt_time wait_until = rt_now() + RT_MS(2000);
    while (!atomic_load_explicit(&sh->final_sampled, memory_order_acquire) && rt_now() < wait_until)
        rt_sleep(RT_MS(1), NULL);
}

/*
 * The child of an HTTP run: the pair's variant served on listen_fd by
 * lb_serve_run (http_serve.h) until the load process's SIGTERM at the
 * shutdown phase.  The load process owns the phases before that; this
 * side records when the server drained and publishes the exit phase.
 */
static void serve_over_http(const lb_scenario_spec *spec, bool leaky, int listen_fd, lb_shared *sh)
{
    lb_serve_summary summary;
    lb_serve_config c = {spec, leaky, listen_fd, sh, &summary};
    int rc = lb_serve_run(&c);
    if (rc < 0) {
        atomic_store(&sh->child_rt_error, rc);
        atomic_store(&sh->child_error, rc == -EIO ? LB_CHILD_SETUP : LB_CHILD_RT_START);
        _exit(LB_CHILD_EXIT_FAILED);
    }
    int64_t cancel = atomic_load(&sh->phase_at_ns[LB_PHASE_SHUTDOWN]);
    if (summary.drained && cancel > 0)
        atomic_store(&sh->shutdown_done_ns, cancel + (int64_t)(summary.shutdown_ms * 1e6));
    lb_shared_enter_phase(sh, LB_PHASE_EXIT);
    lb_shared_wait_final_sample(sh);
    _exit(LB_CHILD_EXIT_OK);
}

void lb_child_main(const lb_scenario_spec *spec, bool leaky, int rep, int listen_fd, lb_shared *sh)
{
    /* The parent handles Ctrl-C and kills us; die with it if it dies. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(LB_CHILD_EXIT_FAILED);
    if (listen_fd >= 0) serve_over_http(spec, leaky, listen_fd, sh);

    static child_run run;
    run.spec = spec;
    run.variant = leaky ? &spec->scenario->leaky : &spec->scenario->graceful;
    run.sh = sh;
    run.seed = lb_rep_seed(spec, rep);
    lb_env_from_spec(spec, run.seed, &run.env);

    rt_config cfg = {0};
    cfg.sched = spec->scheduler;
    cfg.counters = &sh->rt;
    cfg.seed = run.seed;
    int rc = rt_run(&cfg, child_main_task, &run);
    if (rc < 0) {
        atomic_store(&sh->child_rt_error, rc);
        atomic_store(&sh->child_error, LB_CHILD_RT_START);
        _exit(LB_CHILD_EXIT_FAILED);
    }
    _exit(atomic_load(&sh->child_error) == LB_CHILD_OK ? LB_CHILD_EXIT_OK : LB_CHILD_EXIT_FAILED);
}
