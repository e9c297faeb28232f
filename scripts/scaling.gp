# scaling.gp — one panel per io/coord workload: job-phase wall time against the
# number of tasks N, log–log, a line per model in its palette style (style.gp); the
# ideal (wait × ⌈N/C⌉ of the most concurrent model) grey dashed; an X in the model's
# colour at the top where it gave out (hover: the class). Hover a point for its value (SVG).
# Called by concbench report as gnuplot -c scaling.gp RUN_DIR TERM EXT TITLE: the run
# folder is data (cd ARG1), never part of a command; every file is named relative to it.
# scaling.dat: workload model N wall;  scaling_ideal.dat: workload N ideal;
# scaling_fail.dat: workload model:class N y
cd ARG1
load "style.gp"
set terminal @ARG2 font "sans,11"
set output "scaling.".ARG3
data = "scaling.dat"
ideal = "scaling_ideal.dat"
fail = "scaling_fail.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 3 ? n : 3
rows = (n + cols - 1) / cols
set multiplot layout rows, cols title cb_title(ARG4) noenhanced
set logscale xy
set format x "%.0s%c"
set format y "%.0s %cs"
set offsets graph 0.03, graph 0.12, graph 0.05, graph 0.05
set grid xtics ytics
set xlabel "tasks N"
set ylabel "job-phase wall time"
set key outside right top Left reverse samplen 2 width -1 font ",9" noenhanced
set style data linespoints
of(w, file) = sprintf("< awk '$1==\"%s\"' %s", w, file)
gave(w, m) = sprintf("< awk '$1==\"%s\" && index($2, \"%s:\")==1' %s", w, m, fail)
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  eval CB_ORDER
  fails = system(sprintf("awk '$1==\"%s\"' %s | wc -l", w, fail)) + 0
  ideals = system(sprintf("awk '$1==\"%s\"' %s | wc -l", w, ideal)) + 0
  cmd = 'plot for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:4 lw 2 lc rgb cb_lc(word(models, j)) pt cb_pt(word(models, j)) dt cb_dt(word(models, j)) title word(models, j), '. \
        'for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:4:(sprintf("%s N=%s: %s", word(models, j), cb_si($3), cb_eng($4))) with labels hypertext point pt cb_pt(word(models, j)) lc rgb cb_lc(word(models, j)) notitle'
  if (ideals > 0) {
    cmd = cmd.', of(w, ideal) using 2:3 with lines dt 2 lw 2 lc rgb "#777777" title "ideal"'
  }
  if (fails > 0) {
    fmodels = system(sprintf("awk '$1==\"%s\" {split($2, m, \":\"); print m[1]}' %s | awk '!seen[$0]++'", w, fail))
    cmd = cmd.', for [j=1:words(fmodels)] gave(w, word(fmodels, j)) using 3:4:(sprintf("%s gave out at N=%s: %s", word(fmodels, j), cb_si($3), strcol(2)[strlen(word(fmodels, j)) + 2:])) with labels hypertext point pt 2 ps 2 lw 2 lc rgb cb_lc(word(fmodels, j)) notitle'
    cmd = cmd.', keyentry with points pt 2 ps 1.5 lc rgb "#555555" title "gave out"'
  }
  eval cmd
}
unset multiplot
