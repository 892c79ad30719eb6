// Command go-seed is the seed's pipeline as a real Go HTTP service: the
// build before the fix (-mode leaky) and the build after it (-mode
// graceful), for leakbench to drive with HTTP load and watch from outside.
//
// Requests have the same shape as `leakbench serve`'s, so one load template
// drives both:
//
//	GET /work?service_ms=N&payload=BYTES&error=0|1   200 ok, 500 error, 503 shed
//	GET /healthz                                      200 ok (readiness)
//	GET /metrics                                      Prometheus text: go_goroutines, request counters
//	GET /debug/pprof/...                              net/http/pprof (goroutine?debug=1|2)
//
// Leaky mode (the seed's incident).  Each request's handler starts a
// goroutine that allocates and touches the request's payload, does the work
// (a sleep of service_ms that nothing can interrupt) and sends its result on
// an unbuffered channel.  The handler selects on that channel and on the
// request's context; when the client gives up (its timeout closes the
// connection, so r.Context() is cancelled) the handler returns, nobody will
// ever receive, and the goroutine blocks in its send forever, holding the
// payload.  Leaked goroutines per second = request rate x the fraction of
// requests whose service time exceeds the client timeout.
//
// Graceful mode (the seed's fix).  A fixed pool of -workers goroutines,
// started at boot, fed through a bounded queue (a channel of -queue).  Every
// send and receive is a select on the request's context (and the pool's stop
// channel): a request the queue cannot take at once is shed with 503; a
// worker whose request was abandoned stops its work (the sleep selects on the
// request context) and replies on a channel of capacity one, so it can never
// block there.
//
// Shutdown.  SIGTERM or SIGINT: http.Server.Shutdown with -grace (stop
// accepting, wait for in-flight handlers), then the pool is stopped and
// joined.  Goroutines a leaky handler left behind stay blocked; the process
// exits anyway, which is the only way a leaky service "recovers".
//
// Flags (each also read from the environment, which the flag overrides):
// -mode (GO_SEED_MODE), -listen (GO_SEED_LISTEN, default 127.0.0.1:$PORT,
// PORT defaulting to 8080), -workers (GO_SEED_WORKERS, 500), -queue
// (GO_SEED_QUEUE, 500), -grace (GO_SEED_GRACE, 500ms). Standard library only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // mounts /debug/pprof/ on http.DefaultServeMux
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// job is one request's work: how long it takes and how much memory it holds.
type job struct {
	serviceMs int
	payload   int
	fail      bool
}

// parseJob reads the /work query; a malformed parameter is a 400.
func parseJob(r *http.Request) (job, error) {
	q := r.URL.Query()
	var j job
	var err error
	if s := q.Get("service_ms"); s != "" {
		if j.serviceMs, err = strconv.Atoi(s); err != nil || j.serviceMs < 0 {
			return j, fmt.Errorf("service_ms: %q is not a non-negative integer", s)
		}
	}
	if s := q.Get("payload"); s != "" {
		if j.payload, err = strconv.Atoi(s); err != nil || j.payload < 0 || j.payload > 1<<30 {
			return j, fmt.Errorf("payload: %q is not a byte count (0 to 1 GiB)", s)
		}
	}
	j.fail = q.Get("error") == "1"
	return j, nil
}

// touch allocates n bytes and writes every page, so the memory is resident.
func touch(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	return b
}

// counters are the request outcomes /metrics reports.
type counters struct {
	completed, failed, rejected, abandoned atomic.Int64
}

// server holds the mode's state; handlers are its methods.
type server struct {
	stats counters
	// graceful mode only
	jobs chan *pooledJob
	stop chan struct{}
	pool sync.WaitGroup
}

// ---------------------------------------------------------------- leaky --

// leakyWork is the seed's bug, line for line.
func (s *server) leakyWork(w http.ResponseWriter, r *http.Request, j job) {
	result := make(chan error) // unbuffered: the bug
	go func() {
		payload := touch(j.payload)
		time.Sleep(time.Duration(j.serviceMs) * time.Millisecond) // the work; nothing interrupts it
		var err error
		if j.fail {
			err = errors.New("injected error")
		}
		result <- err // LEAK SITE: no receiver once the handler has returned
		runtime.KeepAlive(payload)
	}()
	select {
	case err := <-result:
		s.reply(w, err)
	case <-r.Context().Done():
		s.stats.abandoned.Add(1) // the client gave up; the goroutine above is stranded
	}
}

// ------------------------------------------------------------- graceful --

// pooledJob is a job queued for the pool, with the request's context and a
// reply channel of capacity one (the worker's send can never block).
type pooledJob struct {
	job
	ctx   context.Context
	reply chan error
}

func (s *server) startPool(workers, queue int) {
	s.jobs = make(chan *pooledJob, queue)
	s.stop = make(chan struct{})
	for i := 0; i < workers; i++ {
		s.pool.Add(1)
		go s.worker()
	}
}

func (s *server) worker() {
	defer s.pool.Done()
	for {
		select {
		case pj := <-s.jobs:
			s.serve(pj)
		case <-s.stop:
			return
		}
	}
}

