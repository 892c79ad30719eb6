/*
 * full_disk_test.c — `leakbench run` and `leakbench report` on a full
 * filesystem: the run directory is either the old run, byte for byte, or
 * the complete new one (results.json a leakbench results document,
 * samples.csv, report.md and report.html, every chart the report shows
 * there and complete), never a mix; no staging or old directory is left
 * beside it; and `report` never moves an empty or cut-short chart into
 * charts/ (the old one stays).
 *
 * A chart that could not be written whole (gnuplot exits 0 with an empty
 * or cut-short image on a full disk) is a write failure like any other.
 *
 * The filesystem is a small tmpfs mounted in a private mount namespace of
 * this test process (unshare(CLONE_NEWNS)), which the leakbench processes
 * it starts share: the mount ends with the process whatever happens to
 * it, so no mount is ever left behind.  Where that is not allowed (not
 * root, no CAP_SYS_ADMIN, a container without mount rights) the tests are
 * skipped and say why.  The disk is filled to several levels of free
 * space, from none to most of what a run writes, so the failure hits a
 * different file each time (results.json, samples.csv, the chart data,
 * the images, report.md, report.html).
 */
#include "core/test_util.h"

#include <dirent.h>
#include <jansson.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static char tmp[64];
static char fs[128];   /* the tmpfs */
static char run[160];  /* fs/run, the run directory */
static char spec[128]; /* a spec of a few hundred ms */
static bool can_mount; /* a private mount namespace was made */
static char why_not[256];

static const char spec_text[] =
    "{\"scenario\": \"timeout_leak\", \"load\": {\"model\": \"constant\", \"rate\": 50, "
    "\"duration_ms\": 300}, \"service_time\": {\"dist\": \"uniform\", \"min_ms\": 1, \"max_ms\": "
    "20}, \"timeout_ms\": 10, \"payload_bytes\": 4096, \"pool_size\": 4, \"queue_capacity\": 8, "
    "\"settle_ms\": 200, \"shutdown_grace_ms\": 100, \"guards\": {\"tasks\": 2000}, "
    "\"scheduler\": \"threads\", \"seed\": 1}";

static int setup(void **state)
{
    (void)state;
    alarm(240); /* a dozen short runs on a busy machine */
    if (!can_mount) return 0;
    lb_test_make_tmpdir(tmp, sizeof tmp, "full-disk");
    snprintf(fs, sizeof fs, "%s/fs", tmp);
    snprintf(run, sizeof run, "%s/run", fs);
    snprintf(spec, sizeof spec, "%s/spec.json", tmp);
    assert_int_equal(mkdir(fs, 0755), 0);
    if (mount("tmpfs", fs, "tmpfs", 0, "size=6m") != 0) {
        snprintf(why_not, sizeof why_not, "mount -t tmpfs: %s", strerror(errno));
        can_mount = false;
    }
    FILE *f = fopen(spec, "w");
    assert_non_null(f);
    fputs(spec_text, f);
    assert_int_equal(fclose(f), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!tmp[0]) return 0;
    umount2(fs, MNT_DETACH);
    return lb_test_remove_tree(tmp);
}

static bool skipped(void)
{
    if (can_mount) return false;
    print_message("skip reason: cannot mount a private tmpfs here (%s)\n", why_not);
    skip();
    return true;
}

/* Runs the leakbench binary with ARGS (NULL-terminated) and output in
 * tmp/log; returns its exit code. */
static int leakbench(const char *const *args)
{
    const char *argv[16] = {lb_test_leakbench()};
    int argc = 1;
    while (*args && argc < 15) argv[argc++] = *args++;
    argv[argc] = NULL;
    char log[128];
    snprintf(log, sizeof log, "%s/log", tmp);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int run_into_fs(void)
{
    const char *args[] = {"run", "-q", "-o", run, spec, NULL};
    return leakbench(args);
}

/* ------------------------------------------------------- manifests -- */

typedef struct manifest {
    char *lines[256];
    int n;
    long long bytes;
} manifest;

static uint64_t fnv1a(const char *path, long long *size)
{
    uint64_t h = 1469598103934665603ULL;
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    int c;
    *size = 0;
    while ((c = fgetc(f)) != EOF) {
        h = (h ^ (unsigned char)c) * 1099511628211ULL;
        ++*size;
    }
    fclose(f);
    return h;
}

/* Every file below ROOT/REL: "path size hash" lines. */
static void walk(manifest *m, const char *root, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[512], full[1200];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        assert_int_equal(lstat(full, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            walk(m, root, sub);
            continue;
        }
        long long size;
        uint64_t h = fnv1a(full, &size);
        char line[700];
        snprintf(line, sizeof line, "%s %lld %016llx", sub, size, (unsigned long long)h);
        assert_true(m->n < 256);
        m->lines[m->n++] = strdup(line);
        m->bytes += size;
    }
    closedir(d);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void take(manifest *m, const char *root)
{
    memset(m, 0, sizeof *m);
    walk(m, root, "");
    qsort(m->lines, (size_t)m->n, sizeof *m->lines, by_text);
}

static bool same(const manifest *a, const manifest *b)
{
    if (a->n != b->n) return false;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->lines[i], b->lines[i])) return false;
    return true;
}

