# leakbench — build, test and benchmark.
#
#   make            build $(BUILD)/leakbench and the Go example service
#                   $(BUILD)/go-seed/go-seed (installs missing Debian packages first)
#   make run        the seed reproduction: leakbench run scenarios/seed.json
#   make test       every test program: release, ThreadSanitizer and
#                   AddressSanitizer builds of the runtime suite on both
#                   schedulers (plus a one-worker, fixed-seed coroutine run),
#                   harness tests, and the quick.json, catalog.json,
#                   http_quick.json and examples/go-seed/gate.json
#                   threshold gates
#   make bench      runtime benchmarks and their Go twins, interleaved over
#                   BENCH_ROUNDS rounds, summed up as JSON (bench/run); then
#                   harness/*/*_bench.c (the HTTP load engine's), JSON each
#   make format     clang-format every C file in place
#   make install    binary, plot templates, man page, bash/zsh completion
#                   under PREFIX (default /usr/local; DESTDIR for staging)
#
# Objects go to $(BUILD)/<variant>/ where variant is rel (optimised), tsan
# or asan, so sanitizer builds never mix with the release build.  Sources
# are found by wildcard: a new runtime/, harness/ or scenarios/ file needs no
# edit here.  Test programs are the *_test.c files beside what they test,
# benchmarks the *_bench.c files, fixtures the *_fixture.c files (programs
# the tests start as targets; their paths reach the tests in TEST_ENV).

BUILD   ?= build
CC      ?= cc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CFLAGS_COMMON = -std=c11 -D_GNU_SOURCE -g -pthread $(WARN) -MMD -MP -I. -Iharness -I$(LLHTTP_INC) \
                -DLEAKBENCH_VERSION='"$(VERSION)"' -DLEAKBENCH_GIT_REVISION='"$(REVISION)"'
CFLAGS_rel  = -O2
CFLAGS_tsan = -O1 -fsanitize=thread -DLEAKBENCH_TSAN=1
CFLAGS_asan = -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -DLEAKBENCH_ASAN=1
LDLIBS   = -ljansson -lm -pthread

