# trend.gp — `leakbench history`'s chart: one metric of one variant over
# the runs of a history file, a line per scenario, in the report charts'
# style (style.gp), with the dates of the runs on the x axis and each
# scenario's threshold on the metric, where it has one, as a dashed step
# line (a threshold can change from run to run).
# Inputs (set by trend.gp's caller, ci/history.c):
#   title_text, ylabel_text     the title and the y axis's label
#   n_series                    scenarios; seriesK their names (K = 1..n)
#   has_seriesK, has_boundK     0/1: a number to plot, a threshold to draw
#   boundK_text                 the threshold's key entry
#   by_date                     1: x is the run's date (trend.dat column 3,
#                               seconds since the epoch); 0: the run number
#   span_s                      the dates' span (picks the tic format)
#   tic_labels                  1: one tic per run labelled with trend.dat's
#                               column 4 (date and commit), for short histories
#   marks                       1: a marker on every run
#   y_from_zero                 1: the axis starts at 0 (a slope may be negative)
#   n_steps, step_xK, step_textK  change points found by --detect
# trend.dat: run, commit, date_s, label, then a value per series, then a
# threshold per series ('?' where there is none).
reset
load 'plots/style.gp'
set datafile missing '?'
set title title_text noenhanced font ',12'
set ylabel ylabel_text noenhanced
set format y '%g'
if (y_from_zero) { set yrange [0:*] }
set offsets graph 0.02, graph 0.02, graph 0.1, 0
if (n_series > 3) { set key outside right top }
xcol = by_date ? 3 : 1
if (by_date) {
    set xdata time
    set timefmt '%s'
    set xlabel 'date of the run (UTC)'
    if (span_s < 2 * 86400) { set format x "%m-%d\n%H:%M" } else { set format x '%Y-%m-%d' }
} else {
    set xlabel 'run (oldest to newest)'
    set format x '%.0f'
}
set xtics nomirror rotate by -30 noenhanced
# Room on the right for the last tic label, which hangs past the axis.
set rmargin 8
do for [i = 1:n_steps] {
    set arrow i from value(sprintf('step_x%d', i)), graph 0 to value(sprintf('step_x%d', i)), graph 1 nohead dt 2 lw 1.5 lc rgb '#c0392b'
    set label i value(sprintf('step_text%d', i)) at value(sprintf('step_x%d', i)), graph 0.97 left offset 0.5, 0 tc rgb '#c0392b' noenhanced
}
# The plot command is assembled from fixed pieces and numbers; names are
# only ever referenced by variable name, never pasted in.
tics = tic_labels ? ':xtic(4)' : ''
style = marks ? 'linespoints lw 2.5 pt 7 ps 0.8' : 'lines lw 2.5'
cmd = ''
do for [k = 1:n_series] {
    if (value(sprintf('has_series%d', k))) {
        cmd = cmd . sprintf(", 'trend.dat' using %d:%d%s with %s lt %d title series%d", xcol, 4 + k, tics, style, k, k)
        tics = ''
    }
}
do for [k = 1:n_series] {
    if (value(sprintf('has_bound%d', k))) {
        if (n_series == 1) {
            cmd = cmd . sprintf(", 'trend.dat' using %d:%d with steps ls 3 title bound%d_text", xcol, 4 + n_series + k, k)
        } else {
            cmd = cmd . sprintf(", 'trend.dat' using %d:%d with steps lt %d dt 2 lw 1.5 title bound%d_text", xcol, 4 + n_series + k, k, k)
        }
    }
}
eval 'plot ' . cmd[3:]
