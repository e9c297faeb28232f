# memory.gp — one panel per io/coord workload: what each task adds to the peak RSS
# of the whole process tree — (tree RSS − the workload's leanest cell) / N — against
# N (log–log), a line per model. A model that adds nothing (sync) has no points.
# Called by concbench report as gnuplot -c memory.gp RUN_DIR TERM EXT: the run folder is data
# (cd ARG1), never part of a command; every file is named relative to it.
# memory.dat: workload model N kib_per_task
cd ARG1
set terminal @ARG2 font "sans,10"
set output "memory.".ARG3
data = "memory.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 3 ? n : 3
rows = (n + cols - 1) / cols
set multiplot layout rows, cols title "concbench memory: tree RSS added per task against tasks N (log–log; above the leanest cell)"
set logscale xy
set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
set grid xtics ytics
set xlabel "tasks N"
set ylabel "KiB per task"
set key top right font ",9" noenhanced
set style data linespoints
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  plot for [j=1:words(models)] sprintf("< awk '$1==\"%s\" && $2==\"%s\"' %s", w, word(models, j), data) \
         using 3:4 lw 2 pt 7 title word(models, j)
}
unset multiplot