// serve does one job; the sleep and the reply both watch the request.
func (s *server) serve(pj *pooledJob) {
	payload := touch(pj.payload)
	t := time.NewTimer(time.Duration(pj.serviceMs) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-pj.ctx.Done():
		return // abandoned: stop working on it
	case <-s.stop:
		return
	}
	var err error
	if pj.fail {
		err = errors.New("injected error")
	}
	select {
	case pj.reply <- err: // capacity one: never blocks, the select only documents it
	case <-pj.ctx.Done():
	}
	runtime.KeepAlive(payload)
}

func (s *server) gracefulWork(w http.ResponseWriter, r *http.Request, j job) {
	pj := &pooledJob{job: j, ctx: r.Context(), reply: make(chan error, 1)}
	select {
	case s.jobs <- pj:
	case <-r.Context().Done():
		s.stats.abandoned.Add(1)
		return
	default: // the queue is full: shed instead of piling up
		s.stats.rejected.Add(1)
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
		return
	}
	select {
	case err := <-pj.reply:
		s.reply(w, err)
	case <-r.Context().Done():
		s.stats.abandoned.Add(1)
	}
}

func (s *server) stopPool() {
	if s.stop != nil {
		close(s.stop)
		s.pool.Wait()
	}
}

// --------------------------------------------------------------- common --

func (s *server) reply(w http.ResponseWriter, err error) {
	if err != nil {
		s.stats.failed.Add(1)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.stats.completed.Add(1)
	fmt.Fprintln(w, "ok")
}

func (s *server) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP go_goroutines Number of goroutines that currently exist.\n")
	fmt.Fprintf(w, "# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(w, "# HELP go_seed_requests_total Requests to /work by outcome.\n")
	fmt.Fprintf(w, "# TYPE go_seed_requests_total counter\n")
	for _, c := range []struct {
		name string
		v    *atomic.Int64
	}{{"completed", &s.stats.completed}, {"failed", &s.stats.failed},
		{"rejected", &s.stats.rejected}, {"abandoned", &s.stats.abandoned}} {
		fmt.Fprintf(w, "go_seed_requests_total{outcome=%q} %d\n", c.name, c.v.Load())
	}
}

// newMux routes the service; work is the mode's handler.
func newMux(s *server, leaky bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		j, err := parseJob(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if leaky {
			s.leakyWork(w, r, j)
		} else {
			s.gracefulWork(w, r, j)
		}
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/metrics", s.metrics)
	mux.Handle("/debug/pprof/", http.DefaultServeMux) // net/http/pprof registered itself there
	return mux
}

// ----------------------------------------------------------------- main --

// config is the service's flags, each defaulting to its environment variable.
type config struct {
	mode           string
	listen         string
	workers, queue int
	grace          time.Duration
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("go-seed", flag.ContinueOnError)
	port := env("PORT", "8080")
	fs.StringVar(&c.mode, "mode", env("GO_SEED_MODE", "leaky"), "leaky (the seed's bug) or graceful (its fix)")
	fs.StringVar(&c.listen, "listen", env("GO_SEED_LISTEN", "127.0.0.1:"+port), "address to listen on")
	workers, _ := strconv.Atoi(env("GO_SEED_WORKERS", "500"))
	queue, _ := strconv.Atoi(env("GO_SEED_QUEUE", "500"))
	grace, err := time.ParseDuration(env("GO_SEED_GRACE", "500ms"))
	if err != nil {
		return c, fmt.Errorf("GO_SEED_GRACE: %v", err)
	}
	fs.IntVar(&c.workers, "workers", workers, "graceful mode: worker goroutines in the pool")
	fs.IntVar(&c.queue, "queue", queue, "graceful mode: jobs the queue holds before shedding with 503")
	fs.DurationVar(&c.grace, "grace", grace, "how long shutdown waits for in-flight requests")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.mode != "leaky" && c.mode != "graceful" {
		return c, fmt.Errorf("-mode: %q is neither leaky nor graceful", c.mode)
	}
	if c.workers < 1 || c.queue < 0 {
		return c, fmt.Errorf("-workers must be >= 1 and -queue >= 0 (got %d, %d)", c.workers, c.queue)
	}
	return c, nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("go-seed: ")
	c, err := parseConfig(os.Args[1:])
	if err != nil {
		log.Print(err)
		os.Exit(2)
	}
	s := &server{}
	if c.mode == "graceful" {
		s.startPool(c.workers, c.queue)
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: newMux(s, c.mode == "leaky"), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("%s mode listening on %s", c.mode, ln.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case sig := <-stop:
		log.Printf("%v: shutting down (grace %v)", sig, c.grace)
	case err := <-served:
		log.Print(err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.grace)
	defer cancel()
	code := 0
	if err := srv.Shutdown(ctx); err != nil {
		log.Printf("shutdown: %v (in-flight requests abandoned)", err)
		code = 1
	}
	s.stopPool()
	log.Printf("stopped with %d goroutines left", runtime.NumGoroutine())
	os.Exit(code)
}