static void drop(manifest *m)
{
    for (int i = 0; i < m->n; i++) free(m->lines[i]);
    m->n = 0;
}

/* ------------------------------------------------------ the checks -- */

/* A PNG that ends with its IEND chunk, an SVG that ends with </svg>. */
static bool complete_image(const char *path)
{
    char *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    if (n <= 0) {
        fclose(f);
        return false;
    }
    text = malloc((size_t)n);
    fseek(f, 0, SEEK_SET);
    bool ok = fread(text, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    const char *ext = strrchr(path, '.');
    if (ok && !strcmp(ext, ".png"))
        ok = n >= 12 && !memcmp(text + n - 8, "IEND\xae\x42\x60\x82", 8);
    else if (ok && !strcmp(ext, ".svg"))
        ok = n >= 7 && memmem(text + (n > 16 ? n - 16 : 0), (size_t)(n > 16 ? 16 : n), "</svg>", 6);
    free(text);
    return ok;
}

/* Every image in DIR/charts is complete. */
static void assert_charts_complete(const char *dir)
{
    char charts[256];
    snprintf(charts, sizeof charts, "%s/charts", dir);
    DIR *d = opendir(charts);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *ext = strrchr(e->d_name, '.');
        if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".svg"))) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", charts, e->d_name);
        if (!complete_image(path)) print_error("an incomplete chart in place: %s\n", path);
        assert_true(complete_image(path));
    }
    closedir(d);
}

/* The complete new run: a leakbench results document, samples.csv, both
 * report files, charts drawn, and every chart report.md shows exists and
 * is complete. */
static void assert_complete_run(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/results.json", run);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) print_error("%s: %s\n", path, jerr.text);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "leakbench-results");
    json_decref(doc);
    snprintf(path, sizeof path, "%s/samples.csv", run);
    char *csv = lb_test_slurp(path);
    assert_non_null(csv);
    assert_true(strlen(csv) > 0);
    snprintf(path, sizeof path, "%s/report.html", run);
    char *html = lb_test_slurp(path);
    assert_non_null(html);
    assert_non_null(strstr(html, "</html>"));
    snprintf(path, sizeof path, "%s/report.md", run);
    char *md = lb_test_slurp(path);
    assert_non_null(md);
    assert_null(strstr(md, "Charts were not drawn"));
    for (char *p = md; (p = strstr(p, "](charts/")) != NULL; p++) {
        char rel[200] = "", img[400];
        sscanf(p + 2, "%199[^)]", rel);
        snprintf(img, sizeof img, "%s/%s", run, rel);
        if (!complete_image(img)) print_error("report.md shows %s: missing or incomplete\n", rel);
        assert_true(complete_image(img));
    }
    assert_charts_complete(run);
}

/* No file of the new run is the old run's: a new results.json beside the
 * old samples.csv is the mix the run directory must never be. */
static void assert_nothing_of(const manifest *old)
{
    static const char *const files[] = {"results.json ", "samples.csv ", "report.md ",
                                        "report.html "};
    manifest now;
    take(&now, run);
    for (int i = 0; i < now.n; i++)
        for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
            if (strncmp(now.lines[i], files[k], strlen(files[k]))) continue;
            for (int j = 0; j < old->n; j++)
                if (!strcmp(now.lines[i], old->lines[j]))
                    print_error("the old run's %s beside a new run\n", files[k]);
            for (int j = 0; j < old->n; j++) assert_string_not_equal(now.lines[i], old->lines[j]);
        }
    drop(&now);
}

