/*
 * jsonutil.c — small jansson helpers shared by the harness's JSON readers
 * (see jsonutil.h).
 */
#include "jsonutil.h"

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
