# bars.gp — one panel per workload at its headline size (the largest N where most of
# the models tried verified): a bar per model (median wall time of the whole
# command) on a log axis, so 0.47 s and 0.58 s stay apart next to 4 s, labelled with
# the time; min–max error bars; the ideal as a grey tick. A model that gave out there
# has no bar: a labelled gap (its class). Colours and points: style.gp (palette.tsv).
# Called by concbench report as gnuplot -c bars.gp RUN_DIR TERM EXT TITLE: the run
# folder is data (cd ARG1), never part of a command; every file is named relative to it.
# bars.dat columns: panel model median min max ideal(-1 = none) status(ok or the class)
cd ARG1
load "style.gp"
set terminal @ARG2 font "sans,11"
set output "bars.".ARG3
data = "bars.dat"
panels = system("awk '{print $1}' ".data." | awk '!seen[$0]++'")
n = words(panels)
cols = n < 4 ? n : 4
rows = (n + cols - 1) / cols
set multiplot layout rows, cols title cb_title(ARG4) noenhanced
set logscale y
set format y "%.0s %cs"
set grid ytics
set ylabel "wall time (log)"
set xtics nomirror rotate by -30 noenhanced
set key off
set style fill solid 0.75 border -1
# a model's row of a panel: only models that verified there get a bar (gnuplot 5.4
# crashes on a hypertext label at an undefined point); the others a label in the gap
okv(w, m) = sprintf("< awk '$1==\"%s\" && $2==\"%s\"' %s", w, m, data)
panel(w) = sprintf("< awk '$1==\"%s\"' %s", w, data)
do for [i=1:n] {
  w = word(panels, i)
  set title w noenhanced
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s", w, data))
  okm = system(sprintf("awk '$1==\"%s\" && $7==\"ok\" {print $2}' %s", w, data))
  nm = words(models)
  pos(m) = sum [k=1:nm] (word(models, k) eq m ? k - 1 : 0)
  lo = system(sprintf("awk '$1==\"%s\" && $7==\"ok\" {v=($6>0&&$6<$4)?$6:$4; if(m==\"\"||v<m)m=v} END{print (m==\"\"?1:m)}' %s", w, data)) / 4.0
  hi = system(sprintf("awk '$1==\"%s\" {if($5>m)m=$5} END{print (m>0?m:1)}' %s", w, data)) * 4.0
  set yrange [lo:hi]
  set xrange [-0.6:nm - 0.4]
  set xtics ()
  do for [j=1:nm] { set xtics add (word(models, j) j - 1) }
  plot for [j=1:words(okm)] okv(w, word(okm, j)) using (pos(word(okm, j))):3:(pos(word(okm, j)) - 0.3):(pos(word(okm, j)) + 0.3):(lo):3 \
         with boxxyerror lc rgb cb_lc(word(okm, j)) title word(okm, j), \
       for [j=1:words(okm)] okv(w, word(okm, j)) using (pos(word(okm, j))):3:(sprintf("%s: %s (min %s, max %s)", word(okm, j), cb_eng($3), cb_eng($4), cb_eng($5))) \
         with labels hypertext point pt cb_pt(word(okm, j)) ps 0.8 lc rgb cb_lc(word(okm, j)) title word(okm, j), \
       for [j=1:words(okm)] okv(w, word(okm, j)) using (pos(word(okm, j))):3:4:5 with yerrorbars lc rgb "black" pt -1 notitle, \
       for [j=1:words(okm)] okv(w, word(okm, j)) using (pos(word(okm, j))):5:(cb_eng($3)) with labels offset 0,0.8 font ",8" notitle, \
       for [j=1:words(okm)] okv(w, word(okm, j)) using (pos(word(okm, j))):($6 > 0 ? $6 : 1/0):(0.38) with xerrorbars lc rgb "#777777" lw 2 pt -1 notitle, \
       panel(w) using 0:(lo * 1.6):(strcol(7) eq "ok" ? "" : "gave out: ".strcol(7)) with labels rotate by 90 left font ",8" tc rgb "#555555" notitle
}
unset multiplot
