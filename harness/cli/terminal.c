/*
 * terminal.c — the terminal's width (terminal.h): the kernel's window size
 * for a terminal, else what the shell exported, else the classic 80.
 */
#include "terminal.h"

#include "core/units.h"

#include <math.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

int lb_terminal_columns(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    double c;
    if (env && lb_scan_decimal(env, &c) && c >= 1 && c <= 10000 && c == floor(c)) return (int)c;
    return 80;
}

int lb_tty_columns(int fd)
{
    return isatty(fd) ? lb_terminal_columns(fd) : 0;
}
