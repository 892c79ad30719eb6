/*
 * goprof.h — Go's goroutine profile text (net/http/pprof's
 * /debug/pprof/goroutine?debug=1 and ?debug=2), parsed into stacks.
 *
 * debug=1 is what the go_pprof probe reads on its interval: a total and
 * one record per distinct stack with its count ("12 @ 0x43b256 ..." then
 * "#\t0x676dd9\tmain.f+0xd9\t/src/main.go:122" lines).  It has no wait
 * state: the runtime frames that would show it are elided.  debug=2 is
 * what the leak report reads once, at the end of settle: one record per
 * goroutine, "goroutine 42 [chan send, 3 minutes]:", its frames
 * ("main.f(...)" then "\t/src/main.go:122 +0xda") and "created by".
 * Goroutines of a debug=2 dump are grouped into stacks as they are read,
 * so 50,000 identical leaked goroutines cost one stack and an array of
 * their wait minutes.
 *
 * Frames of package runtime and compiler wrappers are left out (the two
 * formats elide them differently).  A stack's key is a hash of its frames (function without
 * arguments or offset, file, line), which both formats print alike: a debug=2 stack and the debug=1
 * record of the same goroutines have the same key, which is how periodic debug=1 snapshots give
 * each debug=2 group its growth.
 *
 * Parsing is a pure function of the text.  Anything that is not one of
 * the two formats, or a record cut short, is -EBADMSG with the line and
 * column and what was expected in err; a debug=1 text whose counts do not
 * add up to its total (truncated) too.
 */
#ifndef LEAKBENCH_GOPROF_H
#define LEAKBENCH_GOPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_GO_MAX_FRAMES 32   /* frames kept per stack; deeper ones only hashed */
#define LB_GO_MAX_STACKS 4096 /* distinct stacks kept; the rest counted in other */

typedef struct lb_go_frame {
    char func[160]; /* "main.(*server).leakyWork.func1" */
    char file[256]; /* as the binary recorded it: absolute, or module-relative (-trimpath) */
    int line;
} lb_go_frame;

typedef struct lb_go_stack {
    uint64_t key;   /* hash of every frame (also those past LB_GO_MAX_FRAMES) */
    int64_t count;  /* goroutines with this stack (and, for debug=2, this state) */
    char state[40]; /* debug=2 wait reason: "chan send", "select", "IO wait"; "" for debug=1 */
    int n_frames;   /* frames kept, innermost first */
    int depth;      /* frames seen (> n_frames when some were not kept) */
    lb_go_frame frames[LB_GO_MAX_FRAMES];
    bool has_creator; /* debug=2 "created by" */
    lb_go_frame creator;
    /* debug=2: wait minutes of each goroutine (-1 where Go printed none:
     * it prints whole minutes, and only from one minute on). */
    int64_t *wait_minutes;
    size_t n_waits, cap_waits;
    int64_t example_id; /* debug=2: the first goroutine of the group */
} lb_go_stack;

typedef struct lb_go_profile {
    int debug;     /* 1 or 2: the format that was parsed */
    int64_t total; /* goroutines */
    int n_stacks;
    lb_go_stack *stacks; /* in order of first appearance */
    int64_t other;       /* goroutines in stacks past LB_GO_MAX_STACKS */
} lb_go_profile;

/* Parses debug=1 or debug=2 text (n bytes, need not be NUL-terminated).
 * 0, -EBADMSG with "line L:C: ..." in err, or -ENOMEM.  Free with
 * lb_go_profile_free, also after an error. */
int lb_go_profile_parse(const char *text, size_t n, lb_go_profile *out, char *err, size_t errn);

/* A hash of one frame (function, file, line). */
uint64_t lb_go_frame_hash(const lb_go_frame *f);

/* The stack with key (and state, unless NULL) in p, or NULL. */
const lb_go_stack *lb_go_profile_find(const lb_go_profile *p, uint64_t key, const char *state);

void lb_go_profile_free(lb_go_profile *p);

#endif
