# scaling.gp — one panel per io/coord workload: job-phase wall time against the
# number of tasks N, log–log, a line per model; the ideal (wait × ⌈N/C⌉ of the
# most concurrent model) dashed; an X at the top where a model gave out.
# Called by concbench report as gnuplot -c scaling.gp RUN_DIR TERM EXT: the run folder is data
# (cd ARG1), never part of a command; every file is named relative to it.
# scaling.dat: workload model N wall;  scaling_ideal.dat: workload N ideal;
# scaling_fail.dat: workload model:class N y
cd ARG1
set terminal @ARG2 font "sans,10"
set output "scaling.".ARG3
data = "scaling.dat"
ideal = "scaling_ideal.dat"
fail = "scaling_fail.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 3 ? n : 3
rows = (n + cols - 1) / cols
set multiplot layout rows, cols title "concbench scaling: job-phase wall time against tasks N (log–log; dashed = ideal; X = gave out)"
set logscale xy
set offsets graph 0.03, graph 0.12, graph 0.05, graph 0.05
set grid xtics ytics
set xlabel "tasks N"
set ylabel "wall time (s)"
set key top left font ",9" noenhanced
set style data linespoints
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  fails = system(sprintf("awk '$1==\"%s\"' %s | wc -l", w, fail)) + 0
  cmd = "plot for [j=1:words(models)] sprintf(\"< awk '$1==\\\"%s\\\" && $2==\\\"%s\\\"' %s\", w, word(models, j), data) using 3:4 lw 2 pt 7 title word(models, j)"
  ideals = system(sprintf("awk '$1==\"%s\"' %s | wc -l", w, ideal)) + 0
  if (ideals > 0) {
    cmd = cmd.", sprintf(\"< awk '$1==\\\"%s\\\"' %s\", w, ideal) using 2:3 with lines dt 2 lw 2 lc rgb \"black\" title \"ideal\""
  }
  if (fails > 0) {
    cmd = cmd.", sprintf(\"< awk '$1==\\\"%s\\\"' %s\", w, fail) using 3:4:2 with labels point pt 2 ps 2 lc rgb \"#cc3311\" offset 0,1 font \",8\" notitle"
  }
  eval cmd
}
unset multiplot
