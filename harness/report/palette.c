/* palette.c — see palette.h. A model palette.tsv does not list gets its family's
 * colour mixed towards white or black (the k-th variant of a family: lighter, darker,
 * lighter still, ...; a dark family only lighter), a point type from a pool no listed
 * model uses, in list order, and dash 2, 3, 4, 5 by its place in the family. Models
 * are taken in cb_model_all then cb_peer_all order, so a model's look is the same in
 * every run. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "harness/report/palette.h"
#include "harness/report/peers.h"
#include "harness/report/report.h"
#include "runtimes/peer/peer.h"
#include "runtimes/runtime.h"

static const cb__style unknown = {"?", "#999999", 1, 1};

const cb__style *cb__palette_style(const cb__palette *p, const char *model) {
  for (int k = 0; k < p->n; k++)
    if (strcmp(p->s[k].model, model) == 0) return &p->s[k];
  return &unknown;
}

static int is_colour(const char *c) {
  if (strlen(c) != 7 || c[0] != '#') return 0;
  for (int k = 1; k < 7; k++)
    if (!strchr("0123456789abcdefABCDEF", c[k])) return 0;
  return 1;
}

static int listed(const cb__palette *p, const char *model) { return cb__palette_style(p, model) != &unknown; }

/* The listed model a model takes its colour from, or NULL. */
static const cb__style *family(const cb__palette *p, int nlisted, const cb_model *m) {
  const char *cp = m->peer ? cb_peer_counterpart(m) : NULL;
  const cb__style *best = NULL;
  for (int k = 0; k < nlisted; k++) {
    size_t len = strlen(p->s[k].model);
    if (cp ? strcmp(cp, p->s[k].model) == 0
           : strncmp(m->name, p->s[k].model, len) == 0 && m->name[len] == '-' &&
                 (!best || len > strlen(best->model)))
      best = &p->s[k];
  }
  return best;
}

static void shade(const char *base, int k, char *out) {
  static const double lighter[] = {0.35, 0.6, 0.75, 0.85}, towards[] = {0.35, -0.35, 0.6, -0.55, 0.75, 0.85};
  unsigned v = (unsigned)strtoul(base + 1, NULL, 16), rgb[3] = {v >> 16, (v >> 8) & 255, v & 255};
  int dark = rgb[0] + rgb[1] + rgb[2] < 120;
  double t = dark ? lighter[(k - 1) % 4] : towards[(k - 1) % 6];
  for (int c = 0; c < 3; c++) rgb[c] = (unsigned)(t > 0 ? rgb[c] + (255 - rgb[c]) * t : rgb[c] * (1 + t) + 0.5);
  snprintf(out, 8, "#%02X%02X%02X", rgb[0], rgb[1], rgb[2]);
}

static void add_variant(cb__palette *p, int nlisted, const cb_model *m, int *next_point) {
  static const int points[] = {6, 4, 8, 10, 12, 14, 1, 2, 3};
  if (listed(p, m->name) || p->n == CB_PALETTE_MAX) return;
  const cb__style *fam = family(p, nlisted, m);
  cb__style *s = &p->s[p->n];
  cb__safe_word(s->model, m->name, sizeof s->model);
  int k = 1; /* this model's place among its family's variants */
  for (int j = nlisted; j < p->n; j++) {
    const cb_model *v = cb_model_find(p->s[j].model);
    k += fam && v && family(p, nlisted, v) == fam;
  }
  if (fam) shade(fam->colour, k, s->colour);
  else snprintf(s->colour, sizeof s->colour, "%s", unknown.colour);
  s->point = points[(*next_point)++ % (int)(sizeof points / sizeof *points)];
  s->dash = 2 + (k - 1) % 4;
  p->n++;
}

int cb__palette_load(cb__palette *p) {
  char dir[PATH_MAX], path[PATH_MAX + 16], line[256];
  cb_scripts_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/palette.tsv", dir);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "concbench report: cannot read %s: %s\n", path, strerror(errno));
    return -EINVAL;
  }
  memset(p, 0, sizeof *p);
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0') continue;
    cb__style *s = &p->s[p->n];
    char model[64], colour[16];
    if (p->n == CB_PALETTE_MAX || sscanf(line, "%63s %15s %d %d", model, colour, &s->point, &s->dash) != 4 ||
        !is_colour(colour) || strlen(model) >= sizeof s->model || s->point < 1 || s->dash < 1) {
      fprintf(stderr, "concbench report: %s:%d: want 'model #rrggbb pointtype dashtype'\n", path, lineno);
      fclose(f);
      return -EINVAL;
    }
    cb__safe_word(s->model, model, sizeof s->model);
    snprintf(s->colour, sizeof s->colour, "%s", colour);
    p->n++;
  }
  fclose(f);
  int nlisted = p->n, next_point = 0;
  size_t nm, np;
  const cb_model *const *models = cb_model_all(&nm), *const *peers = cb_peer_all(&np);
  for (size_t k = 0; k < nm; k++) add_variant(p, nlisted, models[k], &next_point);
  for (size_t k = 0; k < np; k++) add_variant(p, nlisted, peers[k], &next_point);
  return 0;
}

