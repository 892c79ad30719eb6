# style.gp — the look shared by every leakbench chart: colours for the two
# variants, the phase shading, grid, key and fonts.  Loaded by the other
# templates after `reset`; sets nothing but styles (and series_with, the
# style of a time series).
#
# Line styles:  1 leaky (before fix)   2 graceful (after fix); their names
#               in keys and titles are leaky_title and graceful_title (plot.c:
#               "A (graceful)" and "B (graceful)" in an A/A run)
#               3 guard limit          4 guard kill marker
#               11..18 the task states of the stacked chart
set encoding utf8
set linetype 1 lc rgb '#d62728' lw 2.5
set linetype 2 lc rgb '#1f77b4' lw 2.5
set style line 1 lt 1
set style line 2 lt 2
set style line 3 lc rgb '#7f0000' lw 1.5 dt 2
set style line 4 lc rgb '#000000' lw 1.2 dt 3
set style line 11 lc rgb '#2ca02c'
set style line 12 lc rgb '#d62728'
set style line 13 lc rgb '#ff7f0e'
set style line 14 lc rgb '#9467bd'
set style line 15 lc rgb '#8c564b'
set style line 16 lc rgb '#e377c2'
set style line 17 lc rgb '#7f7f7f'
set style line 18 lc rgb '#17becf'
set style line 19 lc rgb '#bcbd22'
set grid ytics xtics lc rgb '#d0d0d0' lw 0.5 dt 1
set border 3
set tics nomirror out
set key top left opaque box lc rgb '#c0c0c0' noenhanced
set format y '%.0s%c'
# How a variant's time series is drawn: a line, with a marker on every
# sample when the run is short (few_points, set by charts.gp).  The line
# style must come before the point options: gnuplot 5.4 rejects
# `linespoints pt 7 ps 0.6 ls 1` as contradicting.
series_with(ls) = few_points ? sprintf('linespoints ls %d pt 7 ps 0.6', ls) : sprintf('lines ls %d', ls)
