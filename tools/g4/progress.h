/* progress.h — a one-line progress bar on stderr for model loading.
 * It draws only when stderr is a terminal (nothing at all otherwise, so
 * logs and pipes stay clean), redraws only when the shown percentage
 * changes, and erases itself when done. Use progress_fn as the
 * g4_model_params.progress callback with the struct as its user pointer. */
#ifndef G4_TOOLS_PROGRESS_H
#define G4_TOOLS_PROGRESS_H

struct progress {
    int enabled;      /* stderr is a TTY */
    int shown;        /* last percentage drawn, -1 = none */
    const char *label;
};

void progress_init(struct progress *p, const char *label);
/* g4_progress_fn: fraction in [0, 1]; user is a struct progress. */
void progress_fn(double fraction, void *user);
/* Erases the bar (if one was drawn). */
void progress_done(struct progress *p);

#endif
