# membw.gp — one panel per workload with a gb_per_s figure: GB/s against the cores the
# cell was pinned to, a line per model, and the run's STREAM triad figures (1 thread,
# one thread per CPU) as dashed ceiling lines; none when the run has no such figure.
# Called by concbench report as gnuplot -c membw.gp RUN_DIR TERM EXT TITLE: the run folder is data
# (cd ARG1), never part of a command; every file is named relative to it.
# membw.dat: workload model cores gb_per_s;  membw_ceiling.dat: threads gb_per_s (0 or 2 lines)
cd ARG1
load "style.gp"
set terminal @ARG2 font "sans,11"
set output "membw.".ARG3
data = "membw.dat"
ceiling = "membw_ceiling.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 2 ? n : 2
rows = (n + cols - 1) / cols
lines = system("wc -l < ".ceiling) + 0
one = lines > 0 ? system("awk 'NR==1 {print $2}' ".ceiling) + 0 : 0
allc = lines > 0 ? system("awk 'NR==2 {print $1}' ".ceiling) + 0 : 0
all = lines > 0 ? system("awk 'NR==2 {print $2}' ".ceiling) + 0 : 0
maxc = system("awk 'BEGIN{m=1} $3>m{m=$3} END{print m}' ".data) + 0
top = system("awk 'BEGIN{m=0} $4>m{m=$4} END{print m}' ".data) + 0
top = (all > top ? all : top) * 1.15
note = lines > 0 ? "dashed = STREAM triad measured at the start of the run" : "no STREAM figure in this run: no ceiling"
set multiplot layout rows, cols title cb_title(ARG4." (".note.")") noenhanced
set grid xtics ytics
set xlabel "cores"
set ylabel "GB/s"
set xrange [0.5:maxc + 0.5]
set xtics 1
set yrange [0:top]
set key outside right top Left reverse samplen 2 width -1 font ",9" noenhanced
set style data linespoints
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  eval CB_ORDER
  if (lines > 0) {
    plot for [j=1:words(models)] cb_sel(data, w, word(models, j)) \
           using 3:4 lw 2 lc rgb cb_lc(word(models, j)) pt cb_pt(word(models, j)) dt cb_dt(word(models, j)) title word(models, j), \
         for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:4:(sprintf("%s on %d cores: %.2f GB/s", word(models, j), $3, $4)) with labels hypertext point pt cb_pt(word(models, j)) lc rgb cb_lc(word(models, j)) notitle, \
         one with lines dt 2 lw 2 lc rgb "#777777" title sprintf("STREAM 1 thread %.1f GB/s", one), \
         all with lines dt 4 lw 2 lc rgb "#333333" title sprintf("STREAM %d threads %.1f GB/s", allc, all)
  } else {
    plot for [j=1:words(models)] cb_sel(data, w, word(models, j)) \
           using 3:4 lw 2 lc rgb cb_lc(word(models, j)) pt cb_pt(word(models, j)) dt cb_dt(word(models, j)) title word(models, j), \
         for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:4:(sprintf("%s on %d cores: %.2f GB/s", word(models, j), $3, $4)) with labels hypertext point pt cb_pt(word(models, j)) lc rgb cb_lc(word(models, j)) notitle
  }
}
unset multiplot
