# latency.gp — the latency of completed requests by percentile, one curve
# per variant, HdrHistogram style: x is the percentile on a log scale of
# 1/(1 - p) (1 at 0 %, 10 at 90 %, 100 at 99 %, ...), so the tail gets as
# much room as the body; each curve is a step per histogram bucket
# (latency_curve.c).  Timed-out requests are not on the curves (they end
# at the client timeout, drawn as a line): the key gives each variant's
# completed / timed-out split.
# Inputs: scen; lat_leaky_dat, lat_graceful_dat (rows: percentile %, 1/(1-p),
# ms); lat_leaky, lat_graceful (0/1: the variant has a curve);
# lat_leaky_key, lat_graceful_key (key titles with the split); lat_xmax (the
# axis's end, a power of ten); lat_timeout (ms, NaN unknown) and
# lat_timeout_text; lat_missing (0/1: the results file has no completed-only
# histogram, so there are no curves at all: the chart says so).
reset
load 'plots/style.gp'
set title sprintf('Latency of completed requests: %s', scen) noenhanced font ',12'
set xlabel 'percentile (log scale of 1/(1-p): each step right is ten times rarer)'
set ylabel 'latency (ms)'
set format y '%g'
set logscale x
set xrange [1:lat_xmax]
set xtics ('0%%' 1, '50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 1e5, '99.9999%%' 1e6, '99.99999%%' 1e7)
set mxtics 10
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set key top left
if (lat_missing) {
    set label 301 "This results file has no latency histogram of the completed requests\n(it was written by an older leakbench): run the scenario again to see\ntheir latency by percentile.  The key gives each variant's split." at graph 0.5, graph 0.45 center front
    set yrange [0:1]
    unset ytics
    unset xtics
    unset mxtics
    unset xlabel
    unset ylabel
    set border 0
}
# The plot command is assembled from fixed pieces (text from the results
# file is only ever referenced by variable name, never pasted in); a
# variant without a curve still gets its key entry, with its split.
cmd = ''
if (lat_leaky) { cmd = cmd . ", lat_leaky_dat using 2:3 with steps ls 1 title lat_leaky_key" }
if (!lat_leaky) { cmd = cmd . ", keyentry with lines ls 1 title lat_leaky_key" }
if (lat_graceful) { cmd = cmd . ", lat_graceful_dat using 2:3 with steps ls 2 title lat_graceful_key" }
if (!lat_graceful) { cmd = cmd . ", keyentry with lines ls 2 title lat_graceful_key" }
if (lat_timeout == lat_timeout && !lat_missing) { cmd = cmd . ", lat_timeout with lines ls 3 title lat_timeout_text" }
# Key entries alone are no plot to gnuplot 5.4 (it fails an assertion):
# without a curve, an empty function holds the axes.
if (!lat_leaky && !lat_graceful) { cmd = cmd . ", NaN notitle" }
eval 'plot ' . cmd[3:]
