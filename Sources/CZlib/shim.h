// zlib for WebSocket permessage-deflate (raw deflate, RFC 7692) and gzip files. zlib's init calls are macros,
// which Swift cannot import: these wrappers make them functions.
#include <zlib.h>

static inline int czlib_deflate_init_raw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

static inline int czlib_inflate_init_raw(z_streamp stream) {
    return inflateInit2(stream, -15);
}

// gzip files for history import/export (`pulseboard replay FILE.ndjson.gz`, `generate --out FILE.gz`).
static inline int czlib_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 16 + 15);
}

static inline int czlib_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
}
