module concbench/peers/go

go 1.19
