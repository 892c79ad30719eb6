/*
 * terminal.h — the width of the terminal leakbench prints to, for the
 * progress line and the wrapped text under the table.
 */
#ifndef LEAKBENCH_TERMINAL_H
#define LEAKBENCH_TERMINAL_H

/* Columns of the terminal on fd: TIOCGWINSZ, else $COLUMNS (a whole
 * number in 1..10000), else 80.  Asked afresh at every call, so a resized
 * window is followed. */
int lb_terminal_columns(int fd);

/* lb_terminal_columns(fd) when fd is a terminal, else 0: what the
 * printers take as "not a terminal, do not fit lines". */
int lb_tty_columns(int fd);

#endif