RUNTIME_SRC  = $(filter-out %_test.c %_bench.c,$(wildcard runtime/*.c)) $(wildcard runtime/*.S)
HARNESS_SRC  = $(filter-out %_test.c %_bench.c %_fixture.c harness/cli/main.c,$(wildcard harness/*/*.c))
SCENARIO_SRC = $(filter-out %_test.c %_bench.c,$(wildcard scenarios/*.c))
RUNTIME_TESTS  = $(wildcard runtime/*_test.c)
HARNESS_TESTS  = $(wildcard harness/*/*_test.c scenarios/*_test.c)
RUNTIME_BENCHES = $(wildcard runtime/*_bench.c)
HARNESS_BENCHES = $(wildcard harness/*/*_bench.c)
HARNESS_FIXTURES = $(wildcard harness/*/*_fixture.c)

# llhttp, the HTTP/1.1 parser of Node.js, from Debian's node-llhttp package
# (C sources in /usr/share/llhttp): compiled into the harness, never copied
# into the repository.  Its files are named here, not found by wildcard,
# because on a fresh machine they exist only after install-deps has run.
LLHTTP_DIR ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp
LLHTTP_NAMES = api http llhttp
llhttp_objs = $(patsubst %,$(BUILD)/$(1)/llhttp/%.o,$(LLHTTP_NAMES))

# examples/go-seed (rules in "go example" below).
GO ?= go
GO_SEED      = $(BUILD)/go-seed/go-seed
GO_SEED_TEST = $(BUILD)/go-seed/go-seed.test
GO_SEED_SRC  = examples/go-seed/go.mod $(wildcard examples/go-seed/*.go)
GO_ENV = GOCACHE=$(abspath $(BUILD))/go/cache GOPATH=$(abspath $(BUILD))/go/path GOPROXY=off \
         GOFLAGS= GO111MODULE=on GOTOOLCHAIN=local
GO_CHECK = @command -v $(GO) >/dev/null 2>&1 || { echo "make: '$(GO)' not found: examples/go-seed \
needs Go (Debian package golang-go, which scripts/install-deps installs; or GO=/path/to/go)" >&2; exit 1; }

objs = $(patsubst %,$(BUILD)/$(1)/%.o,$(basename $(2)))

# The programs build on every core unless the command line says otherwise
# (make -j1 ...): make test compiles about 450 objects in three variants.
# Recipes that run things (the tests, the benchmarks) are single recipes,
# so they still run one thing at a time.
ifeq ($(filter -j% j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif


DEPS_STAMP = $(BUILD)/.deps-ok

.PHONY: all run test bench format clean deps man install uninstall
# Objects are intermediates of the test and bench programs: keep them, or
# every `make test` would rebuild everything.
.SECONDARY:
all: $(BUILD)/leakbench $(GO_SEED)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps
	@mkdir -p $(BUILD)
	scripts/install-deps
	@touch $@

# ------------------------------------------------------------ compile --
define variant_rules
$(BUILD)/$(1)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) $$(CFLAGS) -c $$< -o $$@
$(BUILD)/$(1)/%.o: %.S | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) $$(CFLAGS) -c $$< -o $$@
# llhttp is third-party code: built with its own warning level.
$(BUILD)/$(1)/llhttp/%.o: | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) -std=c11 -g -O2 $$(CFLAGS_$(1)) -I$(LLHTTP_INC) -c $(LLHTTP_DIR)/$$*.c -o $$@
# One program per runtime test file, linked with the runtime.
$(BUILD)/$(1)/runtime/%_test: $(BUILD)/$(1)/runtime/%_test.o $(call objs,$(1),$(RUNTIME_SRC))
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) $$^ -o $$@ -lcmocka $$(LDLIBS)
# Harness and scenario tests link everything but main.c.  Objects, not an
# archive: scenarios register themselves from constructors.
$(BUILD)/$(1)/harness/%_test: $(BUILD)/$(1)/harness/%_test.o $(call objs,$(1),$(HARNESS_SRC) $(SCENARIO_SRC) $(RUNTIME_SRC)) $(call llhttp_objs,$(1))
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) $$^ -o $$@ -lcmocka $$(LDLIBS)
$(BUILD)/$(1)/scenarios/%_test: $(BUILD)/$(1)/scenarios/%_test.o $(call objs,$(1),$(HARNESS_SRC) $(SCENARIO_SRC) $(RUNTIME_SRC)) $(call llhttp_objs,$(1))
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) $$^ -o $$@ -lcmocka $$(LDLIBS)
$(BUILD)/$(1)/runtime/%_bench: $(BUILD)/$(1)/runtime/%_bench.o $(call objs,$(1),$(RUNTIME_SRC))
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) $$^ -o $$@ $$(LDLIBS)
$(BUILD)/$(1)/harness/%_bench: $(BUILD)/$(1)/harness/%_bench.o $(call objs,$(1),$(HARNESS_SRC) $(SCENARIO_SRC) $(RUNTIME_SRC)) $(call llhttp_objs,$(1))
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) $$^ -o $$@ $$(LDLIBS)
# A fixture is a small program of its own: only llhttp (http_test_server.h).
$(BUILD)/$(1)/harness/%_fixture: $(BUILD)/$(1)/harness/%_fixture.o $(call llhttp_objs,$(1))
	$$(CC) $$(CFLAGS_COMMON) $$(CFLAGS_$(1)) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach v,rel tsan asan,$(eval $(call variant_rules,$(v))))

# results.json and --version carry VERSION and REVISION, which only reach
# an object when it is compiled: rebuild the two objects that embed them
# whenever either changes (the stamp is rewritten only on a change).
VERSION_STAMP = $(BUILD)/.version
$(VERSION_STAMP): FORCE
	@mkdir -p $(BUILD)
	@echo '$(VERSION) $(REVISION)' | cmp -s - $@ || echo '$(VERSION) $(REVISION)' > $@
.PHONY: FORCE
$(foreach v,rel tsan asan,$(BUILD)/$(v)/harness/run/results.o $(BUILD)/$(v)/harness/cli/main.o): $(VERSION_STAMP)

$(BUILD)/leakbench: $(call objs,rel,harness/cli/main.c $(HARNESS_SRC) $(SCENARIO_SRC) $(RUNTIME_SRC)) $(call llhttp_objs,rel)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_rel) $^ -o $@ $(LDLIBS)
# The AddressSanitizer build of the tool itself: the asan harness tests run
# it, so ASan checks the binary under test, not only the test driver.
$(BUILD)/asan/leakbench: $(call objs,asan,harness/cli/main.c $(HARNESS_SRC) $(SCENARIO_SRC) $(RUNTIME_SRC)) $(call llhttp_objs,asan)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_asan) $^ -o $@ $(LDLIBS)
# The ThreadSanitizer build of the tool: make test runs `leakbench serve`
# (http_serve_test, with its stress on both schedulers) and an HTTP gate
# (harness/testdata/http_tsan.json: server child and load engine) with it,
# so the server's tasks, the poller thread and the engine are checked for
# data races.
$(BUILD)/tsan/leakbench: $(call objs,tsan,harness/cli/main.c $(HARNESS_SRC) $(SCENARIO_SRC) $(RUNTIME_SRC)) $(call llhttp_objs,tsan)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_tsan) $^ -o $@ $(LDLIBS)

# --------------------------------------------------------- go example --
# examples/go-seed, the seed as a real Go service (standard library only,
# a go.mod with no requirements), built offline with Debian's golang-go:
# its build cache and GOPATH live under $(BUILD), the module proxy is off.
# Its Go test is compiled into a test binary here and run by `make test`.
$(GO_SEED): $(filter-out %_test.go,$(GO_SEED_SRC)) | $(DEPS_STAMP)
	$(GO_CHECK)
	@mkdir -p $(dir $@)
	cd examples/go-seed && $(GO_ENV) $(GO) build -o $(abspath $@) .
$(GO_SEED_TEST): $(GO_SEED_SRC) | $(DEPS_STAMP)
	$(GO_CHECK)
	@mkdir -p $(dir $@)
	cd examples/go-seed && $(GO_ENV) $(GO) vet . && $(GO_ENV) $(GO) test -c -o $(abspath $@) .

# ---------------------------------------------------------------- run --
run: $(BUILD)/leakbench
	$(BUILD)/leakbench run scenarios/seed.json

# --------------------------------------------------------------- test --
test_bin = $(patsubst %.c,$(BUILD)/$(1)/%,$(2))
SCHEDULERS ?= threads coroutines
TEST_TIMEOUT ?= 300
# sched_coro_test sets its own scheduler, workers and seed: it runs in the
# coroutines matrix only (once per sanitizer variant), not again as a
# "threads" or one-worker run that would test the same thing twice.
RUNTIME_TESTS_threads = $(filter-out runtime/sched_coro_test.c,$(RUNTIME_TESTS))
RUNTIME_TESTS_coroutines = $(RUNTIME_TESTS)
# A reproducible run: the coroutine scheduler on one worker with a fixed
# select seed (rerun a failure with the same LEAKBENCH_* values).
REPRO_ENV ?= LEAKBENCH_SCHED=coroutines LEAKBENCH_WORKERS=1 LEAKBENCH_SEED=1

# What the harness tests find in their environment besides LEAKBENCH: the
# Go example and the fixture targets (built in rel only: they are targets,
# not code under test).
TEST_ENV = LEAKBENCH_GO_SEED=$(GO_SEED) LEAKBENCH_TARGET_FIXTURE=$(call test_bin,rel,harness/run/target_fixture.c)

# Every test program run by `make test`, as LABEL|SECONDS|COMMAND; with a
# ';' after each entry, because commands contain spaces (make's foreach
# would split them into words).  scripts/run-tests runs them TEST_JOBS at a
# time (default: one per CPU).  The threshold gates judge real runs'
# recovery times and leak counts, so they run `alone`; the catalog gate's
# pipelines sleep through their service times (7.6 s of CPU in 114 s), so it
# runs `light`: from the start, beside the others, without taking a slot.
# ALONE_TESTS are test programs that check something a neighbour's CPU use
# would disturb: load_schedule_test asserts the HTTP engine keeps a 200/s
# schedule (it failed beside three others at a load average of 200), and
# catalog_test counts every pattern's leaked tasks exactly, with timing
# margins that four ASan programs side by side broke both ways (16 and 20
# leaked where 18 is right).
ALONE_TESTS = harness/run/load_schedule_test.c scenarios/catalog_test.c
# $(call harness_run,VARIANT,TEST[,MODE|]): a harness test's entry; the ASan
# tests drive the ASan build of the tool.
tool_rel = $(BUILD)/leakbench
tool_asan = $(BUILD)/asan/leakbench
harness_run = $(1)-$(notdir $(2:.c=))|$(TEST_TIMEOUT)|$(3)LEAKBENCH=$(tool_$(1)) $(TEST_ENV) $(call test_bin,$(1),$(2));
TEST_RUNS = \
  gate-catalog|600|light|$(BUILD)/leakbench run --quiet --no-report -o $(BUILD)/gate-catalog --junit $(BUILD)/gate-catalog/junit.xml scenarios/catalog.json; \
  layers|60|scripts/check-layers; layers-self-test|60|scripts/check-layers --self-test; \
  run-tests|60|scripts/test-run-tests; install|120|scripts/test-install; html|180|scripts/check-html $(BUILD)/leakbench; \
  $(foreach s,$(SCHEDULERS),$(foreach v,rel tsan asan,$(foreach t,$(RUNTIME_TESTS_$(s)),\
    $(v)-$(s)-$(notdir $(t:.c=))|$(TEST_TIMEOUT)|LEAKBENCH_SCHED=$(s) $(call test_bin,$(v),$(t));))) \
  $(if $(filter coroutines,$(SCHEDULERS)),$(foreach t,$(RUNTIME_TESTS_threads),\
    rel-coroutines-1worker-$(notdir $(t:.c=))|$(TEST_TIMEOUT)|$(REPRO_ENV) $(call test_bin,rel,$(t));)) \
  $(foreach v,rel asan,$(foreach t,$(filter-out $(ALONE_TESTS),$(HARNESS_TESTS)),$(call harness_run,$(v),$(t)))) \
  tsan-http_serve_test|$(TEST_TIMEOUT)|LEAKBENCH=$(BUILD)/tsan/leakbench $(call test_bin,rel,harness/run/http_serve_test.c); \
  go-seed-test|$(TEST_TIMEOUT)|$(GO_SEED_TEST) -test.count=1; \
  $(foreach v,rel asan,$(foreach t,$(ALONE_TESTS),$(call harness_run,$(v),$(t),alone|))) \
  gate-quick|$(TEST_TIMEOUT)|alone|$(BUILD)/leakbench run --quiet --no-report -o $(BUILD)/gate --junit $(BUILD)/gate/junit.xml scenarios/quick.json; \
  gate-http-quick|$(TEST_TIMEOUT)|alone|$(BUILD)/leakbench run --quiet --no-report -o $(BUILD)/gate-http --junit $(BUILD)/gate-http/junit.xml scenarios/http_quick.json; \
  gate-http-tsan|$(TEST_TIMEOUT)|alone|$(BUILD)/tsan/leakbench run --quiet --no-report -o $(BUILD)/gate-http-tsan harness/testdata/http_tsan.json; \
  gate-go-seed|$(TEST_TIMEOUT)|alone|$(BUILD)/leakbench run --quiet --no-report -o $(BUILD)/gate-go-seed --junit $(BUILD)/gate-go-seed/junit.xml examples/go-seed/gate.json;

TEST_PROGRAMS = $(BUILD)/leakbench $(BUILD)/asan/leakbench $(BUILD)/tsan/leakbench $(GO_SEED) $(GO_SEED_TEST) \
  $(call test_bin,rel,$(HARNESS_FIXTURES)) \
  $(foreach v,rel tsan asan,$(call test_bin,$(v),$(RUNTIME_TESTS))) \
  $(foreach v,rel asan,$(call test_bin,$(v),$(HARNESS_TESTS)))

test: $(TEST_PROGRAMS)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
	scripts/run-tests $(BUILD)/test-logs '$(strip $(TEST_RUNS))'

# -------------------------------------------------------------- bench --
# bench/run runs the runtime benchmarks on both schedulers and their Go
# twins (bench/go/, standard library only) interleaved over BENCH_ROUNDS
# rounds, and prints bench/compare's JSON summary (per figure both medians
# and the ratio leakbench / Go).  Without Go the twins are skipped and the
# summary says so.  Go's caches stay under $(BUILD)/go, and GOPROXY=off:
# the twins need nothing but the standard library.  The harness benchmarks
# (harness/*/*_bench.c) run after it, each printing its own JSON.
BENCH_ROUNDS ?= 3
GO ?= $(shell command -v go 2>/dev/null)
GO_TWINS = $(if $(GO),$(BUILD)/go/rt_bench $(BUILD)/go/sched_coro_bench)
GO_ENV = GOCACHE=$(abspath $(BUILD))/go/cache GOPATH=$(abspath $(BUILD))/go/path \
         GOPROXY=off GOFLAGS= GO111MODULE=on GOTELEMETRY=off
$(BUILD)/go/%: bench/go/%/main.go bench/go/benchutil/benchutil.go bench/go/go.mod
	@mkdir -p $(BUILD)/go
	cd bench/go && $(GO_ENV) $(GO) build -o $(abspath $(BUILD))/go/$* ./$*
$(BUILD)/rel/bench/compare: $(BUILD)/rel/bench/compare.o
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_rel) $^ -o $@ $(LDLIBS)
bench: $(call test_bin,rel,$(RUNTIME_BENCHES)) $(BUILD)/rel/bench/compare $(GO_TWINS) \
       $(call test_bin,rel,$(HARNESS_BENCHES))
	@BENCH_WITH_GO=$(if $(GO),1,0) bench/run $(BUILD) $(BENCH_ROUNDS)
	@for b in $(call test_bin,rel,$(HARNESS_BENCHES)); do $$b || exit 1; done

