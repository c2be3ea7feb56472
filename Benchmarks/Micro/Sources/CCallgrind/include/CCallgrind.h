#ifndef PULSEBOARD_MICRO_CCALLGRIND_H
#define PULSEBOARD_MICRO_CCALLGRIND_H

/* Callgrind client requests for micro-workload: a few no-op instructions when not under
 * valgrind. The header comes with Debian's valgrind package; without it (valgrind not
 * installed when this was built) every request is a no-op and micro_callgrind_available()
 * says so, which callgrind.sh reports. */

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>

static inline int micro_callgrind_available(void) { return 1; }
static inline unsigned micro_running_on_valgrind(void) { return (unsigned)RUNNING_ON_VALGRIND; }
/* Starts instrumentation (run callgrind with --instr-atstart=no: setup runs uninstrumented). */
static inline void micro_callgrind_start_instrumentation(void) { CALLGRIND_START_INSTRUMENTATION; }
/* Stops instrumentation: nothing, not even call counts, is recorded until the next start. */
static inline void micro_callgrind_stop_instrumentation(void) { CALLGRIND_STOP_INSTRUMENTATION; }
/* Turns event collection on or off (run with --collect-atstart=no). */
static inline void micro_callgrind_toggle_collect(void) { CALLGRIND_TOGGLE_COLLECT; }
#else
static inline int micro_callgrind_available(void) { return 0; }
static inline unsigned micro_running_on_valgrind(void) { return 0; }
static inline void micro_callgrind_start_instrumentation(void) {}
static inline void micro_callgrind_stop_instrumentation(void) {}
static inline void micro_callgrind_toggle_collect(void) {}
#endif

#endif
