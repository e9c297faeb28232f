/* palette.h — each model's look (colour, point type, dash) in every chart and in
 * report.html, from the one file that defines it, scripts/palette.tsv (internal to
 * the report, cb__). Models the file does not list take a shade of their family's
 * colour (palette.c). */
#ifndef CB_REPORT_PALETTE_H
#define CB_REPORT_PALETTE_H

#include <stdio.h>

#define CB_PALETTE_MAX 64

typedef struct cb__style {
  char model[32];
  char colour[8]; /* #rrggbb */
  int point, dash;  /* gnuplot pointtype, dashtype */
} cb__style;

typedef struct cb__palette {
  cb__style s[CB_PALETTE_MAX];
  int n;
} cb__palette;

/* Reads scripts/palette.tsv and gives every model of cb_model_all and cb_peer_all
 * its style. 0, or -EINVAL with one line on stderr naming FILE:LINE. */
int cb__palette_load(cb__palette *p);
/* The style of model (a model the palette does not know: grey, point 1, solid). */
const cb__style *cb__palette_style(const cb__palette *p, const char *model);
/* style.gp for the gnuplot scripts: the styles as word lists and the lookups
 * cb_lc(m), cb_pt(m), cb_dt(m) (a peer also under its chart name, NAME:peer), and
 * CB_CAPTION, the machine the run was on (caption: made safe here). */
int cb__palette_write_gp(const cb__palette *p, const char *dir, const char *caption);
/* CSS rules .m-MODEL (border colour) for report.html. */
void cb__palette_css(const cb__palette *p, FILE *f);

#endif
