/*
 * jsonutil.c — small jansson helpers shared by the harness's JSON readers
 * (see jsonutil.h).
 */
#include "jsonutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lb_json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value"; /* jansson has no other type; keeps the compiler content */
}

json_t *lb_jpath(const json_t *obj, const char *dotted)
{
    char key[128];
    json_t *cur = (json_t *)obj;
    while (cur && *dotted) {
        size_t len = strcspn(dotted, ".");
        if (len >= sizeof key) return NULL;
        memcpy(key, dotted, len);
        key[len] = 0;
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        dotted += len + (dotted[len] == '.');
    }
    return cur;
}

double lb_jnum_path(const json_t *obj, const char *dotted)
{
    const json_t *j = lb_jpath(obj, dotted);
    return json_is_number(j) ? json_number_value(j) : NAN;
}

double lb_jnum(const json_t *obj, const char *key)
{
    const json_t *j = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_number(j) ? json_number_value(j) : NAN;
}

const char *lb_jstr_path(const json_t *obj, const char *dotted)
{
    const json_t *j = lb_jpath(obj, dotted);
    return json_is_string(j) ? json_string_value(j) : NULL;
}

const char *lb_jstr(const json_t *obj, const char *key)
{
    const json_t *j = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(j) ? json_string_value(j) : NULL;
}

int lb_jbool_path(const json_t *obj, const char *dotted)
{
    const json_t *j = lb_jpath(obj, dotted);
    return json_is_true(j) ? 1 : json_is_false(j) ? -1 : 0;
}

void lb_json_round_reals(json_t *j, int digits)
{
    if (json_is_real(j)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*g", digits, json_real_value(j));
        json_real_set(j, strtod(buf, NULL));
    } else if (json_is_array(j)) {
        size_t i;
        json_t *item;
        json_array_foreach(j, i, item) lb_json_round_reals(item, digits);
    } else if (json_is_object(j)) {
        const char *key;
        json_t *value;
        json_object_foreach(j, key, value) lb_json_round_reals(value, digits);
    }
}
