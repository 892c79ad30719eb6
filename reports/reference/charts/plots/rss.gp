# rss.gp — resident memory (RSS) over time, leaky and graceful together,
# phases shaded, memory guard drawn.  Inputs as tasks.gp, but column 4
# (RSS in MiB), rss_log, mem_guard_mb, mem_guard_mode, mem_guard_text,
# end_y_rss and end_text_rss.  The axis is linear (plot.c sets rss_log to
# 0): on a log axis a linear leak looks as if it levelled off.  A guard
# within three times the data is drawn as a line (mem_guard_mode 1); one
# far above it (mode 2) is marked by an arrow at the top edge, so it does
# not stretch the axis.
reset
load 'plots/style.gp'
load 'plots/phases.gp'
set title sprintf('Resident memory (RSS): %s', scen) noenhanced font ',12'
set xlabel 'time since start (s)'
set ylabel 'RSS (MiB)'
set format y '%g'
set autoscale xfix
if (t_exit == t_exit) { set xrange [0:t_exit] }
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
if (rss_log) {
    set logscale y
    set yrange [*:*]
    set ylabel 'RSS (MiB, log scale)'
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
    set label 202 end_text_rss at end_x, end_y_rss right offset -1, -1 front noenhanced tc rgb '#d62728'
}
# The plot command is assembled from fixed pieces (text from the results
# file is only ever referenced by variable name, never pasted in), because
# an empty `for [i=1:0]` iteration still plots once in gnuplot 5.4.
cmd = ''
if (has_leaky) { cmd = cmd . ", leaky_dat using 1:4 with " . series_with(1) . " title leaky_title" }
if (has_graceful) { cmd = cmd . ", graceful_dat using 1:4 with " . series_with(2) . " title graceful_title" }
if (mem_guard_mode == 1) { cmd = cmd . ", mem_guard_mb with lines ls 3 title mem_guard_text" }
if (mem_guard_mode == 2) {
    set arrow 203 from graph 0.995, graph 0.9 to graph 0.995, graph 1 head filled size screen 0.008, 25 ls 3 lw 1.5 dt 1 front
    set label 203 mem_guard_text at graph 0.985, graph 0.96 right front noenhanced tc rgb '#7f0000'
}
eval 'plot ' . cmd[3:]
