// Streaming gzip/zlib decompression for `.gz` logs and compressed stdin.
#include "csimdjson.h"

#include <new>
#include <zlib.h>

struct cs_inflater {
    z_stream zs;
};

extern "C" {

cs_inflater *cs_inflater_new(void) {
    auto *z = new (std::nothrow) cs_inflater();
    if (!z) return nullptr;
    // 15 + 32: maximum window, detect gzip or zlib headers automatically.
    if (inflateInit2(&z->zs, 15 + 32) != Z_OK) {
        delete z;
        return nullptr;
    }
    return z;
}

void cs_inflater_free(cs_inflater *z) {
    if (!z) return;
    inflateEnd(&z->zs);
    delete z;
}

int32_t cs_inflate(cs_inflater *z, const uint8_t *in, size_t inlen, size_t *consumed, uint8_t *out, size_t outcap,
                   size_t *produced) {
    z->zs.next_in = const_cast<Bytef *>(in);
    z->zs.avail_in = uInt(inlen);
    z->zs.next_out = out;
    z->zs.avail_out = uInt(outcap);
    int32_t result = 0;
    while (z->zs.avail_out > 0 && z->zs.avail_in > 0) {
        int rc = inflate(&z->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            // Concatenated members (`cat a.gz b.gz`) are one stream to gzip -dc.
            inflateReset(&z->zs);
            result = 1;
            continue;
        }
        if (rc == Z_BUF_ERROR) break;
        if (rc != Z_OK) {
            result = -1;
            break;
        }
        result = 0;
    }
    *consumed = inlen - z->zs.avail_in;
    *produced = outcap - z->zs.avail_out;
    return result;
}

}  // extern "C"
