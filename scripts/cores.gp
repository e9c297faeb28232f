# cores.gp — one panel per cpu workload: speedup over sync on one core against the
# cores the cell was pinned to (taskset), a line per model, and the linear ideal.
# Called by concbench report as gnuplot -c cores.gp RUN_DIR TERM EXT TITLE: the run folder is data
# (cd ARG1), never part of a command; every file is named relative to it.
# cores.dat: workload model cores speedup concurrency
cd ARG1
load "style.gp"
set terminal @ARG2 font "sans,11"
set output "cores.".ARG3
data = "cores.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 3 ? n : 3
rows = (n + cols - 1) / cols
maxc = system("awk 'BEGIN{m=1} $3>m{m=$3} END{print m}' ".data) + 0
set multiplot layout rows, cols title cb_title(ARG4) noenhanced
set grid xtics ytics
set xlabel "cores"
set ylabel "speedup over sync, 1 core"
set xrange [0.5:maxc + 0.5]
set xtics 1
set yrange [0:maxc + 0.5]
set key outside right top Left reverse samplen 2 width -1 font ",9" noenhanced
set style data linespoints
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  eval CB_ORDER
  plot for [j=1:words(models)] cb_sel(data, w, word(models, j)) \
         using 3:4 lw 2 lc rgb cb_lc(word(models, j)) pt cb_pt(word(models, j)) dt cb_dt(word(models, j)) title word(models, j), \
       for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:4:(sprintf("%s on %d cores: %.2f× sync on 1 core", word(models, j), $3, $4)) with labels hypertext point pt cb_pt(word(models, j)) lc rgb cb_lc(word(models, j)) notitle, \
       x with lines dt 2 lw 2 lc rgb "#777777" title "linear ideal"
}
unset multiplot
