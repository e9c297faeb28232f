# memory.gp — one panel per io/coord workload: what each task adds to the peak RSS
# of the whole process tree — (tree RSS − the workload's leanest cell) / N — against
# N (log–log), a line per model. A model that adds nothing (sync) has no points.
# Called by concbench report as gnuplot -c memory.gp RUN_DIR TERM EXT TITLE: the run folder is data
# (cd ARG1), never part of a command; every file is named relative to it.
# memory.dat: workload model N kib_per_task (drawn in bytes: 1 kB, 100 B)
cd ARG1
load "style.gp"
set terminal @ARG2 font "sans,11"
set output "memory.".ARG3
data = "memory.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 3 ? n : 3
rows = (n + cols - 1) / cols
set multiplot layout rows, cols title cb_title(ARG4) noenhanced
set logscale xy
set format x "%.0s%c"
set format y "%.0s %cB"
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
set grid xtics ytics
set xlabel "tasks N"
set ylabel "memory added per task"
set key outside right top Left reverse samplen 2 width -1 font ",9" noenhanced
set style data linespoints
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  eval CB_ORDER
  plot for [j=1:words(models)] cb_sel(data, w, word(models, j)) \
         using 3:($4 * 1024) lw 2 lc rgb cb_lc(word(models, j)) pt cb_pt(word(models, j)) dt cb_dt(word(models, j)) title word(models, j), \
       for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:($4 * 1024):(sprintf("%s N=%s: %.3g KiB a task", word(models, j), cb_si($3), $4)) with labels hypertext point pt cb_pt(word(models, j)) lc rgb cb_lc(word(models, j)) notitle
}
unset multiplot
