/* sg_thrift: Thrift compact protocol encoder (the subset Parquet's metadata needs), written
 * from the protocol specification. See sg_thrift.h. */
#include "storage/sg_thrift.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_varint.h"

void sg_thrift_varint(struct sg_buf *out, uint64_t v)
{
    uint8_t tmp[SG_VARINT_MAX];
    sg_buf_append(out, tmp, sg_varint_encode(v, tmp));
}

void sg_thrift_zigzag(struct sg_buf *out, int64_t v)
{
    sg_thrift_varint(out, sg_varint_zigzag(v));
}

static void putb(struct sg_thrift *t, uint8_t b)
{
    sg_buf_putc(t->out, (char)b);
}

void sg_thrift_init(struct sg_thrift *t, struct sg_buf *out)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    t->depth = 1;
}

int sg_thrift_finish(const struct sg_thrift *t)
{
    return (t->failed || t->depth != 0) ? SG_ERR_INTERNAL : SG_OK;
}

/* Field header: a 4-bit id delta packed with the type when 1 <= delta <= 15, otherwise the
 * type byte followed by the zigzag id. */
static void field_header(struct sg_thrift *t, int16_t id, uint8_t type)
{
    if (t->depth < 1 || id <= 0) {
        t->failed = 1;
        return;
    }
    int16_t *last = &t->last_id[t->depth - 1];
    if (id <= *last)
        t->failed = 1;
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        putb(t, (uint8_t)((delta << 4) | type));
    } else {
        putb(t, type);
        sg_thrift_zigzag(t->out, id);
    }
    *last = id;
}

void sg_thrift_field_bool(struct sg_thrift *t, int16_t id, int v)
{
    /* compact protocol: a bool field's value is its type nibble */
    field_header(t, id, v ? SG_THRIFT_BOOL_TRUE : SG_THRIFT_BOOL_FALSE);
}

void sg_thrift_field_i8(struct sg_thrift *t, int16_t id, int8_t v)
{
    field_header(t, id, SG_THRIFT_I8);
    putb(t, (uint8_t)v);
}

void sg_thrift_field_i16(struct sg_thrift *t, int16_t id, int16_t v)
{
    field_header(t, id, SG_THRIFT_I16);
    sg_thrift_zigzag(t->out, v);
}

void sg_thrift_field_i32(struct sg_thrift *t, int16_t id, int32_t v)
{
    field_header(t, id, SG_THRIFT_I32);
    sg_thrift_zigzag(t->out, v);
}

void sg_thrift_field_i64(struct sg_thrift *t, int16_t id, int64_t v)
{
    field_header(t, id, SG_THRIFT_I64);
    sg_thrift_zigzag(t->out, v);
}

void sg_thrift_field_binary(struct sg_thrift *t, int16_t id, const void *p, size_t n)
{
    field_header(t, id, SG_THRIFT_BINARY);
    sg_thrift_elem_binary(t, p, n);
}

void sg_thrift_field_string(struct sg_thrift *t, int16_t id, const char *s)
{
    sg_thrift_field_binary(t, id, s, strlen(s));
}

static void push(struct sg_thrift *t)
{
    if (t->depth >= SG_THRIFT_MAX_DEPTH) {
        t->failed = 1;
        return;
    }
    t->last_id[t->depth++] = 0;
}

void sg_thrift_field_struct_begin(struct sg_thrift *t, int16_t id)
{
    field_header(t, id, SG_THRIFT_STRUCT);
    push(t);
}

void sg_thrift_elem_struct_begin(struct sg_thrift *t)
{
    push(t);
}

void sg_thrift_struct_end(struct sg_thrift *t)
{
    if (t->depth < 1) {
        t->failed = 1;
        return;
    }
    putb(t, 0); /* STOP */
    t->depth--;
}

void sg_thrift_field_list_begin(struct sg_thrift *t, int16_t id, enum sg_thrift_type elem, size_t n)
{
    field_header(t, id, SG_THRIFT_LIST);
    if (n < 15) {
        putb(t, (uint8_t)((n << 4) | elem));
    } else {
        putb(t, (uint8_t)(0xF0 | elem));
        sg_thrift_varint(t->out, n);
    }
}

void sg_thrift_elem_i32(struct sg_thrift *t, int32_t v)
{
    sg_thrift_zigzag(t->out, v);
}

void sg_thrift_elem_i64(struct sg_thrift *t, int64_t v)
{
    sg_thrift_zigzag(t->out, v);
}

void sg_thrift_elem_binary(struct sg_thrift *t, const void *p, size_t n)
{
    sg_thrift_varint(t->out, n);
    sg_buf_append(t->out, p, n);
}
