/* CCallgrind is header-only (static inline client requests); SwiftPM wants a source file. */
#include "CCallgrind.h"
