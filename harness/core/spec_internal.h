/*
 * spec_internal.h — the spec validator's helpers, for the parts of the
 * spec kept in files of their own (target_spec.c).  Not for other
 * layers: everything here formats errors the way spec.c does
 * ("file: $.json.path: message") into the spec's lb_spec_error.
 */
#ifndef LEAKBENCH_SPEC_INTERNAL_H
#define LEAKBENCH_SPEC_INTERNAL_H

#include "spec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lb_spec_validator {
    const char *file;
    lb_spec_error *err;
    bool partial; /* a fragment (defaults, suite entry): no required keys or cross checks */
} lb_spec_validator;

/* Formats "file: path: message" into v->err; returns -EINVAL. */
int lb_spec_fail(const lb_spec_validator *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* out = base + "." + key, truncated to n - 1 characters. */
void lb_spec_join_path(char *out, size_t n, const char *base, const char *key);
int lb_spec_get_integer(const lb_spec_validator *v, const json_t *j, const char *path, int64_t min,
                        int64_t max, int64_t *out);
int lb_spec_get_string(const lb_spec_validator *v, const json_t *j, const char *path,
                       const char **out);
int lb_spec_get_object(const lb_spec_validator *v, const json_t *j, const char *path);
/* Rejects keys not in the NULL-terminated list, naming the ones known. */
int lb_spec_check_keys(const lb_spec_validator *v, const json_t *obj, const char *path,
                       const char *const *known);

/* target_spec.c: validates the "target" object at path into out. */
int lb_target_spec_parse(const lb_spec_validator *v, const json_t *j, const char *path,
                         lb_target_spec *out);

#endif
