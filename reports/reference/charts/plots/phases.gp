# phases.gp — shades the load, settle and shutdown phases of a run behind
# the data and names them in a strip just above the plot area (so the key,
# inside the plot, never hides them).  Inputs (numbers, NaN when the
# phase boundary is unknown): t_load0, t_load1, t_settle1, t_shut0, t_exit.
ok(x) = (x == x)
if (ok(t_load0) && ok(t_load1)) {
    set object 101 rect from t_load0, graph 0 to t_load1, graph 1 behind fc rgb '#fde9d0' fs solid 1.0 noborder
    set label 101 'load' at (t_load0 + t_load1) / 2, graph 1.0 center offset 0, 0.7 tc rgb '#a05a00' front
}
if (ok(t_load1) && ok(t_settle1)) {
    set object 102 rect from t_load1, graph 0 to t_settle1, graph 1 behind fc rgb '#e6f0e6' fs solid 1.0 noborder
    set label 102 'settle' at (t_load1 + t_settle1) / 2, graph 1.0 center offset 0, 0.7 tc rgb '#2f6b2f' front
}
if (ok(t_shut0) && ok(t_exit) && t_exit > t_shut0) {
    set object 103 rect from t_shut0, graph 0 to t_exit, graph 1 behind fc rgb '#ece4f4' fs solid 1.0 noborder
    # The shutdown phase is often narrow: anchor its name at its right edge.
    set label 103 'shutdown' at t_exit, graph 1.0 right offset 0, 0.7 tc rgb '#5a3d7a' front
}
set tmargin 4
