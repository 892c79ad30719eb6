/*
 * gnuplot.c — quoting, staging and launching for gnuplot (gnuplot.h has
 * the rules and why).
 */
#include "gnuplot.h"
#include "core/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------- quoting -- */

/* Length of the valid UTF-8 sequence at S, or 0 (overlong forms,
 * surrogates and values above U+10FFFF are invalid). */
static size_t utf8_sequence_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))) return 0;
    if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))) return 0;
    return n;
}

void lb_gnuplot_quote(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    if (!*p) {
        fputs("''", f);
        return;
    }
    bool first = true;
    while (*p) {
        if (!first) fputs(" . ", f);
        first = false;
        if (*p == '\'') {
            /* A run of K quotes: a double-quoted string of an even number
             * of them, cut to K when K is odd ("''"[1:1]).  An odd count
             * would flip the quote tracking of gnuplot's @macro expander,
             * which counts single quotes even inside double quotes. */
            size_t k = strspn((const char *)p, "'");
            fputc('"', f);
            for (size_t i = 0; i < k + k % 2; i++) fputc('\'', f);
            fputc('"', f);
            if (k % 2) fprintf(f, "[1:%zu]", k);
            p += k;
            continue;
        }
        fputc('\'', f);
        while (*p && *p != '\'') {
            if (*p < 0x20 || *p == 0x7f) {
                fputc(' ', f);
                p++;
            } else if (*p < 0x80) {
                fputc(*p++, f);
            } else {
                size_t n = utf8_sequence_len(p);
                if (n) {
                    fwrite(p, 1, n, f);
                    p += n;
                } else {
                    fputc('?', f);
                    p++;
                }
            }
        }
        fputc('\'', f);
    }
}

void lb_gnuplot_set_string(FILE *f, const char *name, const char *s)
{
    fprintf(f, "%s = ", name);
    lb_gnuplot_quote(f, s);
    fputc('\n', f);
}

void lb_gnuplot_set_number(FILE *f, const char *name, double v)
{
    if (isfinite(v))
        fprintf(f, "%s = %.9g\n", name, v);
    else
        fprintf(f, "%s = NaN\n", name);
}

/* ---------------------------------------------------------- staging -- */

int lb_gnuplot_stage_open(lb_gnuplot_stage *s, const char *parent, const char *prefix)
{
    memset(s, 0, sizeof *s);
    if (snprintf(s->dir, sizeof s->dir, "%s/%s.tmp.XXXXXX", parent, prefix) >= (int)sizeof s->dir)
        return -ENAMETOOLONG;
    if (!mkdtemp(s->dir)) {
        int e = errno;
        s->dir[0] = 0;
        return -e;
    }
    return 0;
}

int lb_gnuplot_stage_mkdir(lb_gnuplot_stage *s, const char *rel)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", s->dir, rel);
    return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* Records REL; images are marked by a leading '!' (never a file name we
 * write: names are slugs). */
static int stage_record(lb_gnuplot_stage *s, const char *rel, bool image)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        char **files = realloc(s->files, cap * sizeof *files);
        if (!files) return -ENOMEM;
        s->files = files;
        s->cap = cap;
    }
    size_t len = strlen(rel);
    char *name = malloc(len + 2);
    if (!name) return -ENOMEM;
    name[0] = image ? '!' : '=';
    memcpy(name + 1, rel, len + 1);
    s->files[s->n++] = name;
    return 0;
}

int lb_gnuplot_stage_write(lb_gnuplot_stage *s, const char *rel, const char *data, size_t len)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", s->dir, rel);
    FILE *f = fopen(path, "w");
    if (!f) return -errno;
    size_t w = fwrite(data, 1, len, f);
    int rc = w == len ? 0 : -EIO;
    if (fclose(f) != 0 && !rc) rc = -errno;
    int record_rc = stage_record(s, rel, false);
    return rc ? rc : record_rc;
}

int lb_gnuplot_stage_stream(lb_gnuplot_stage *s, const char *rel, char **buf, size_t *len, FILE *f)
{
    int rc = fclose(f) == 0 && *buf ? lb_gnuplot_stage_write(s, rel, *buf, *len) : -ENOMEM;
    free(*buf);
    *buf = NULL;
    return rc;
}

int lb_gnuplot_stage_expect(lb_gnuplot_stage *s, const char *rel)
{
    return stage_record(s, rel, true);
}

/* ------------------------------------------------------- templates -- */

static bool has_templates(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/style.gp", dir);
    return access(p, R_OK) == 0;
}

