# tasks.gp — live tasks over time, leaky and graceful twins together, with
# the run's phases shaded and the task guard drawn.
# Inputs (set by charts.gp):
#   scen                      title text
#   leaky_dat, graceful_dat   data files (column 1 time in s, 3 live tasks)
#   has_leaky, has_graceful   0/1; few_points 0/1 (mark the samples)
#   tasks_log, big_counts     0/1: log axis; label the axis 10k, 20k...
#   tasks_guard, tasks_guard_mode, tasks_guard_text
#                             the limit; 0 none, 1 drawn, 2 key entry only
#   t_load0 ... t_exit        phase times (phases.gp)
#   has_kill, kill_t, kill_text              a guard that killed the leaky run
#   has_end_note, end_x, end_y_tasks, end_text_tasks   what was left behind
reset
load 'plots/style.gp'
load 'plots/phases.gp'
set title sprintf('Live tasks: %s', scen) noenhanced font ',12'
set xlabel 'time since start (s)'
set ylabel 'live tasks (count)'
if (!big_counts) { set format y '%g' }
set autoscale xfix
if (t_exit == t_exit) { set xrange [0:t_exit] }
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
if (tasks_log) {
    set logscale y
    set yrange [*:*]
    set ylabel 'live tasks (count, log scale)'
}
if (has_kill) {
    set arrow 201 from kill_t, graph 0 to kill_t, graph 1 nohead ls 4 front
    # Beside the line, on the side with more room, below the key.
    if (t_exit != t_exit || kill_t < 0.6 * t_exit) {
        set label 201 kill_text at kill_t, graph 0.55 left offset 0.5, 0 front noenhanced
    } else {
        set label 201 kill_text at kill_t, graph 0.55 right offset -0.5, 0 front noenhanced
    }
}
if (has_end_note) {
    set label 202 end_text_tasks at end_x, end_y_tasks right offset -1, -1 front noenhanced tc rgb '#d62728'
}
# The plot command is assembled from fixed pieces (text from the results
# file is only ever referenced by variable name, never pasted in), because
# an empty `for [i=1:0]` iteration still plots once in gnuplot 5.4.
cmd = ''
if (has_leaky) { cmd = cmd . ", leaky_dat using 1:3 with " . series_with(1) . " title leaky_title" }
if (has_graceful) { cmd = cmd . ", graceful_dat using 1:3 with " . series_with(2) . " title graceful_title" }
if (tasks_guard_mode == 1) { cmd = cmd . ", tasks_guard with lines ls 3 title tasks_guard_text" }
if (tasks_guard_mode == 2) { cmd = cmd . ", keyentry with lines ls 3 title tasks_guard_text" }
eval 'plot ' . cmd[3:]
