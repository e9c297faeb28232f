"""concbench's Python peers: the seed's experiment (seed 003) as rows of the same
harness. peer.py is the entry; cell.py reads the cell and writes the results;
work.py computes what a job must produce (bit for bit the C workloads'); one
style_*.py per way of running the jobs."""
