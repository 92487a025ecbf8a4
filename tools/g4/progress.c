/* progress.c — the loading progress bar (see progress.h). The bar is
 * "label [#####.....]  42%" redrawn in place with a carriage return; a
 * non-finite or out-of-range fraction is clamped, so a bad callback value
 * can never garble the terminal. */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define BAR_WIDTH 30

void progress_init(struct progress *p, const char *label) {
    p->enabled = isatty(STDERR_FILENO);
    p->shown = -1;
    p->label = label ? label : "loading";
}

void progress_fn(double fraction, void *user) {
    struct progress *p = user;
    if (!p || !p->enabled) return;
    if (!(fraction >= 0)) fraction = 0; /* also NaN */
    if (fraction > 1) fraction = 1;
    int pct = (int)floor(fraction * 100.0);
    if (pct == p->shown) return;
    p->shown = pct;
    int fill = (int)(fraction * BAR_WIDTH);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    fprintf(stderr, "\r%s [%s] %3d%%", p->label, bar, pct);
    fflush(stderr);
}

void progress_done(struct progress *p) {
    if (!p || !p->enabled || p->shown < 0) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    p->shown = -1;
}
