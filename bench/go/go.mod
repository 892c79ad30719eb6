module leakbench/bench/go

go 1.19
