# pipeline.gp — a row per workload with a `stages` parameter: items/s (all N pipelines
# together) against N at the N sweep's stages (log–log), items/s against stages at the
# stages sweep's N, and the p99 item latency against N; a line per model.
# Called by concbench report as gnuplot -c pipeline.gp RUN_DIR TERM EXT: the run folder is
# data (cd ARG1), never part of a command; every file is named relative to it.
# pipeline.dat: workload model N items_per_s p99_us ("?" = none);
# pipeline_stages.dat: workload model stages items_per_s
cd ARG1
load "style.gp"
set terminal @ARG2 font "sans,11"
set output "pipeline.".ARG3
data = "pipeline.dat"
stages = "pipeline_stages.dat"
set datafile missing "?"
panels = system("cat ".data." ".stages." | awk '{print $1}' | awk '!seen[$0]++'")
n = words(panels)
set multiplot layout n, 3 title cb_title(ARG4) noenhanced
set grid xtics ytics
set key outside right top Left reverse samplen 2 width -1 font ",9" noenhanced
set style data linespoints
# a model's rows with a p99 figure (a hypertext label at a missing point crashes gnuplot 5.4)
p99(w, m) = sprintf("< awk '$1==\"%s\" && $2==\"%s\" && $5!=\"?\"' %s", w, m, data)
do for [i=1:n] {
  w = word(panels, i)
  models = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, data))
  eval CB_ORDER
  smodels = system(sprintf("awk '$1==\"%s\" {print $2}' %s | awk '!seen[$0]++'", w, stages))
  keep = models
  models = smodels
  eval CB_ORDER
  smodels = models
  models = keep
  sn = system(sprintf("awk '$1==\"%s\"' %s | wc -l", w, stages)) + 0
  set logscale xy
  set xlabel "pipelines N"
  set format x "%.0s%c"
  set format y "%.0s%c"
  set ylabel "items/s"
  set title w." (N sweep): items/s against N" noenhanced
  if (words(models) > 0) {
    plot for [j=1:words(models)] cb_sel(data, w, word(models, j)) \
           using 3:4 lw 2 lc rgb cb_lc(word(models, j)) pt cb_pt(word(models, j)) dt cb_dt(word(models, j)) title word(models, j), \
         for [j=1:words(models)] cb_sel(data, w, word(models, j)) using 3:4:(sprintf("%s N=%s: %s items/s", word(models, j), cb_si($3), cb_si($4))) with labels hypertext point pt cb_pt(word(models, j)) lc rgb cb_lc(word(models, j)) notitle
  } else { set multiplot next }
  unset logscale x
  set logscale x 2
  set format x "%g"
  set xlabel "stages"
  set title w.": items/s against stages, at the stages sweep's N" noenhanced
  if (sn > 0) {
    plot for [j=1:words(smodels)] cb_sel(stages, w, word(smodels, j)) \
           using 3:4 lw 2 lc rgb cb_lc(word(smodels, j)) pt cb_pt(word(smodels, j)) dt cb_dt(word(smodels, j)) title word(smodels, j), \
         for [j=1:words(smodels)] cb_sel(stages, w, word(smodels, j)) using 3:4:(sprintf("%s, %d stages: %s items/s", word(smodels, j), $3, cb_si($4))) with labels hypertext point pt cb_pt(word(smodels, j)) lc rgb cb_lc(word(smodels, j)) notitle
  } else { set multiplot next }
  set logscale xy
  set format x "%.0s%c"
  set xlabel "pipelines N"
  set ylabel "p99 item latency"
  set format y "%.0s %cs"
  set title w.": p99 item latency (source to sink) against N" noenhanced
  if (words(models) > 0) {
    plot for [j=1:words(models)] cb_sel(data, w, word(models, j)) \
           using 3:($5 / 1e6) lw 2 lc rgb cb_lc(word(models, j)) pt cb_pt(word(models, j)) dt cb_dt(word(models, j)) title word(models, j), \
         for [j=1:words(models)] p99(w, word(models, j)) using 3:($5 / 1e6):(sprintf("%s N=%s: p99 %s", word(models, j), cb_si($3), cb_eng($5 / 1e6))) with labels hypertext point pt cb_pt(word(models, j)) lc rgb cb_lc(word(models, j)) notitle
  } else { set multiplot next }
}
unset multiplot
