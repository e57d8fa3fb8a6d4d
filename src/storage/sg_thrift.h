/* sg_thrift: an encoder for the Apache Thrift compact protocol, just enough for Parquet's
 * footer (FileMetaData) and page headers: structs, i8/i16/i32/i64, bool, binary/string, lists.
 * Hand-written because Debian has no C Thrift compact encoder and the subset is ~150 lines.
 * Not a decoder, no maps/sets/doubles/messages. Output goes into a caller's sg_buf.
 *
 * Usage: fields are written in increasing id order inside a struct (the compact protocol
 * encodes id deltas); every *_begin is matched by sg_thrift_struct_end (structs) or by
 * writing exactly `n` elements (lists). */
#ifndef SG_THRIFT_H
#define SG_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"

/* Compact-protocol type ids (thrift-compact-protocol.md). */
enum sg_thrift_type {
    SG_THRIFT_BOOL_TRUE = 1,
    SG_THRIFT_BOOL_FALSE = 2,
    SG_THRIFT_I8 = 3,
    SG_THRIFT_I16 = 4,
    SG_THRIFT_I32 = 5,
    SG_THRIFT_I64 = 6,
    SG_THRIFT_DOUBLE = 7,
    SG_THRIFT_BINARY = 8,
    SG_THRIFT_LIST = 9,
    SG_THRIFT_SET = 10,
    SG_THRIFT_MAP = 11,
    SG_THRIFT_STRUCT = 12,
};

#define SG_THRIFT_MAX_DEPTH 16

/* Encoder state: the output buffer (borrowed) and the last field id per open struct. */
struct sg_thrift {
    struct sg_buf *out;
    int16_t last_id[SG_THRIFT_MAX_DEPTH];
    int depth;  /* number of open structs (the outermost struct is depth 1) */
    int failed; /* set when nesting/ordering rules were broken: the output is garbage */
};

/* Starts encoding the outermost struct into `out` (appends; `out` is not reset). */
void sg_thrift_init(struct sg_thrift *t, struct sg_buf *out);

/* Returns SG_OK if every struct was closed and no rule was broken, else SG_ERR_INTERNAL. */
int sg_thrift_finish(const struct sg_thrift *t);

/* Struct fields (id > 0, strictly increasing within the current struct). */
void sg_thrift_field_bool(struct sg_thrift *t, int16_t id, int v);
void sg_thrift_field_i8(struct sg_thrift *t, int16_t id, int8_t v);
void sg_thrift_field_i16(struct sg_thrift *t, int16_t id, int16_t v);
void sg_thrift_field_i32(struct sg_thrift *t, int16_t id, int32_t v);
void sg_thrift_field_i64(struct sg_thrift *t, int16_t id, int64_t v);
void sg_thrift_field_binary(struct sg_thrift *t, int16_t id, const void *p, size_t n);
void sg_thrift_field_string(struct sg_thrift *t, int16_t id, const char *s);
/* Opens a nested struct field (also used for union members); close with struct_end. */
void sg_thrift_field_struct_begin(struct sg_thrift *t, int16_t id);
/* Opens a list field of `n` elements of type `elem`; then write the n elements. */
void sg_thrift_field_list_begin(struct sg_thrift *t, int16_t id, enum sg_thrift_type elem,
                                size_t n);
/* Writes the STOP byte of the current struct and returns to the enclosing one. */
void sg_thrift_struct_end(struct sg_thrift *t);

/* List elements. */
void sg_thrift_elem_i32(struct sg_thrift *t, int32_t v);
void sg_thrift_elem_i64(struct sg_thrift *t, int64_t v);
void sg_thrift_elem_binary(struct sg_thrift *t, const void *p, size_t n);
/* Opens a struct list element; close with sg_thrift_struct_end. */
void sg_thrift_elem_struct_begin(struct sg_thrift *t);

/* Low-level: appends an unsigned LEB128 varint / a zigzag-encoded signed varint. */
void sg_thrift_varint(struct sg_buf *out, uint64_t v);
void sg_thrift_zigzag(struct sg_buf *out, int64_t v);

#endif
