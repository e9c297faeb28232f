# style.gp — written by concbench report from scripts/palette.tsv: each model's colour, point type
# and dash (a peer also as NAME:peer, its name in the charts' data), and the machine's caption.
# Loaded by every chart script (scripts/*.gp); not to be edited.
CB_MODELS = "sync threads procs green loop nginx green-mn py-sync py-sync:peer py-threads py-threads:peer py-procs py-procs:peer py-gevent py-gevent:peer py-asyncio py-asyncio:peer py-uvloop py-uvloop:peer py-threads-idiom py-threads-idiom:peer py-gevent-idiom py-gevent-idiom:peer py-asyncio-idiom py-asyncio-idiom:peer py-uvloop-idiom py-uvloop-idiom:peer go go:peer"
CB_COLOURS = "#000000 #0072B2 #D55E00 #009E73 #E69F00 #CC79A7 #59BFA4 #595959 #595959 #59A3CC #59A3CC #E39659 #E39659 #00674B #00674B #EEC059 #EEC059 #966700 #966700 #004A74 #004A74 #99D8C7 #99D8C7 #F5D899 #F5D899 #674800 #674800 #004734 #004734"
CB_POINTS = "7 5 9 11 13 15 6 4 4 8 8 10 10 12 12 14 14 1 1 2 2 3 3 6 6 4 4 8 8"
CB_DASHES = "1 1 1 1 1 1 2 2 2 2 2 2 2 3 3 2 2 3 3 3 3 4 4 4 4 5 5 5 5"
cb_i(m) = sum [k=1:words(CB_MODELS)] (word(CB_MODELS, k) eq m ? k : 0)
cb_lc(m) = cb_i(m) > 0 ? word(CB_COLOURS, cb_i(m)) : "#999999"
cb_pt(m) = cb_i(m) > 0 ? word(CB_POINTS, cb_i(m)) + 0 : 1
cb_dt(m) = cb_i(m) > 0 ? word(CB_DASHES, cb_i(m)) + 0 : 1
CB_CAPTION = "Intel(R) Xeon(R) Processor, 2 cores, Linux 6.18.44-fc-v1300; run of 2026-12-08"
set encoding utf8
set micro
cb_eng(x) = x >= 1 ? sprintf("%.3g s", x) : x >= 1e-3 ? sprintf("%.3g ms", x * 1e3) : sprintf("%.3g µs", x * 1e6)
cb_si(x) = x >= 1e6 ? sprintf("%.3gM", x / 1e6) : x >= 1e3 ? sprintf("%.3gK", x / 1e3) : sprintf("%.3g", x)
cb_sel(file, w, m) = sprintf("< awk '$1==\"%s\" && $2==\"%s\"' %s", w, m, file)
cb_title(q) = q."\n".CB_CAPTION
# eval CB_ORDER: the words of models in the palette's order (every legend lists the models alike),
# those the palette does not know last
CB_ORDER = 'cb_o = ""; cb_m = ""; do for [cb_k=1:words(models)] { cb_m = cb_m." ".word(models, cb_k) }; do for [cb_k=1:words(CB_MODELS)] { if (strstrt(cb_m." ", " ".word(CB_MODELS, cb_k)." ") > 0) { cb_o = cb_o." ".word(CB_MODELS, cb_k) } }; do for [cb_k=1:words(models)] { if (strstrt(" ".cb_o." ", " ".word(models, cb_k)." ") == 0) { cb_o = cb_o." ".word(models, cb_k) } }; models = cb_o'
