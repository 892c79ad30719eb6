# rss.gp — resident memory (RSS) over time, leaky and graceful together,
# phases shaded, memory guard drawn.  Inputs as tasks.gp, with column 4
# (RSS in MiB), rss_log, mem_guard_mib + has_mem_guard, end_y_rss and
# end_text_rss.
reset
load 'plots/style.gp'
series_style = few_points ? 'linespoints pt 7 ps 0.6' : 'lines'
load 'plots/phases.gp'
set title sprintf('Resident memory (RSS): %s', scen) noenhanced font ',12'
set xlabel 'time since start (s)'
set ylabel 'RSS (MiB)'
set format y '%g'
set autoscale xfix
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
if (rss_log) {
    set logscale y
    set yrange [*:*]
    set ylabel 'RSS (MiB, log scale)'
}
if (has_kill) {
    set arrow 201 from kill_t, graph 0 to kill_t, graph 1 nohead ls 4 front
    set label 201 kill_text at kill_t, graph 0.84 right offset -0.5, 0 front noenhanced
}
if (has_end_note) {
    set label 202 end_text_rss at end_x, end_y_rss right offset -1, -1 front noenhanced tc rgb '#d62728'
}
plot for [i=1:has_leaky] leaky_dat using 1:4 with @series_style ls 1 title 'leaky (before fix)', \
     for [i=1:has_graceful] graceful_dat using 1:4 with @series_style ls 2 title 'graceful (after fix)', \
     for [i=1:has_mem_guard] mem_guard_mib with lines ls 3 title 'memory guard limit'
