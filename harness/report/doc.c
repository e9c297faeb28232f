/* doc.c — see doc.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/doc.h"

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
    fprintf(d->html,
            "</title>\n<style>body{font-family:sans-serif;max-width:1300px;margin:2em auto;padding:0 1em;"
            "color:#222}table{border-collapse:collapse;margin:1em 0;font-size:90%%}td,th{border:1px solid #ccc;"
            "padding:3px 8px}th{background:#eee}td.r{text-align:right}tr:nth-child(even){background:#f8f8f8}"
            "img{max-width:100%%;border:1px solid #ddd;margin:1em 0}</style></head><body>\n<h1>");
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

void cb__doc_row(cb__doc *d, const char *const *cells, int ncols) {
  if (d->md) {
    for (int k = 0; k < ncols; k++) fprintf(d->md, "| %s ", cells[k]);
    fputs("|\n", d->md);
  }
  if (d->html) {
    fputs("<tr>", d->html);
    for (int k = 0; k < ncols; k++) {
      fputs(d->align && d->align[k] == 'r' ? "<td class=\"r\">" : "<td>", d->html);
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

void cb__doc_chart(cb__doc *d, const char *stem, const char *alt) {
  cb__doc_list_end(d);
  if (d->md) fprintf(d->md, "![%s](%s.png)\n\n", alt, stem);
  if (d->html) {
    fprintf(d->html, "<img src=\"%s.svg\" alt=\"", stem);
    esc(d->html, alt);
    fputs("\">\n", d->html);
  }
}
