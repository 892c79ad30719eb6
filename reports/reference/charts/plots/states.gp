# states.gp — what the live tasks are doing, stacked: running or blocked on
# send, recv, select, sleep, a wait group, a lock, a join or socket I/O.
# One panel per variant, each with its own (linear) scale — the panel
# titles say so — phases shaded.
# Inputs: scen, leaky_dat, graceful_dat (columns 5..13 are the states in
# the order of `labels` below), has_leaky, has_graceful, phase times, and
# active: the numbers (1..9) of the states that are ever non-zero, e.g.
# '1 2 4 5' (states that never occur are left out of the stack and key).
array labels[9] = ['running', 'blocked in send', 'blocked in recv', 'blocked in select', \
                   'sleeping', 'blocked in wait group', 'blocked on a lock', \
                   'blocked in join', 'waiting for I/O']
reset
set multiplot layout (has_leaky + has_graceful), 1 title sprintf('Tasks by state (stacked): %s', scen) noenhanced font ',12'
do for [v=1:2] {
    if ((v == 1 && has_leaky) || (v == 2 && has_graceful)) {
        reset
        load 'plots/style.gp'
        load 'plots/phases.gp'
        set key outside right top vertical
        set style fill solid 0.85 noborder
        set xlabel 'time since start (s)'
        set ylabel 'tasks (count)'
        set format y '%g'
        set autoscale xfix
        if (t_exit == t_exit) { set xrange [0:t_exit] }
        set yrange [0:*]
        set offsets 0, 0, graph 0.1, 0
        set title (v == 1 ? leaky_title : graceful_title) . ', own scale'
        file = (v == 1 ? leaky_dat : graceful_dat)
        # Layer j stacks the first j active states; drawn top layer first.
        plot for [j=words(active):1:-1] file \
             using 1:(sum [k=1:j] (valid(4 + word(active, k)) ? column(4 + word(active, k)) : 0)) \
             with filledcurves x1 ls (10 + word(active, j)) title labels[word(active, j) + 0]
    }
}
unset multiplot