/* Keeps what is safe inside a gnuplot string (no quote, backslash, backtick, @,
 * nor enhanced-text markup). */
static void caption_safe(char *out, const char *in, size_t cap) { cb__keep_chars(out, in, cap, " .,:;+()/=-", ' '); }

int cb__palette_write_gp(const cb__palette *p, const char *dir, const char *caption) {
  char path[PATH_MAX], safe[256];
  snprintf(path, sizeof path, "%s/style.gp", dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "concbench report: cannot write %s: %s\n", path, strerror(errno));
    return -EIO;
  }
  fputs("# style.gp — written by concbench report from scripts/palette.tsv: each model's colour, point type\n"
        "# and dash (a peer also as NAME:peer, its name in the charts' data), and the machine's caption.\n"
        "# Loaded by every chart script (scripts/*.gp); not to be edited.\n",
        f);
  const char *lists[] = {"CB_MODELS", "CB_COLOURS", "CB_POINTS", "CB_DASHES"};
  for (int l = 0; l < 4; l++) {
    fprintf(f, "%s = \"", lists[l]);
    for (int k = 0; k < p->n; k++) {
      const cb__style *s = &p->s[k];
      int peer = cb__report_is_peer(s->model);
      for (int twice = 0; twice <= peer; twice++) {
        if (k || twice) fputc(' ', f);
        if (l == 0) fprintf(f, "%s%s", s->model, twice ? ":peer" : "");
        else if (l == 1) fprintf(f, "%s", s->colour);
        else fprintf(f, "%d", l == 2 ? s->point : s->dash);
      }
    }
    fputs("\"\n", f);
  }
  caption_safe(safe, caption, sizeof safe);
  fprintf(f,
          "cb_i(m) = sum [k=1:words(CB_MODELS)] (word(CB_MODELS, k) eq m ? k : 0)\n"
          "cb_lc(m) = cb_i(m) > 0 ? word(CB_COLOURS, cb_i(m)) : \"%s\"\n"
          "cb_pt(m) = cb_i(m) > 0 ? word(CB_POINTS, cb_i(m)) + 0 : %d\n"
          "cb_dt(m) = cb_i(m) > 0 ? word(CB_DASHES, cb_i(m)) + 0 : %d\n"
          "CB_CAPTION = \"%s\"\n",
          unknown.colour, unknown.point, unknown.dash, safe);
  /* What every chart shares: units (1 ms, 10 µs, 1K), the title and its caption, a
   * model's series (cb_sel: its rows of a data file, names as safe as the data's). */
  fputs("set encoding utf8\n"
        "set micro\n"
        "cb_eng(x) = x >= 1 ? sprintf(\"%.3g s\", x) : x >= 1e-3 ? sprintf(\"%.3g ms\", x * 1e3) : sprintf(\"%.3g µs\", x * 1e6)\n"
        "cb_si(x) = x >= 1e6 ? sprintf(\"%.3gM\", x / 1e6) : x >= 1e3 ? sprintf(\"%.3gK\", x / 1e3) : sprintf(\"%.3g\", x)\n"
        "cb_sel(file, w, m) = sprintf(\"< awk '$1==\\\"%s\\\" && $2==\\\"%s\\\"' %s\", w, m, file)\n"
        "cb_title(q) = q.\"\\n\".CB_CAPTION\n"
        "# eval CB_ORDER: the words of models in the palette's order (every legend lists the models alike),\n"
        "# those the palette does not know last\n"
        "CB_ORDER = 'cb_o = \"\"; cb_m = \"\"; do for [cb_k=1:words(models)] { cb_m = cb_m.\" \".word(models, cb_k) }; "
        "do for [cb_k=1:words(CB_MODELS)] { if (strstrt(cb_m.\" \", \" \".word(CB_MODELS, cb_k).\" \") > 0) "
        "{ cb_o = cb_o.\" \".word(CB_MODELS, cb_k) } }; do for [cb_k=1:words(models)] { if (strstrt(\" \".cb_o.\" \", "
        "\" \".word(models, cb_k).\" \") == 0) { cb_o = cb_o.\" \".word(models, cb_k) } }; models = cb_o'\n",
        f);
  return fclose(f) == 0 ? 0 : -EIO;
}

void cb__palette_css(const cb__palette *p, FILE *f) {
  for (int k = 0; k < p->n; k++) fprintf(f, ".m-%s{border-color:%s}", p->s[k].model, p->s[k].colour);
}
