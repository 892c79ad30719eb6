# summary.gp — the before/after table as three bar panels: peak live tasks,
# peak RSS and recovery time, leaky beside graceful, values printed on the
# bars.  A variant that never recovered gets no bar, only its label.
# Inputs: scen, sum_dat, sum_tasks_log, sum_rss_log, sum_rec_log.
# sum_dat columns: 1 x, 2 variant, 3 line type, then per panel a value,
# the height of its label and the label: 4-6 tasks, 7-9 RSS MiB,
# 10-12 recovery ms.
reset
set multiplot layout 1, 3 title sprintf('%s: %s', summary_title, scen) noenhanced font ',12'
do for [p=1:3] {
    reset
    load 'plots/style.gp'
    unset key
    set grid noxtics
    set format y '%g'
    set style fill solid 0.85 border -1
    set boxwidth 0.6
    set xrange [-0.6:1.6]
    set xtics scale 0
    set bmargin 4
    set offsets 0, 0, graph 0.15, 0
    set title (p == 1 ? 'peak live tasks' : p == 2 ? 'peak resident memory' : 'recovery time')
    unit = (p == 1 ? 'tasks (count' : p == 2 ? 'RSS (MiB' : 'end of load to baseline (ms')
    islog = (p == 1 ? sum_tasks_log : p == 2 ? sum_rss_log : sum_rec_log)
    set yrange [0:*]
    set ylabel unit . ')'
    if (islog) {
        set logscale y
        set yrange [*:*]
        set format y '%.0s%c'
        set ylabel unit . ', log scale)'
    }
    base = 1 + 3 * p
    plot sum_dat using 1:base:3:xtic(2) with boxes lc variable, \
         '' using 1:base + 1:base + 2 with labels offset 0, 0.8 noenhanced
}
unset multiplot
