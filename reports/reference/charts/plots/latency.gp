# latency.gp — request latency percentiles (p50, p90, p99, p99.9, max) of
# both variants as clustered bars.
# Inputs: scen, lat_dat (rows: label, leaky ms, graceful ms), lat_log,
# lat_leaky and lat_graceful (0/1: the variant has figures).
reset
load 'plots/style.gp'
set title sprintf('Request latency: %s', scen) noenhanced font ',12'
set ylabel 'latency (ms)'
set xlabel 'percentile'
set format y '%g'
set key top left
set grid noxtics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:*]
if (lat_log) {
    set logscale y
    set yrange [*:*]
    set ylabel 'latency (ms, log scale)'
}
# A variant without latency figures (it did not run) gets no bars: a
# histogram column without a valid point is an error in gnuplot.
cmd = ''
if (lat_leaky) { cmd = cmd . ", lat_dat using 2:xtic(1) ls 1 title leaky_title" }
if (lat_graceful) { cmd = cmd . ", lat_dat using 3:xtic(1) ls 2 title graceful_title" }
eval 'plot ' . cmd[3:]
