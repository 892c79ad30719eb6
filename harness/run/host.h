/*
 * host.h — the host fingerprint stored with every result: kernel, CPU
 * model and count, memory, compiler, pid_max.  Results from different
 * machines should not be compared blindly; this says which machine.
 */
#ifndef LEAKBENCH_HOST_H
#define LEAKBENCH_HOST_H

#include <jansson.h>
#include <stdint.h>

typedef struct lb_host {
    char kernel[256];                             /* "Linux 6.1.0-18-amd64 x86_64" */
    char cpu_model[256];                          /* /proc/cpuinfo "model name", "" if absent */
    int cpus;                                     /* online */
    int64_t mem_total_bytes, mem_available_bytes; /* -1 if unknown */
    char compiler[128];
    int pid_max; /* -1 if unknown */
} lb_host;

void lb_host_read(lb_host *h);
json_t *lb_host_to_json(const lb_host *h);
/* MemAvailable from /proc/meminfo in bytes, -1 if unknown. */
int64_t lb_mem_available(void);

#endif
