/* record.c — see record.h. */
#include <string.h>

#include "common/check.h"
#include "harness/run/record.h"

const cb_run_key_def cb_run_keys[CB_NKEYS] = {
#define CB_RUN_KEY_DEF(key, type, present, meaning) {#key, type, present, meaning},
    CB_RUN_KEYS(CB_RUN_KEY_DEF)
#undef CB_RUN_KEY_DEF
};

const cb_exit_def cb_exits[CB_NEXITS] = {
#define CB_EXIT_DEF(name, code, meaning) {code, meaning},
    CB_EXIT_CODES(CB_EXIT_DEF)
#undef CB_EXIT_DEF
};

const cb_class_def cb_classes[CB_NCLASSES] = {
#define CB_CLASS_DEF(NAME, name, exit, meaning) {name, exit, meaning},
    CB_CLASSES(CB_CLASS_DEF)
#undef CB_CLASS_DEF
};

int cb_run_key_find(const char *key) {
  for (int k = 0; k < CB_NKEYS; k++)
    if (strcmp(cb_run_keys[k].key, key) == 0) return k;
  return -1;
}

void cb_run_record_set(json_t *o, cb_run_key k, json_t *value) {
  CB_CHECK(k >= 0 && k < CB_NKEYS && value != NULL);
  json_object_set_new(o, cb_run_keys[k].key, value);
}

/* Whether v has the JSON type the list names ("T" or "T or null"). */
static int type_ok(json_t *v, const char *type) {
  size_t n = strcspn(type, " ");
  if (json_is_null(v)) return strstr(type, " or null") != NULL;
  return (strncmp(type, "string", n) == 0 && json_is_string(v)) ||
         (strncmp(type, "integer", n) == 0 && json_is_integer(v)) ||
         (strncmp(type, "number", n) == 0 && json_is_number(v)) ||
         (strncmp(type, "boolean", n) == 0 && json_is_boolean(v)) ||
         (strncmp(type, "object", n) == 0 && json_is_object(v));
}

int cb_run_record_check(json_t *o, unsigned what, const char *const *extra, int nextra, char *why, size_t cap) {
  for (int k = 0; k < CB_NKEYS; k++) {
    const cb_run_key_def *d = &cb_run_keys[k];
    json_t *v = json_object_get(o, d->key);
    int want = strcmp(d->present, "always") == 0 ||
               (strcmp(d->present, "failed") == 0 && (what & CB_RECORD_FAILED)) ||
               (strcmp(d->present, "server") == 0 && (what & CB_RECORD_SERVER));
    if (!want != !v) {
      snprintf(why, cap, "key %s is %s, listed as present %s", d->key, v ? "there" : "missing", d->present);
      return -1;
    }
    if (v && !type_ok(v, d->type)) {
      snprintf(why, cap, "key %s is not of its listed type %s", d->key, d->type);
      return -1;
    }
  }
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    int k = 0;
    while (k < nextra && strcmp(extra[k], key) != 0) k++;
    int listed = cb_run_key_find(key) >= 0, figure = k < nextra && (json_is_number(v) || json_is_null(v));
    if (listed == figure) { /* neither, or a figure named like a key (it overwrote the key) */
      snprintf(why, cap, "key %s is %s", key,
               listed ? "both listed and a per-operation figure" : "neither listed nor a per-operation figure");
      return -1;
    }
  }
  return 0;
}

int cb_class_find(const char *name) {
  for (int c = 0; name && c < CB_NCLASSES; c++)
    if (strcmp(cb_classes[c].name, name) == 0) return c;
  return -1;
}

cb_class cb_class_of_run(int code, const char *error_class) {
  if (code < 0) return CB_CLASS_BAD_EXIT; /* -1 is "no exit code" in the list */
  int named = cb_class_find(error_class);
  if (named >= 0 && cb_classes[named].exit == code) return (cb_class)named;
  for (int c = 0; c < CB_NCLASSES; c++)
    if (cb_classes[c].exit == code) return (cb_class)c;
  return CB_CLASS_BAD_EXIT;
}

void cb_run_exits_help(FILE *f) {
  fprintf(f, "exit codes of run:\n");
  for (int k = 0; k < CB_NEXITS; k++) fprintf(f, "  %3d  %s\n", cb_exits[k].code, cb_exits[k].meaning);
}

void cb_run_record_help(FILE *f) {
  fprintf(f, "keys of the JSON object (docs/run-record.md); keys beyond these are the model's\n"
             "per-operation figures, such as ns_per_switch:\n");
  for (int k = 0; k < CB_NKEYS; k++)
    fprintf(f, "  %-22s %-15s %s%s\n", cb_run_keys[k].key, cb_run_keys[k].type, cb_run_keys[k].meaning,
            strcmp(cb_run_keys[k].present, "failed") == 0   ? " (only when the run did not verify)"
            : strcmp(cb_run_keys[k].present, "server") == 0 ? " (only for a server workload)"
                                                            : "");
  fprintf(f, "error_class, with the exit code it goes with:\n");
  for (int c = 0; c < CB_NCLASSES; c++)
    if (cb_classes[c].exit >= 0 && c != CB_CLASS_USAGE) /* a usage error prints no JSON */
      fprintf(f, "  %-15s %d  %s\n", cb_classes[c].name, cb_classes[c].exit, cb_classes[c].meaning);
}
