/* doc.h — one document written twice: markdown (tables.md) and HTML
 * (report.html), so the page and the tables can never disagree. Internal to the
 * report (cb__ prefix). Either file may be NULL. */
#ifndef CB_REPORT_DOC_H
#define CB_REPORT_DOC_H

#include <stdio.h>

struct cb__palette;

typedef struct cb__doc {
  FILE *md, *html;
  const struct cb__palette *pal; /* the models' colours (HTML: a swatch beside a model's name), or NULL */
  const char *dir;               /* the run folder: charts are read from it to be inlined */
  int in_list;       /* an open list */
  const char *align; /* of the open table */
} cb__doc;

void cb__doc_begin(cb__doc *d, const char *title);
void cb__doc_end(cb__doc *d);
void cb__doc_heading(cb__doc *d, int level, const char *text);
/* A paragraph; printf-style. Markdown gets it as is, HTML escaped. */
void cb__doc_para(cb__doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb__doc_list_item(cb__doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cb__doc_list_end(cb__doc *d);
/* A table: header cells, then rows of the same width; align 'l' or 'r' per column. */
void cb__doc_table(cb__doc *d, const char *const *head, const char *align, int ncols);
void cb__doc_row(cb__doc *d, const char *const *cells, int ncols);
void cb__doc_table_end(cb__doc *d);
/* A section that folds (HTML <details>, its heading the summary); markdown: a heading. */
void cb__doc_details(cb__doc *d, int level, const char *text);
void cb__doc_details_end(cb__doc *d);
/* A chart: its SVG (d->dir/STEM.svg) inlined in the HTML, so the page stands alone,
 * with title as the caption; markdown links the PNG. */
void cb__doc_chart(cb__doc *d, const char *stem, const char *alt);

#endif
