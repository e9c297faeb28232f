# map.gp — which model wins each job shape: a square per (cpu_us, io_ms) of the
# run's mixed cells, coloured by the model with the lowest median wall time and
# labelled with it and its margin over the runner-up.
# Called as gnuplot -c map.gp RUN_DIR TERM EXT TITLE: the run folder is data (cd ARG1),
# never part of a command; every file is named relative to it.
# map.dat: xi yi cpu_us io_ms best runner_up margin best_index; a square in its winner's
# palette colour (style.gp)
cd ARG1
load "style.gp"
set terminal @ARG2 font "sans,11"
set output "map.".ARG3
data = "map.dat"
nx = system("awk 'BEGIN{m=0} {if ($1+1>m) m=$1+1} END{print m}' ".data) + 0
ny = system("awk 'BEGIN{m=0} {if ($2+1>m) m=$2+1} END{print m}' ".data) + 0
set xrange [-0.5:nx - 0.5]
set yrange [-0.5:ny - 0.5]
set xlabel "CPU per round (µs)"
set ylabel "wait per round (ms)"
set title cb_title(ARG4."\nlowest median wall time, margin over the runner-up (N jobs alternating CPU and waiting)") noenhanced
set xtics 1 out nomirror
set ytics 1 out nomirror
set key outside right top noenhanced
set style fill solid 0.55 border lc rgb "white"
models = system("awk '!seen[$5]++ {print $5}' ".data)
won(m) = sprintf("< awk '$5==\"%s\"' %s", m, data)
plot data using 1:2:xticlabels(3):yticlabels(4) with points ps 0 notitle, \
     for [j=1:words(models)] won(word(models, j)) using 1:2:(0.5):(0.5) with boxxyerror lc rgb cb_lc(word(models, j)) title word(models, j), \
     data using 1:2:((strcol(6) eq "-") ? sprintf("%s\nonly", strcol(5)) : sprintf("%s\n%.2f× over %s", strcol(5), $7, strcol(6))) with labels font ",10" noenhanced notitle
