/*
 * hash.h — FNV-1a, 64 bits: the one string hash of the harness.  Used
 * where a hash must be the same on every machine and in every release
 * (a Go stack's identity in goprof.c, a scenario's shard in ci/shard.c),
 * so it is spelled out here rather than borrowed from a library whose
 * function might change.
 */
#ifndef LEAKBENCH_HASH_H
#define LEAKBENCH_HASH_H

#include <stddef.h>
#include <stdint.h>

#define LB_FNV1A64_BASIS 14695981039346656037ull

/* Folds n bytes into the running hash h (start from LB_FNV1A64_BASIS). */
static inline uint64_t lb_fnv1a64(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

#endif
