# hockey.gp — one panel per server workload with open-loop cells: p99 latency
# (corrected for coordinated omission) against the offered rate, a line per model,
# log y: the "hockey stick" where each server's latency turns up.
# Called by concbench report as gnuplot -c hockey.gp RUN_DIR TERM EXT: the run folder is data
# (cd ARG1), never part of a command; every file is named relative to it.
# hockey.dat: workload model offered_rate p99_ms achieved_req_per_s
cd ARG1
set terminal @ARG2 font "sans,10"
set output "hockey.".ARG3
data = "hockey.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 2 ? n : 2
rows = (n + cols - 1) / cols
set multiplot layout rows, cols title "concbench servers: p99 latency against offered load (open loop, corrected for coordinated omission)"
set logscale y
set format x "%.0s%c"
set grid xtics ytics
set xlabel "offered load (requests/s)"
set ylabel "p99 latency (ms)"
set key outside right top font ",9" noenhanced
set style data linespoints
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  plot for [j=1:words(models)] sprintf("< awk '$1==\"%s\" && $2==\"%s\"' %s", w, word(models, j), data) using 3:4 lw 2 pt (j + 4) title word(models, j)
}
unset multiplot
