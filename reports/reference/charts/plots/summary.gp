# summary.gp — the before/after table as three bar panels: peak live tasks,
# peak RSS and recovery time, leaky beside graceful, values printed on the
# bars, each panel titled with the factor between the twins.  Linear axes
# only: a log axis would shrink the difference the chart is there to show.
# A variant that never recovered gets a full-height hatched bar labelled
# "never: restart required".
# Inputs: scen, sum_dat, sum_note_tasks, sum_note_rss, sum_note_rec,
# sum_rec_never, sum_rec_top.
# sum_dat columns: 1 x, 2 variant, 3 line type, then per panel a value,
# the height of its label and the label: 4-6 tasks, 7-9 RSS MiB,
# 10-12 recovery ms; 13 the height of a "never" bar (NaN when none).
reset
set multiplot layout 1, 3 title sprintf('%s: %s', summary_title, scen) noenhanced font ',12'
do for [p=1:3] {
    reset
    load 'plots/style.gp'
    unset key
    set grid noxtics
    set format y '%g'
    set style fill solid 0.85 border -1
    set style textbox opaque noborder
    set boxwidth 0.6
    set xrange [-0.6:1.6]
    set xtics scale 0
    set bmargin 4
    set offsets 0, 0, graph 0.15, 0
    name = (p == 1 ? 'peak live tasks' : p == 2 ? 'peak resident memory' : 'recovery time')
    note = (p == 1 ? sum_note_tasks : p == 2 ? sum_note_rss : sum_note_rec)
    set title (strlen(note) ? name . "\n" . note : name) noenhanced
    unit = (p == 1 ? 'tasks (count)' : p == 2 ? 'RSS (MiB)' : 'end of load to baseline (ms)')
    set yrange [0:*]
    if (p == 3 && sum_rec_never) {
        # The "never" bar is the panel's full height.
        set yrange [0:sum_rec_top]
        set offsets 0, 0, 0, 0
    }
    set ylabel unit
    base = 1 + 3 * p
    cmd = "sum_dat using 1:base:3:xtic(2) with boxes lc variable"
    if (p == 3 && sum_rec_never) {
        cmd = cmd . ", '' using 1:13:3 with boxes fs transparent pattern 4 lc variable"
    }
    cmd = cmd . ", '' using 1:base + 1:base + 2 with labels boxed offset 0, 0.8 noenhanced"
    eval 'plot ' . cmd
}
unset multiplot