int lb_gnuplot_templates_dir(char *buf, size_t n)
{
    const char *env = getenv("LEAKBENCH_PLOTS_DIR");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return has_templates(buf) ? 0 : -ENOENT;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        /* A build tree (build/leakbench, build/rel/...) or an installed
         * PREFIX/bin/leakbench beside PREFIX/share/leakbench/plots. */
        static const char *const up[] = {"/plots", "/../plots", "/../../plots", "/../../../plots",
                                         "/../share/leakbench/plots"};
        for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
            snprintf(buf, n, "%s%s", exe, up[i]);
            if (has_templates(buf)) return 0;
        }
    }
    snprintf(buf, n, "plots");
    return has_templates(buf) ? 0 : -ENOENT;
}

int lb_gnuplot_stage_templates(lb_gnuplot_stage *s, const char *from, const char *const *names,
                               size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char path[4200], rel[64];
        snprintf(path, sizeof path, "%s/%s", from, names[i]);
        FILE *f = fopen(path, "r");
        if (!f) return -errno;
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m) {
            fclose(f);
            return -ENOMEM;
        }
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
        int err = ferror(f);
        fclose(f);
        if (err) {
            fclose(m);
            free(buf);
            return -EIO;
        }
        snprintf(rel, sizeof rel, "plots/%s", names[i]);
        int rc = lb_gnuplot_stage_stream(s, rel, &buf, &len, m);
        if (rc) return rc;
    }
    return 0;
}

/* mkdir -p for the directories in REL's name under DEST. */
static int make_parents(const char *dest, const char *rel)
{
    char path[4400];
    int n = snprintf(path, sizeof path, "%s/%s", dest, rel);
    if (n >= (int)sizeof path) return -ENAMETOOLONG;
    for (char *p = path + strlen(dest) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        int rc = mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
        *p = '/';
        if (rc) return rc;
    }
    return 0;
}

static bool ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n >= k && !strcmp(path + n - k, suffix);
}

/* A rendered image is complete: a non-empty regular file that, for PNG
 * and SVG, ends the way the format ends (the IEND chunk; the closing
 * </svg>).  On a full disk gnuplot exits 0 having written an empty SVG
 * or a PNG cut short, and neither may replace a good chart. */
static bool complete_image(const char *path)
{
    /* The IEND chunk's type and CRC: the last 8 bytes of every PNG. */
    static const unsigned char png_end[8] = {'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return false;
    bool png = ends_with(path, ".png"), svg = ends_with(path, ".svg");
    if (!png && !svg) return true;
    unsigned char tail[64];
    size_t want = (size_t)st.st_size < sizeof tail ? (size_t)st.st_size : sizeof tail;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t got = pread(fd, tail, want, st.st_size - (off_t)want);
    close(fd);
    if (got != (ssize_t)want) return false;
    if (png)
        return want >= sizeof png_end &&
               !memcmp(tail + want - sizeof png_end, png_end, sizeof png_end);
    size_t end = want;
    while (end > 0 && (tail[end - 1] == '\n' || tail[end - 1] == '\r' || tail[end - 1] == ' '))
        end--;
    return end >= 6 && !memcmp(tail + end - 6, "</svg>", 6);
}

int lb_gnuplot_stage_finish(lb_gnuplot_stage *s, const char *dest, lb_gnuplot_keep keep,
                            int *moved_images)
{
    int rc = 0, images = 0;
    if (keep != LB_GNUPLOT_KEEP_NOTHING && mkdir(dest, 0755) < 0 && errno != EEXIST) rc = -errno;
    for (size_t i = 0; i < s->n; i++) {
        bool image = s->files[i][0] == '!';
        const char *rel = s->files[i] + 1;
        char from[4400], to[4400];
        snprintf(from, sizeof from, "%s/%s", s->dir, rel);
        snprintf(to, sizeof to, "%s/%s", dest, rel);
        bool wanted = keep == LB_GNUPLOT_KEEP_ALL || (keep == LB_GNUPLOT_KEEP_INPUTS && !image);
        if (!rc && wanted && (!image || complete_image(from))) {
            rc = make_parents(dest, rel);
            if (!rc && rename(from, to) < 0) rc = -errno;
            if (!rc && image) images++;
        }
    }
    /* Everything not moved: also directories made for files that were
     * never written (a full disk stops the inputs half-way). */
    if (s->dir[0]) lb_remove_tree(s->dir);
    for (size_t i = 0; i < s->n; i++) free(s->files[i]);
    free(s->files);
    s->files = NULL;
    s->n = s->cap = 0;
    if (moved_images) *moved_images = images;
    return rc;
}

/* -------------------------------------------------------- launching -- */

bool lb_on_path(const char *name)
{
    const char *path = getenv("PATH");
    char def[256];
    if (!path) {
        size_t n = confstr(_CS_PATH, def, sizeof def);
        path = (n > 0 && n <= sizeof def) ? def : "/bin:/usr/bin";
    }
    while (path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        char full[4200];
        if (len == 0)
            snprintf(full, sizeof full, "./%s", name);
        else
            snprintf(full, sizeof full, "%.*s/%s", (int)len, path, name);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0) return true;
        path = colon ? colon + 1 : NULL;
    }
    return false;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The child's side: only async-signal-safe calls.  Reports a failure to
 * start through EXEC_FD (closed on a successful exec). */
static void exec_gnuplot(const char *dir, const char *script, int err_fd, int exec_fd)
{
    int e = 0;
    struct rlimit as = {(rlim_t)LB_GNUPLOT_MAX_MEMORY_MIB << 20,
                        (rlim_t)LB_GNUPLOT_MAX_MEMORY_MIB << 20};
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(err_fd, 2) < 0 ||
        chdir(dir) < 0 || setrlimit(RLIMIT_AS, &as) < 0) {
        e = errno;
    } else {
        char *const argv[] = {"gnuplot", "-d", (char *)script, NULL};
        execvp("gnuplot", argv);
        e = errno;
    }
    ssize_t ignored = write(exec_fd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

/* Reads FD until EOF or DEADLINE, keeping the last bytes in TAIL (size
 * N, NUL-terminated).  False when the deadline passed first. */
static bool read_tail_until(int fd, double deadline, char *tail, size_t n)
{
    size_t len = 0;
    tail[0] = 0;
    for (;;) {
        int left_ms = (int)((deadline - now_s()) * 1000);
        if (left_ms <= 0) return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left_ms);
        if (r <= 0) continue; /* EINTR or the deadline: the loop decides */
        char chunk[1024];
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return true;
        if (len + (size_t)got >= n) { /* drop the oldest bytes */
            size_t drop = len + (size_t)got - (n - 1);
            if (drop > len) drop = len;
            memmove(tail, tail + drop, len - drop);
            len -= drop;
        }
        size_t take = (size_t)got < n - 1 - len ? (size_t)got : n - 1 - len;
        memcpy(tail + len, chunk + (size_t)got - take, take);
        len += take;
        tail[len] = 0;
    }
}

/* The last LINES meaningful lines of gnuplot's error output TEXT as one
 * paragraph in OUT: blank lines and the caret line under an echoed
 * command are dropped, the rest joined with "; ", control bytes shown as
 * spaces. */
static void error_paragraph(const char *text, int lines, char *out, size_t n)
{
    const char *keep[16];
    size_t keep_len[16];
    int k = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t blanks = strspn(line, " \t\r^");
        if (blanks < len) {
            if (k == lines) {
                memmove(keep, keep + 1, (size_t)(k - 1) * sizeof *keep);
                memmove(keep_len, keep_len + 1, (size_t)(k - 1) * sizeof *keep_len);
                k--;
            }
            size_t lead = strspn(line, " \t");
            keep[k] = line + lead;
            keep_len[k++] = len - lead;
        }
        line += len + (end != NULL);
    }
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < k && o + 1 < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%.*s", i ? "; " : "", (int)keep_len[i], keep[i]);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
}

