/* log.h — the library's log sink. Messages go to stderr unless the embedder
 * installs a sink with g4_log_set(). The sink is set once at start-up. */
#ifndef G4_CORE_LOG_H
#define G4_CORE_LOG_H

#include "core/status.h"

void g4_log(g4_log_level level, const char *fmt, ...) G4_PRINTF(2, 3);
bool g4_log_enabled(g4_log_level level);

#define G4_LOGE(...) g4_log(G4_LOG_ERROR, __VA_ARGS__)
#define G4_LOGW(...) g4_log(G4_LOG_WARN, __VA_ARGS__)
#define G4_LOGI(...) g4_log(G4_LOG_INFO, __VA_ARGS__)
#define G4_LOGD(...) g4_log(G4_LOG_DEBUG, __VA_ARGS__)

#endif
