/*
 * shard.c — the shard rule, the suite's name and the commit under test
 * (shard.h).  The commit comes from the first of the CI systems'
 * environment variables that is set, else from git, run without a shell
 * (fork, exec, a pipe for its one line of output) so that no path can be
 * taken for a command.
 */
#include "shard.h"

#include "core/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A positive decimal with no sign, blanks or leading zeros; 0 on junk. */
static int scan_positive(const char *s, size_t n)
{
    if (n == 0 || n > 4 || s[0] == '0') return 0;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int lb_shard_parse(const char *text, lb_shard *out)
{
    const char *slash = strchr(text, '/');
    if (!slash) return -EINVAL;
    int index = scan_positive(text, (size_t)(slash - text));
    int count = scan_positive(slash + 1, strlen(slash + 1));
    if (index < 1 || count < 1 || index > count || count > LB_SHARD_MAX_COUNT) return -EINVAL;
    out->index = index;
    out->count = count;
    return 0;
}

int lb_shard_of(const char *name, int count)
{
    return (int)(lb_fnv1a64(LB_FNV1A64_BASIS, name, strlen(name)) % (uint64_t)count) + 1;
}

bool lb_shard_contains(const lb_shard *s, const char *name)
{
    return s->count == 0 || lb_shard_of(name, s->count) == s->index;
}

void lb_suite_name(const lb_spec *specs, int n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < n && used < len; i++) {
        const char *name = specs[i].suite[0] ? specs[i].suite
                           : specs[i].n      ? specs[i].items[0].name
                                             : "";
        int w = snprintf(buf + used, len - used, "%s%s", i ? "+" : "", name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* ------------------------------------------------------------- commit -- */

static bool commit_text_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return false;
    return true;
}

/* `git -C dir rev-parse --verify --quiet HEAD`'s line into buf, or "". */
static void commit_from_git(const char *dir, char *buf, size_t len)
{
    buf[0] = 0;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 2) < 0 || dup2(p[1], 1) < 0)
            _exit(127);
        char *argv[] = {"git", "-C", (char *)dir, "rev-parse", "--verify", "--quiet", "HEAD", NULL};
        execvp("git", argv);
        _exit(127);
    }
    close(p[1]);
    size_t got = 0;
    ssize_t r;
    while (pid > 0 && got + 1 < len && (r = read(p[0], buf + got, len - 1 - got)) != 0) {
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        got += (size_t)r;
    }
    close(p[0]);
    buf[got] = 0;
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    buf[strcspn(buf, "\n")] = 0;
    if (pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !commit_text_ok(buf))
        buf[0] = 0;
}

int lb_commit_detect(const char *spec_path, char *buf, size_t len, char *err, size_t errlen)
{
    static const char *const vars[] = {"LEAKBENCH_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (!v) continue;
        if (!commit_text_ok(v)) {
            snprintf(err, errlen,
                     "$%s: not a commit (1-128 bytes, no blanks or control characters)", vars[i]);
            return -EINVAL;
        }
        snprintf(buf, len, "%s", v);
        return 0;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", spec_path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    commit_from_git(dir, buf, len);
    return 0;
}

/* ------------------------------------------------------------ results -- */

/* "fnv1a64:<16 hex digits>" of every scenario spec as run, each as
 * compact JSON with sorted keys.  0 or -ENOMEM. */
static int suite_fingerprint(const lb_spec *specs, int n_specs, char *buf, size_t len)
{
    uint64_t h = LB_FNV1A64_BASIS;
    for (int i = 0; i < n_specs; i++)
        for (int k = 0; k < specs[i].n; k++) {
            json_t *j = lb_scenario_spec_to_json(&specs[i].items[k]);
            char *text =
                j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10)) : NULL;
            json_decref(j);
            if (!text) return -ENOMEM;
            h = lb_fnv1a64(h, text, strlen(text) + 1);
            free(text);
        }
    snprintf(buf, len, "fnv1a64:%016llx", (unsigned long long)h);
    return 0;
}

int lb_shard_mark(json_t *doc, const char *suite, const char *commit, const lb_shard *shard,
                  const lb_spec *specs, int n_specs)
{
    int rc = json_object_set_new(doc, "suite", json_string(suite));
    rc |= json_object_set_new(doc, "commit", commit[0] ? json_string(commit) : json_null());
    if (rc || shard->count == 0) return rc ? -ENOMEM : 0;
    char fingerprint[32];
    if (suite_fingerprint(specs, n_specs, fingerprint, sizeof fingerprint)) return -ENOMEM;
    json_t *names = json_array();
    for (int i = 0; i < n_specs; i++)
        for (int k = 0; k < specs[i].n; k++)
            rc |= json_array_append_new(names, json_string(specs[i].items[k].name));
    json_t *o =
        json_pack("{s:i, s:i, s:s, s:o, s:s}", "index", shard->index, "count", shard->count, "rule",
                  LB_SHARD_RULE, "suite_scenarios", names, "suite_spec", fingerprint);
    if (rc || !o) {
        json_decref(o);
        return -ENOMEM;
    }
    return json_object_set_new(doc, "shard", o) ? -ENOMEM : 0;
}
