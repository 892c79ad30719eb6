/*
 * cmd_list.c — `leakbench list`: the scenario pairs compiled in, in
 * catalogue's order (README "The leak catalogue"), each with its trigger and source; --verbose adds
 * what the leaky twin does, the fix and the knobs.
 */
#include "cli.h"
#include "options.h"

#include "scenarios/scenario.h"

#include <stdio.h>
#include <string.h>

static int list_main(int argc, char **argv)
{
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: leakbench list [-v|--verbose]\n\n"
                   "Lists the scenario pairs (the names a spec's \"scenario\" field takes)\n"
                   "with the load knob that triggers each leak and where the pattern comes\n"
                   "from.  --verbose adds what the leaky twin does, the fix and the knobs.\n");
            return LB_EXIT_OK;
        }
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            verbose = true;
            continue;
        }
        static const struct option known[] = {{"verbose", no_argument, NULL, 'v'},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
        return lb_cli_unknown_option(stderr, "list", argv[i], known);
    }
    for (size_t i = 0; i < lb_scenario_count(); i++) {
        const lb_scenario *s = lb_scenario_at(i);
        printf("%-24s pattern %2d  %s\n", s->name, s->pattern, s->title);
        printf("    trigger: %s\n    source:  %s\n", s->trigger, s->source);
        if (!verbose) continue;
        printf("    leaky:   %s\n    fix:     %s\n", s->description, s->fix);
        for (int k = 0; k < s->n_knobs; k++) {
            const lb_knob *kn = &s->knobs[k];
            printf("    knob %s: %s (default %g, %g..%g%s)\n", kn->name, kn->help, kn->def, kn->min,
                   kn->max, kn->integer ? ", integer" : "");
        }
        printf("\n");
    }
    return LB_EXIT_OK;
}

static const lb_command cmd_list = {"list", "list the scenario pairs (leak patterns)", list_main};
LB_COMMAND(cmd_list)