int lb_gnuplot_run(const char *dir, const char *script, int timeout_s, char *msg, size_t msglen)
{
    if (timeout_s <= 0) timeout_s = LB_GNUPLOT_TIMEOUT_S;
    msg[0] = 0;
    int errp[2], execp[2];
    if (pipe2(errp, O_CLOEXEC) < 0) return -errno;
    if (pipe2(execp, O_CLOEXEC) < 0) {
        int e = errno;
        close(errp[0]);
        close(errp[1]);
        return -e;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(errp[0]);
        close(errp[1]);
        close(execp[0]);
        close(execp[1]);
        snprintf(msg, msglen, "cannot start gnuplot: fork: %s", strerror(e));
        return -e;
    }
    if (pid == 0) exec_gnuplot(dir, script, errp[1], execp[1]);
    close(errp[1]);
    close(execp[1]);
    int child_errno = 0;
    ssize_t got;
    do got = read(execp[0], &child_errno, sizeof child_errno);
    while (got < 0 && errno == EINTR);
    close(execp[0]);

    char tail[2048];
    bool finished = read_tail_until(errp[0], now_s() + timeout_s, tail, sizeof tail);
    close(errp[0]);
    if (!finished) kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -errno;

    if (got == (ssize_t)sizeof child_errno) {
        snprintf(msg, msglen, "cannot run gnuplot: %s", strerror(child_errno));
        return child_errno ? -child_errno : -ECHILD;
    }
    if (!finished) {
        snprintf(msg, msglen, "gnuplot did not finish within %d s and was killed", timeout_s);
        return -ETIMEDOUT;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    char said[800];
    error_paragraph(tail, 6, said, sizeof said);
    if (WIFEXITED(status))
        snprintf(msg, msglen, "gnuplot exited with status %d: %.700s", WEXITSTATUS(status),
                 *said ? said : "(no error output)");
    else
        snprintf(msg, msglen, "gnuplot was killed by signal %d (%s)%s%.700s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), *said ? ": " : "", said);
    return -ECHILD;
}
