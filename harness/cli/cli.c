/*
 * cli.c — the table of subcommands that harness/cli/cmd_*.c files register
 * from constructors (LB_COMMAND in cli.h).
 *
 * It lives apart from main.c so that test programs, which link every
 * harness object except main.c, still link when they pull in a file that
 * registers a command.  Registration happens before main() runs, in a
 * single thread, so the table needs no lock.
 */
#include "cli.h"

#include <stddef.h>
#include <string.h>

#define LB_MAX_COMMANDS 16
static const lb_command *commands[LB_MAX_COMMANDS];
static int n_commands;

void lb_command_register(const lb_command *c)
{
    if (n_commands < LB_MAX_COMMANDS) commands[n_commands++] = c;
}

int lb_command_count(void)
{
    return n_commands;
}

const lb_command *lb_command_at(int i)
{
    return i >= 0 && i < n_commands ? commands[i] : NULL;
}

const lb_command *lb_command_find(const char *name)
{
    for (int i = 0; i < n_commands; i++)
        if (!strcmp(name, commands[i]->name)) return commands[i];
    return NULL;
}
