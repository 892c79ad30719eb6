// Tests of go-seed's two modes, in-process with net/http/httptest: the
// leaky handler leaves a goroutine blocked in its send after the client's
// timeout, the graceful one leaves nothing, and the pool sheds what its
// queue cannot take.  Goroutines are read from the runtime's own goroutine
// profile (the debug=2 text leakbench's go_pprof probe parses), polled until
// a condition holds or a generous deadline passes (no timing assertions).
package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// goroutines returns the debug=2 goroutine dump, one goroutine per entry.
func goroutines(t *testing.T) []string {
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		t.Fatal(err)
	}
	return strings.Split(b.String(), "\n\n")
}

// count returns how many goroutines are in state and have frame on their
// stack.  Frames are matched without their package prefix, which is "main"
// in the binary and the import path in the test binary.
func count(t *testing.T, state, frame string) int {
	n := 0
	for _, g := range goroutines(t) {
		if strings.Contains(g, "["+state) && strings.Contains(g, frame) {
			n++
		}
	}
	return n
}

// eventually polls cond every 10 ms for up to 10 s; false if it never held.
func eventually(cond func() bool) bool {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func newTestServer(t *testing.T, mode string, workers, queue int) (*httptest.Server, *server) {
	s := &server{}
	if mode == "graceful" {
		s.startPool(workers, queue)
	}
	ts := httptest.NewServer(newMux(s, mode == "leaky"))
	t.Cleanup(func() { ts.Close(); s.stopPool() })
	return ts, s
}

// get sends one request with a client timeout (0: none); the status, or -1
// when the client gave up.
func get(url string, timeout time.Duration) int {
	c := &http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return -1
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestLeakyAnswersFastRequests(t *testing.T) {
	ts, _ := newTestServer(t, "leaky", 0, 0)
	if code := get(ts.URL+"/work?service_ms=1&payload=10000", 0); code != 200 {
		t.Fatalf("status %d, want 200", code)
	}
	if code := get(ts.URL+"/work?service_ms=1&error=1", 0); code != 500 {
		t.Fatalf("status %d with error=1, want 500", code)
	}
	if code := get(ts.URL+"/work?service_ms=x", 0); code != 400 {
		t.Fatalf("status %d for a bad service_ms, want 400", code)
	}
}

func TestLeakyLeavesSenderBlockedAfterClientTimeout(t *testing.T) {
	ts, s := newTestServer(t, "leaky", 0, 0)
	before := count(t, "chan send", ".(*server).leakyWork.func1()")
	if code := get(ts.URL+"/work?service_ms=100&payload=65536", 20*time.Millisecond); code != -1 {
		t.Fatalf("status %d, want a client timeout", code)
	}
	// The handler returns at once; its goroutine finishes the sleep and then
	// blocks in the send with no receiver, for good.
	if !eventually(func() bool { return count(t, "chan send", ".(*server).leakyWork.func1()") == before+1 }) {
		t.Fatalf("no goroutine blocked in leakyWork's send after the client timed out")
	}
	if !eventually(func() bool { return s.stats.abandoned.Load() == 1 }) {
		t.Fatalf("abandoned = %d, want 1", s.stats.abandoned.Load())
	}
}

func TestGracefulLeavesNothingAfterClientTimeout(t *testing.T) {
	ts, s := newTestServer(t, "graceful", 4, 4)
	// Earlier tests' leaky goroutines stay blocked for good: count from here.
	sendersBefore := count(t, "chan send", "go-seed/main.go:")
	if code := get(ts.URL+"/work?service_ms=1", 0); code != 200 {
		t.Fatalf("status %d, want 200", code)
	}
	if code := get(ts.URL+"/work?service_ms=100&payload=65536", 20*time.Millisecond); code != -1 {
		t.Fatalf("status %d, want a client timeout", code)
	}
	// The worker notices the abandoned request and goes back to the queue:
	// nothing is left in serve, and no goroutine of ours waits in a send.
	if !eventually(func() bool {
		return count(t, "", ".(*server).serve(") == 0 && count(t, "chan send", "go-seed/main.go:") == sendersBefore &&
			count(t, "select", ".(*server).worker(") == 4
	}) {
		t.Fatalf("the graceful pool did not return to its 4 idle workers:\n%s", strings.Join(goroutines(t), "\n\n"))
	}
	if !eventually(func() bool { return s.stats.abandoned.Load() == 1 }) {
		t.Fatalf("abandoned = %d, want 1", s.stats.abandoned.Load())
	}
}

func TestGracefulShedsWhatItCannotQueue(t *testing.T) {
	ts, s := newTestServer(t, "graceful", 1, 0)
	done := make(chan int, 1)
	go func() { done <- get(ts.URL+"/work?service_ms=300", 0) }()
	if !eventually(func() bool { return count(t, "select", ".(*server).serve(") == 1 }) {
		t.Fatalf("the only worker never picked up the first request")
	}
	if code := get(ts.URL+"/work?service_ms=1", 0); code != 503 {
		t.Fatalf("status %d with the worker busy and no queue, want 503", code)
	}
	if code := <-done; code != 200 {
		t.Fatalf("first request: status %d, want 200", code)
	}
	if s.stats.rejected.Load() != 1 {
		t.Fatalf("rejected = %d, want 1", s.stats.rejected.Load())
	}
}

func TestParseConfigRejectsBadValues(t *testing.T) {
	for _, args := range [][]string{{"-mode", "fast"}, {"-workers", "0"}, {"-queue", "-1"}} {
		if _, err := parseConfig(args); err == nil {
			t.Errorf("parseConfig(%q) accepted it", args)
		}
	}
	c, err := parseConfig([]string{"-mode", "graceful", "-listen", "127.0.0.1:0"})
	if err != nil || c.mode != "graceful" || c.listen != "127.0.0.1:0" {
		t.Fatalf("parseConfig: %+v, %v", c, err)
	}
}

func TestMetricsReportGoroutines(t *testing.T) {
	ts, _ := newTestServer(t, "leaky", 0, 0)
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\ngo_goroutines ") {
		t.Fatalf("/metrics has no go_goroutines gauge:\n%s", body)
	}
}
