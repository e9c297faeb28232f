# hockey.gp — one panel per server workload with open-loop cells: p99 latency
# (corrected for coordinated omission) against the offered rate, a line per model,
# log y: the "hockey stick" where each server's latency turns up.
# Called by concbench report as gnuplot -c hockey.gp RUN_DIR TERM EXT TITLE: the run folder is data
# (cd ARG1), never part of a command; every file is named relative to it.
# hockey.dat: workload model offered_rate p99_ms achieved_req_per_s
cd ARG1
load "style.gp"
set terminal @ARG2 font "sans,11"
set output "hockey.".ARG3
data = "hockey.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 2 ? n : 2
rows = (n + cols - 1) / cols
set multiplot layout rows, cols title cb_title(ARG4) noenhanced
set logscale y
set format x "%.0s%c"
set format y "%.0s %cs"
set grid xtics ytics
set xlabel "offered load (requests/s)"
set ylabel "p99 latency"
set key outside right top Left reverse samplen 2 width -1 font ",9" noenhanced
set style data linespoints
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  eval CB_ORDER
  plot for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:($4 / 1000) lw 2 lc rgb cb_lc(word(models, j)) pt cb_pt(word(models, j)) dt cb_dt(word(models, j)) title word(models, j), \
       for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:($4 / 1000):(sprintf("%s at %s req/s offered: p99 %s", word(models, j), cb_si($3), cb_eng($4 / 1000))) with labels hypertext point pt cb_pt(word(models, j)) lc rgb cb_lc(word(models, j)) notitle
}
unset multiplot
