# bars.gp — one panel per workload: a bar per model (median wall time) with min–max
# error bars and the ideal drawn as a dashed line.
# Called as: gnuplot -e "data='chart.dat'; out='chart.png'; term='pngcairo size 1200,600'" bars.gp
# chart.dat columns: workload model median min max ideal(-1 = none)
set terminal @term font "sans,11"
set output out
workloads = system("awk '{print $1}' ".data." | uniq")
n = words(workloads)
set multiplot layout 1, n title "concbench: wall time per model (median of runs, min–max bars; red = ideal)"
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set ylabel "wall time (s)"
set yrange [0:*]
set xtics nomirror
set key off
do for [i=1:n] {
  w = word(workloads, i)
  set title w
  sel = sprintf("< awk '$1==\"%s\"' %s", w, data)
  plot sel using 0:3:xtic(2) with boxes lc rgb "#4477aa", \
       sel using 0:3:4:5 with yerrorbars lc rgb "black" pt 0, \
       sel using 0:($6 > 0 ? $6 : 1/0):(0.35) with xerrorbars lc rgb "#cc3311" lw 2 pt 0 title "ideal"
}
unset multiplot
