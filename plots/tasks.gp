# tasks.gp — live tasks over time, leaky and graceful twins together, with
# the run's phases shaded and the task guard drawn.
# Inputs: scen (title text), leaky_dat, graceful_dat (data files, column 1
# time in s, 3 live tasks), has_leaky, has_graceful (0/1), tasks_log (0/1),
# big_counts (0/1: label the axis 10k, 20k...),
# tasks_guard + has_tasks_guard, the phase times read by phases.gp, and
# few_points (0/1: mark samples), the kill/leftover annotation: has_kill, kill_t, kill_text, has_end_note,
# end_x, end_y_tasks, end_text_tasks.
reset
load 'plots/style.gp'
series_style = few_points ? 'linespoints pt 7 ps 0.6' : 'lines'
load 'plots/phases.gp'
set title sprintf('Live tasks: %s', scen) noenhanced font ',12'
set xlabel 'time since start (s)'
set ylabel 'live tasks (count)'
if (!big_counts) { set format y '%g' }
set autoscale xfix
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
if (tasks_log) {
    set logscale y
    set yrange [*:*]
    set ylabel 'live tasks (count, log scale)'
}
if (has_kill) {
    set arrow 201 from kill_t, graph 0 to kill_t, graph 1 nohead ls 4 front
    set label 201 kill_text at kill_t, graph 0.84 right offset -0.5, 0 front noenhanced
}
if (has_end_note) {
    set label 202 end_text_tasks at end_x, end_y_tasks right offset -1, -1 front noenhanced tc rgb '#d62728'
}
plot for [i=1:has_leaky] leaky_dat using 1:3 with @series_style ls 1 title 'leaky (before fix)', \
     for [i=1:has_graceful] graceful_dat using 1:3 with @series_style ls 2 title 'graceful (after fix)', \
     for [i=1:has_tasks_guard] tasks_guard with lines ls 3 title 'task guard limit'
