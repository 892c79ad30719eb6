/*
 * cmd_validate.c — `leakbench validate SPEC...`: loads and validates
 * scenario and suite files without running anything.  Prints one line per
 * file ("ok" with its scenarios, or the error with file and position/JSON
 * path); exit 0 when all are valid, 2 otherwise.  A scenario with a target
 * pair is shown whole: each program's command, directory, environment,
 * port, readiness check, probe and shutdown, defaults filled in.
 */
#include "cli.h"
#include "core/spec.h"

#include <stdio.h>
#include <string.h>

static int validate_main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: leakbench validate SPEC...\n");
        return LB_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        printf("usage: leakbench validate SPEC...\n\n"
               "Checks scenario and suite files as `leakbench run` would, runs nothing.\n"
               "Errors name the file and the line:column (JSON syntax) or the JSON path\n"
               "(unknown key, wrong type, value out of range).  Exit 0 if every file is\n"
               "valid, 2 otherwise.\n");
        return LB_EXIT_OK;
    }
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        lb_spec spec;
        lb_spec_error err;
        if (lb_spec_load(argv[i], &spec, &err) != 0) {
            fprintf(stderr, "%s\n", err.text);
            bad++;
            continue;
        }
        printf("%s: ok (", argv[i]);
        for (int k = 0; k < spec.n; k++) printf("%s%s", k ? ", " : "", spec.items[k].name);
        printf(")\n");
        for (int k = 0; k < spec.n; k++)
            if (spec.items[k].target.active)
                lb_target_spec_describe(stdout, spec.items[k].name, &spec.items[k].target);
        lb_spec_free(&spec);
    }
    return bad ? LB_EXIT_USAGE : LB_EXIT_OK;
}

static const lb_command cmd_validate = {"validate", "check scenario/suite files, run nothing",
                                        validate_main};
LB_COMMAND(cmd_validate)
