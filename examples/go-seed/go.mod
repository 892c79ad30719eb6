module leakbench/examples/go-seed

go 1.19
