/* libFuzzer target: the Parquet reader (src/storage/sg_pqreader.c) on arbitrary bytes - the
 * footer's Thrift compact decoding, page headers, decompression, levels and values. Any input
 * must give SG_OK or SG_ERR_FORMAT, never a crash, leak or out-of-bounds read; a table read
 * successfully must be internally consistent. Seeds: small files written by sg_parquet. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "storage/sg_pqreader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_pqr_table t;
    char err[256];
    int rc = sg_pqreader_read_mem(data, size, &t, err, sizeof err);
    if (rc != SG_OK && rc != SG_ERR_FORMAT)
        abort();
    if (rc == SG_OK) {
        for (size_t c = 0; c < t.ncols; c++) {
            const struct sg_pqr_column *col = &t.cols[c];
            for (size_t r = 0; r < t.nrows; r++) {
                if (col->valid[r] > 1)
                    abort();
                if (col->kind == SG_PQR_STRING && col->valid[r] && !col->str[r])
                    abort();
            }
        }
    }
    sg_pqreader_release(&t);
    return 0;
}