# ------------------------------------------------------------ install --
# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the gnuplot
# templates (found by the binary at ../share/leakbench/plots), the man page
# (generated from the binary's own --help by scripts/make-man) and bash and
# zsh completion.
PREFIX ?= /usr/local
BINDIR = $(DESTDIR)$(PREFIX)/bin
SHAREDIR = $(DESTDIR)$(PREFIX)/share
$(BUILD)/leakbench.1: $(BUILD)/leakbench scripts/make-man
	scripts/make-man $(BUILD)/leakbench $(VERSION) > $@.tmp && mv $@.tmp $@
man: $(BUILD)/leakbench.1
install: $(BUILD)/leakbench $(BUILD)/leakbench.1
	install -d $(BINDIR) $(SHAREDIR)/leakbench/plots $(SHAREDIR)/man/man1 \
	  $(SHAREDIR)/bash-completion/completions $(SHAREDIR)/zsh/site-functions
	install -m 755 $(BUILD)/leakbench $(BINDIR)/leakbench
	install -m 644 plots/*.gp $(SHAREDIR)/leakbench/plots/
	install -m 644 $(BUILD)/leakbench.1 $(SHAREDIR)/man/man1/leakbench.1
	install -m 644 contrib/leakbench.bash $(SHAREDIR)/bash-completion/completions/leakbench
	install -m 644 contrib/_leakbench $(SHAREDIR)/zsh/site-functions/_leakbench
uninstall:
	rm -f $(BINDIR)/leakbench $(SHAREDIR)/man/man1/leakbench.1 \
	  $(SHAREDIR)/bash-completion/completions/leakbench $(SHAREDIR)/zsh/site-functions/_leakbench
	rm -rf $(SHAREDIR)/leakbench

format:
	clang-format -i $(wildcard runtime/*.[ch] harness/*/*.[ch] scenarios/*.[ch] bench/*.c)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