/* The filesystem holds the run directory (and the filler) only. */
static void assert_nothing_beside(void)
{
    DIR *d = opendir(fs);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "run") ||
            !strcmp(e->d_name, "filler"))
            continue;
        print_error("left beside the run directory: %s\n", e->d_name);
        fail();
    }
    closedir(d);
}

/* Fills the filesystem until FREE bytes (rounded to pages) are left. */
static void fill_leaving(long long free_bytes)
{
    char filler[200];
    snprintf(filler, sizeof filler, "%s/filler", fs);
    struct statvfs sv;
    assert_int_equal(statvfs(fs, &sv), 0);
    long long avail = (long long)sv.f_bavail * (long long)sv.f_frsize;
    long long size = avail - free_bytes;
    if (size <= 0) return;
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    static char block[65536];
    while (size > 0) {
        ssize_t w = write(fd, block, size < (long long)sizeof block ? (size_t)size : sizeof block);
        if (w <= 0) break;
        size -= w;
    }
    close(fd);
}

static void unfill(void)
{
    char filler[200];
    snprintf(filler, sizeof filler, "%s/filler", fs);
    unlink(filler);
}

static void run_on_a_full_disk_leaves_the_old_run_or_the_complete_new_one(void **state)
{
    (void)state;
    if (skipped()) return;
    assert_int_equal(run_into_fs(), 0);
    assert_complete_run();
    manifest old;
    take(&old, run);
    long long total = old.bytes;
    int kept_old = 0, replaced = 0;
    /* From no room at all to more than a whole run: the write that fails
     * moves through results.json, samples.csv, the charts, report.md and
     * report.html (written in that order). */
    const double levels[] = {0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 1.5};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        fill_leaving((long long)(levels[i] * (double)total));
        int code = run_into_fs();
        unfill();
        manifest now;
        take(&now, run);
        char log[128];
        snprintf(log, sizeof log, "%s/log", tmp);
        print_message("free %.0f%% of a run: exit %d, %s; %s", levels[i] * 100, code,
                      same(&now, &old) ? "the old run" : "a new run", lb_test_slurp(log));
        if (same(&now, &old)) {
            assert_int_equal(code, 3); /* said it could not write */
            kept_old++;
        } else {
            assert_int_equal(code, 0); /* everything written, charts included */
            assert_complete_run();
            assert_nothing_of(&old);
            replaced++;
            drop(&old);
            take(&old, run);
        }
        drop(&now);
        assert_nothing_beside();
    }
    assert_true(kept_old > 0); /* no space at all kept the old run */
    assert_true(replaced > 0); /* room for a whole run replaced it */
    assert_int_equal(run_into_fs(), 0);
    assert_complete_run();
    assert_nothing_beside();
    drop(&old);
}

static void report_on_a_full_disk_never_moves_a_broken_chart_into_place(void **state)
{
    (void)state;
    if (skipped()) return;
    assert_int_equal(run_into_fs(), 0);
    manifest before;
    take(&before, run);
    long long total = before.bytes;
    const char *args[] = {"report", run, NULL};
    const double levels[] = {0, 0.1, 0.3};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        fill_leaving((long long)(levels[i] * (double)total));
        int code = leakbench(args);
        unfill();
        print_message("report with %.0f%% of a run free: exit %d\n", levels[i] * 100, code);
        if (levels[i] == 0) assert_int_equal(code, 3);
        assert_charts_complete(run);
        char path[300];
        snprintf(path, sizeof path, "%s/report.md", run);
        char *md = lb_test_slurp(path);
        assert_non_null(md); /* the old one or a new one, never none */
        DIR *d = opendir(run);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) assert_null(strstr(e->d_name, ".tmp."));
        closedir(d);
    }
    drop(&before);
}

int main(void)
{
    if (unshare(CLONE_NEWNS) != 0)
        snprintf(why_not, sizeof why_not, "unshare(CLONE_NEWNS): %s", strerror(errno));
    else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        snprintf(why_not, sizeof why_not, "making / private: %s", strerror(errno));
    else
        can_mount = true;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            run_on_a_full_disk_leaves_the_old_run_or_the_complete_new_one, setup, teardown),
        cmocka_unit_test_setup_teardown(report_on_a_full_disk_never_moves_a_broken_chart_into_place,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
