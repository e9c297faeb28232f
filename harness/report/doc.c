/* doc.c — see doc.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <limits.h>

#include "harness/report/doc.h"
#include "harness/report/palette.h"

static void esc(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '&': fputs("&amp;", f); break;
      case '"': fputs("&quot;", f); break;
      case '*': break; /* markdown emphasis */
      case '`': break;
      default: fputc(*s, f);
    }
  }
}

void cb__doc_begin(cb__doc *d, const char *title) {
  if (d->md) fprintf(d->md, "# %s\n\n", title);
  if (d->html) {
    fprintf(d->html,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    esc(d->html, title);
    fprintf(d->html, "</title>\n<style>"
            "body{font-family:sans-serif;max-width:1200px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.4}"
            "table{display:block;max-width:100%%;overflow-x:auto;border-collapse:collapse;margin:1em 0;font-size:90%%}"
            "td,th{border:1px solid #ccc;padding:3px 8px}th{background:#eee}td.r{text-align:right}"
            "tr:nth-child(even){background:#f8f8f8}figure{margin:1.5em 0}figure svg{width:100%%;height:auto;"
            "border:1px solid #ddd}figcaption{font-size:90%%;color:#555}details{margin:.5em 0}"
            "summary{cursor:pointer}summary h2,summary h3{display:inline}p,li{max-width:75em;overflow-wrap:anywhere}"
            ".sw{display:inline-block;width:0;height:.8em;border-left:.8em solid #999;margin-right:.35em;"
            "vertical-align:-.05em}");
    if (d->pal) cb__palette_css(d->pal, d->html);
    fprintf(d->html, "@media print{body{max-width:none;margin:0;font-size:10pt}figure,tr{break-inside:avoid}"
            "table{display:table;font-size:8pt}details>summary{list-style:none}}</style>\n"
            "<script>addEventListener('beforeprint',function(){document.querySelectorAll('details')"
            ".forEach(function(e){e.open=true})})</script></head><body>\n<h1>");
    esc(d->html, title);
    fprintf(d->html, "</h1>\n");
  }
}

void cb__doc_end(cb__doc *d) {
  cb__doc_list_end(d);
  if (d->html) fprintf(d->html, "</body></html>\n");
}

void cb__doc_heading(cb__doc *d, int level, const char *text) {
  cb__doc_list_end(d);
  if (d->md) fprintf(d->md, "%.*s %s\n\n", level, "######", text);
  if (d->html) {
    fprintf(d->html, "<h%d>", level);
    esc(d->html, text);
    fprintf(d->html, "</h%d>\n", level);
  }
}

static char *vfmt(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) abort();
  return s;
}

void cb__doc_para(cb__doc *d, const char *fmt, ...) {
  cb__doc_list_end(d);
  va_list ap;
  va_start(ap, fmt);
  char *s = vfmt(fmt, ap);
  va_end(ap);
  if (d->md) fprintf(d->md, "%s\n\n", s);
  if (d->html) {
    fputs("<p>", d->html);
    esc(d->html, s);
    fputs("</p>\n", d->html);
  }
  free(s);
}

void cb__doc_list_item(cb__doc *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = vfmt(fmt, ap);
  va_end(ap);
  if (d->md) fprintf(d->md, "- %s\n", s);
  if (d->html) {
    fputs(d->in_list ? "<li>" : "<ul><li>", d->html);
    esc(d->html, s);
    fputs("</li>\n", d->html);
  }
  d->in_list = 1;
  free(s);
}

void cb__doc_list_end(cb__doc *d) {
  if (!d->in_list) return;
  d->in_list = 0;
  if (d->md) fputc('\n', d->md);
  if (d->html) fputs("</ul>\n", d->html);
}

void cb__doc_table(cb__doc *d, const char *const *head, const char *align, int ncols) {
  cb__doc_list_end(d);
  d->align = align;
  if (d->md) {
    for (int k = 0; k < ncols; k++) fprintf(d->md, "| %s ", head[k]);
    fputs("|\n", d->md);
    for (int k = 0; k < ncols; k++) fputs(align[k] == 'r' ? "|---:" : "|---", d->md);
    fputs("|\n", d->md);
  }
  if (d->html) {
    fputs("<table><tr>", d->html);
    for (int k = 0; k < ncols; k++) {
      fputs("<th>", d->html);
      esc(d->html, head[k]);
      fputs("</th>", d->html);
    }
    fputs("</tr>\n", d->html);
  }
}

/* A cell that names a model (the model, or the model and a note in brackets)
 * gets the model's colour beside it. */
