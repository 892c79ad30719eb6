/*
 * host.c — reads the host fingerprint (host.h) from uname(2),
 * /proc/cpuinfo, /proc/meminfo and /proc/sys/kernel/pid_max.
 */
#include "host.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static int64_t meminfo_field(const char *name)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[256];
    int64_t v = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f)) {
        long long kb;
        if (!strncmp(line, name, len) && line[len] == ':' &&
            sscanf(line + len + 1, "%lld", &kb) == 1) {
            v = (int64_t)kb * 1024;
            break;
        }
    }
    fclose(f);
    return v;
}

int64_t lb_mem_available(void)
{
    return meminfo_field("MemAvailable");
}

void lb_host_read(lb_host *h)
{
    memset(h, 0, sizeof *h);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(h->kernel, sizeof h->kernel, "%.60s %.100s %.60s", u.sysname, u.release,
                 u.machine);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10)) continue;
            char *colon = strchr(line, ':');
            if (!colon) continue;
            colon++;
            while (*colon == ' ' || *colon == '\t') colon++;
            colon[strcspn(colon, "\n")] = 0;
            snprintf(h->cpu_model, sizeof h->cpu_model, "%s", colon);
            break;
        }
        fclose(f);
    }
    h->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    h->mem_total_bytes = meminfo_field("MemTotal");
    h->mem_available_bytes = meminfo_field("MemAvailable");
#if defined(__clang__)
    snprintf(h->compiler, sizeof h->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(h->compiler, sizeof h->compiler, "gcc %s", __VERSION__);
#else
    snprintf(h->compiler, sizeof h->compiler, "unknown");
#endif
    h->pid_max = -1;
    f = fopen("/proc/sys/kernel/pid_max", "r");
    if (f) {
        if (fscanf(f, "%d", &h->pid_max) != 1) h->pid_max = -1;
        fclose(f);
    }
}

static json_t *int_or_null(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

json_t *lb_host_to_json(const lb_host *h)
{
    return json_pack("{s:s, s:s, s:i, s:o, s:o, s:s, s:o}", "kernel", h->kernel, "cpu_model",
                     h->cpu_model, "cpus", h->cpus, "mem_total_bytes",
                     int_or_null(h->mem_total_bytes), "mem_available_bytes",
                     int_or_null(h->mem_available_bytes), "compiler", h->compiler, "pid_max",
                     int_or_null(h->pid_max));
}
