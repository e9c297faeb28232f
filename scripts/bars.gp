# bars.gp — one panel per workload at the size where most models verified (the
# largest among those): a bar per model (median
# wall time of the whole command) with min–max error bars and the ideal in red.
# A model that failed there has no bar; its label carries the class (procs:timeout).
# Called by concbench report as gnuplot -c bars.gp RUN_DIR TERM EXT: the run folder is data
# (cd ARG1), never part of a command; every file is named relative to it.
# bars.dat columns: panel model median min max ideal(-1 = none)
cd ARG1
set terminal @ARG2 font "sans,10"
set output "bars.".ARG3
data = "bars.dat"
panels = system("awk '{print $1}' ".data." | uniq")
n = words(panels)
cols = n < 4 ? n : 4
rows = (n + cols - 1) / cols
set multiplot layout rows, cols title "concbench: wall time per model (median of the timed runs, in s above each bar; bars min–max; red = ideal)"
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set ylabel "wall time (s)"
set yrange [0:*]
set xtics nomirror rotate by -30
set key off
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  sel = sprintf("< awk '$1==\"%s\"' %s", w, data)
  plot sel using 0:3:xtic(2) with boxes lc rgb "#4477aa", \
       sel using 0:3:($3 > 0 ? sprintf("%.3g", $3) : "") with labels offset 0,0.6 font ",8", \
       sel using 0:3:4:5 with yerrorbars lc rgb "black" pt 0, \
       sel using 0:($6 > 0 ? $6 : 1/0):(0.35) with xerrorbars lc rgb "#cc3311" lw 2 pt 0
}
unset multiplot