static void swatch(cb__doc *d, const char *cell) {
  char model[32];
  size_t len = strcspn(cell, " ");
  if (!d->pal || len == 0 || len >= sizeof model || (cell[len] && cell[len + 1] != '(')) return;
  snprintf(model, sizeof model, "%.*s", (int)len, cell);
  for (int k = 0; k < d->pal->n; k++)
    if (strcmp(d->pal->s[k].model, model) == 0) fprintf(d->html, "<span class=\"sw m-%s\"></span>", model);
}

void cb__doc_row(cb__doc *d, const char *const *cells, int ncols) {
  if (d->md) {
    for (int k = 0; k < ncols; k++) fprintf(d->md, "| %s ", cells[k]);
    fputs("|\n", d->md);
  }
  if (d->html) {
    fputs("<tr>", d->html);
    for (int k = 0; k < ncols; k++) {
      fputs(d->align && d->align[k] == 'r' ? "<td class=\"r\">" : "<td>", d->html);
      swatch(d, cells[k]);
      esc(d->html, cells[k]);
      fputs("</td>", d->html);
    }
    fputs("</tr>\n", d->html);
  }
}

void cb__doc_table_end(cb__doc *d) {
  if (d->md) fputc('\n', d->md);
  if (d->html) fputs("</table>\n", d->html);
}

void cb__doc_details(cb__doc *d, int level, const char *text) {
  cb__doc_list_end(d);
  if (d->md) fprintf(d->md, "%.*s %s\n\n", level, "######", text);
  if (d->html) {
    fprintf(d->html, "<details><summary><h%d>", level);
    esc(d->html, text);
    fprintf(d->html, "</h%d></summary>\n", level);
  }
}

void cb__doc_details_end(cb__doc *d) {
  cb__doc_list_end(d);
  if (d->html) fputs("</details>\n", d->html);
}

/* text[0, len) with each id and each reference to one prefixed with STEM-. */
static void prefixed(FILE *f, const char *p, size_t len, const char *stem) {
  static const char *const refs[] = {"id='", "id=\"", "href='#", "url(#"};
  const char *end = p + len;
  while (p < end) {
    size_t best = (size_t)(end - p), which = 0;
    for (size_t k = 0; k < sizeof refs / sizeof *refs; k++) {
      const char *at = memmem(p, (size_t)(end - p), refs[k], strlen(refs[k]));
      if (at && (size_t)(at - p) < best) best = (size_t)(at - p), which = k + 1;
    }
    fwrite(p, 1, best, f);
    p += best;
    if (!which) break;
    fprintf(f, "%s%s-", refs[which - 1], stem);
    p += strlen(refs[which - 1]);
  }
}

/* The chart's SVG (d->dir/STEM.svg) copied into the page from its <svg on, its ids
 * and the references to them prefixed with STEM- (every chart defines gpPt0, ...),
 * and gnuplot's title of the whole drawing (the tooltip wherever no point is under
 * the pointer) the chart's own. */
static int inline_svg(cb__doc *d, const char *stem, const char *alt) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s.svg", d->dir ? d->dir : ".", stem);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char *text = NULL;
  size_t cap = 0;
  ssize_t len = getdelim(&text, &cap, '\0', f);
  fclose(f);
  char *p = len > 0 ? strstr(text, "<svg") : NULL;
  if (!p) return free(text), -1;
  static const char gp_title[] = "<title>Gnuplot</title>";
  char *t = strstr(p, gp_title);
  if (t) {
    prefixed(d->html, p, (size_t)(t - p), stem);
    fputs("<title>", d->html);
    esc(d->html, alt);
    fputs("</title>", d->html);
    p = t + sizeof gp_title - 1;
  }
  prefixed(d->html, p, strlen(p), stem);
  free(text);
  return 0;
}

void cb__doc_chart(cb__doc *d, const char *stem, const char *alt) {
  cb__doc_list_end(d);
  if (d->md) fprintf(d->md, "![%s](%s.png)\n\n", alt, stem);
  if (d->html) {
    fprintf(d->html, "<figure id=\"chart-%s\">\n", stem);
    if (inline_svg(d, stem, alt) != 0) {
      fprintf(d->html, "<img src=\"%s.svg\" alt=\"", stem);
      esc(d->html, alt);
      fputs("\">", d->html);
    }
    fputs("<figcaption>", d->html);
    esc(d->html, alt);
    fprintf(d->html, " (<a href=\"%s.svg\">SVG</a>, <a href=\"%s.png\">PNG</a>; hover a point for its value)</figcaption></figure>\n",
            stem, stem);
  }
}
