/*
 * The native reading of job texts: one strict pass over each text that checks it as JSON and
 * takes out the fields the index reads (jobquery/snapshot/native_read.py says which, and what a
 * text must be for this reading to vouch for it).
 *
 * scan(region, starts, ends, top_keys) reads the texts region[starts[i]:ends[i]] with the GIL
 * released and returns a dict of buffers: per text whether it was vouched for, and per field
 * Arrow string views (each field's strings copied, escapes decoded, into a buffer of its own:
 * a column then holds only its own strings, in memory and in an Arrow file), validity bitmaps,
 * booleans and list offsets. Anything this reading is not sure to read exactly as the
 * reference does (orjson and the per-job rules) makes the text doubtful; the caller then reads
 * it one by one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* ------------------------------------------------------------------------------------------ */
/* Growable buffers and the buffer object that hands them to Python without a copy            */

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed;
    int mapped; /* data is a memory map of cap bytes */
} Grow;

/* Buffers from this size on are memory maps where the system has mremap: they grow without
 * a copy and go back to the system when freed. (glibc's malloc raises its own threshold for
 * maps after a large free, and then keeps the memory of the build's freed buffers: the
 * build's peak grew by about a tenth.) */
#define MAP_FROM (256 * 1024)

static int grow_reserve(Grow *g, size_t extra) {
    if (g->len + extra <= g->cap) return 0;
    size_t cap = g->cap ? g->cap : 4096;
    while (cap < g->len + extra) cap *= 2;
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
    if (cap >= MAP_FROM) {
        void *data;
        if (g->mapped) {
            data = mremap(g->data, g->cap, cap, MREMAP_MAYMOVE);
        } else {
            data = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (data != MAP_FAILED) {
                if (g->len) memcpy(data, g->data, g->len);
                free(g->data);
            }
        }
        if (data == MAP_FAILED) {
            g->failed = 1;
            return -1;
        }
        g->data = data;
        g->cap = cap;
        g->mapped = 1;
        return 0;
    }
#endif
    uint8_t *data = realloc(g->data, cap);
    if (!data) {
        g->failed = 1;
        return -1;
    }
    g->data = data;
    g->cap = cap;
    return 0;
}

static void grow_free(Grow *g) {
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
    if (g->mapped) {
        munmap(g->data, g->cap);
        g->data = NULL;
        return;
    }
#endif
    free(g->data);
    g->data = NULL;
}

typedef struct {
    PyObject_HEAD
    Grow memory;
} Block;

static void block_dealloc(Block *self) {
    grow_free(&self->memory);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int block_getbuffer(Block *self, Py_buffer *view, int flags) {
    return PyBuffer_FillInfo(view, (PyObject *)self, self->memory.data, (Py_ssize_t)self->memory.len, 0, flags);
}

static PyBufferProcs block_as_buffer = {(getbufferproc)block_getbuffer, NULL};

static PyTypeObject BlockType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "jobquery.snapshot._fieldscan.Block",
    .tp_basicsize = sizeof(Block),
    .tp_dealloc = (destructor)block_dealloc,
    .tp_as_buffer = &block_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Memory written by scan(), lent to Python through the buffer protocol.",
};

/* A Block taking over g's memory (g is left empty). */
static PyObject *block_from(Grow *g) {
    if (!g->data && grow_reserve(g, 1)) return PyErr_NoMemory(); /* never a null pointer */
    Block *block = PyObject_New(Block, &BlockType);
    if (!block) return NULL;
    block->memory = *g;
    memset(g, 0, sizeof *g);
    return (PyObject *)block;
}

/* ------------------------------------------------------------------------------------------ */
/* Columns                                                                                     */

/* Strings as Arrow string views: 16 bytes per value, into the column's own data (buffer 0). */
typedef struct {
    Grow views;
    Grow data;
    Grow valid; /* one bit per value */
    Grow kinds; /* top-level numeric fields only: 1 for a JSON number, 2 for a JSON string */
    size_t count;
} Strings;

typedef struct {
    Grow values; /* one bit per value */
    Grow valid;
    size_t count;
} Booleans;

/* Room for `count` bits; new bytes are zero. */
static int bits_reserve(Grow *bits, size_t count) {
    size_t need = (count + 7) / 8;
    if (need <= bits->len) return 0;
    if (grow_reserve(bits, need - bits->len)) return -1;
    memset(bits->data + bits->len, 0, need - bits->len);
    bits->len = need;
    return 0;
}

static inline void bit_set(Grow *bits, size_t index) { bits->data[index >> 3] |= (uint8_t)(1u << (index & 7)); }
static inline void bit_clear(Grow *bits, size_t index) { bits->data[index >> 3] &= (uint8_t)~(1u << (index & 7)); }

/* Room for one more value (null until set). */
static int strings_add(Strings *s) {
    if (grow_reserve(&s->views, 16) || bits_reserve(&s->valid, s->count + 1)) return -1;
    memset(s->views.data + s->views.len, 0, 16);
    s->views.len += 16;
    bit_clear(&s->valid, s->count);
    s->count++;
    return 0;
}

static void strings_truncate(Strings *s, size_t count) {
    s->count = count;
    s->views.len = count * 16;
}

static void view_write(uint8_t *view, const uint8_t *text, uint32_t length, int32_t buffer, uint32_t offset) {
    int32_t size = (int32_t)length;
    memcpy(view, &size, 4);
    if (length <= 12) {
        memcpy(view + 4, text, length);
        memset(view + 4 + length, 0, 12 - length);
    } else {
        memcpy(view + 4, text, 4);
        memcpy(view + 8, &buffer, 4);
        memcpy(view + 12, &offset, 4);
    }
}

static int booleans_add(Booleans *b) {
    if (bits_reserve(&b->values, b->count + 1) || bits_reserve(&b->valid, b->count + 1)) return -1;
    bit_clear(&b->values, b->count);
    bit_clear(&b->valid, b->count);
    b->count++;
    return 0;
}

static void booleans_set(Booleans *b, size_t index, int value) {
    bit_set(&b->valid, index);
    if (value) bit_set(&b->values, index);
}

/* List offsets (int32) with a validity bitmap, one list per text. */
typedef struct {
    Grow offsets;
    Grow valid;
    size_t count; /* lists */
} Lists;

static int lists_init(Lists *l) {
    if (grow_reserve(&l->offsets, 4)) return -1;
    memset(l->offsets.data, 0, 4);
    l->offsets.len = 4;
    return 0;
}

static int lists_close(Lists *l, size_t children, int valid) {
    if (grow_reserve(&l->offsets, 4) || bits_reserve(&l->valid, l->count + 1)) return -1;
    int32_t end = (int32_t)children;
    memcpy(l->offsets.data + l->offsets.len, &end, 4);
    l->offsets.len += 4;
    if (valid) bit_set(&l->valid, l->count); else bit_clear(&l->valid, l->count);
    l->count++;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The fields                                                                                  */

enum Kind { KIND_STRING = 0, KIND_NUMBER = 1, KIND_BOOLEAN = 2 };

#define MAX_TOP 60
#define KEY_TABLE 256
#define MAX_DEPTH 1000
/* A tag object with more members than this is left to the per-job reading. */
#define MAX_TAGS 256

typedef struct {
    int count;
    int kinds[MAX_TOP];
    char *names[MAX_TOP];
    size_t lengths[MAX_TOP];
    int16_t table[KEY_TABLE]; /* hash of a top-level key -> field + 1 (0: none) */
} Schema;

/* The top-level objects and lists read, as bits of an object's seen keys after the fields'. */
enum { SEEN_SETTINGS, SEEN_JOBSPECS, SEEN_HISTORY };

/* The keys read below the top level (the module publishes them: native_read.py and
 * repeated_keys.py name the same keys). */
static const char *const SETTINGS_KEYS[] = {"BusinessUserId", "Caller", "PipelineId", "OversoldType"};
#define SETTINGS_COUNT 4
static const char *const ROLE_KEYS[] = {"Image", "UseSpotInstance", "OversoldType", "AssignNodeSpec"};
enum { ROLE_IMAGE, ROLE_SPOT, ROLE_OVERSOLD, ROLE_ASSIGN };
static const char *const HISTORY_KEYS[] = {"ReasonCode", "ReasonMessage"};
enum { HISTORY_CODE, HISTORY_MESSAGE };

typedef struct {
    const Schema *schema;
    const uint8_t *base;      /* the region */
    const uint8_t *region_end;
    Strings top[MAX_TOP];
    Booleans top_bool[MAX_TOP];
    Strings settings[SETTINGS_COUNT];
    Lists tags;
    Strings tag_keys, tag_values;
    Lists roles;
    Grow role_valid;          /* bit per role */
    size_t role_count;
    Strings role_image, role_oversold;
    Booleans role_spot, role_assign;
    Lists history;
    Strings reason_code, reason_message;
    Grow ok;                  /* one byte per text */
    Grow scratch;             /* a string's escapes decoded (a key to match, a value to copy) */
} Scan;

/* A key's slot in the table: its length and three of its bytes are enough to tell the
 * fields apart (a collision costs a comparison more). */
static inline uint32_t key_hash(const uint8_t *key, size_t length) {
    if (length == 0) return 0;
    return (uint32_t)(length * 97u + key[0] * 31u + key[length / 2] * 7u + key[length - 1]);
}

/* ------------------------------------------------------------------------------------------ */
/* The parser                                                                                  */

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    Scan *scan;
} Cursor;

typedef struct {
    const uint8_t *start; /* the raw bytes between the quotes */
    size_t length;
    int escaped;
} Span;

#define FAIL (-1)

static inline void skip_space(Cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static inline int hex_value(uint8_t h) {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
}

static int hex4(const uint8_t *p, const uint8_t *end, uint32_t *out) {
    if (end - p < 4) return FAIL;
    uint32_t value = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0) return FAIL;
        value = (value << 4) | (uint32_t)h;
    }
    *out = value;
    return 0;
}

/* Where the next '"', '\\' or control byte is, from p (end when none). */
static inline const uint8_t *string_stop(const uint8_t *p, const uint8_t *end, const uint8_t *safe_end) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1F);
    while (p + 16 <= safe_end) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)p);
        __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, slash)),
                                    _mm_cmpeq_epi8(_mm_max_epu8(chunk, control), control));
        int mask = _mm_movemask_epi8(hits);
        if (mask) {
            const uint8_t *found = p + __builtin_ctz((unsigned)mask);
            return found < end ? found : end;
        }
        p += 16;
        if (p >= end) return end;
    }
#else
    (void)safe_end;
#endif
    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20) p++;
    return p;
}

/* A string at c->p (the opening quote): checks it and gives its raw span. */
static int read_string(Cursor *c, Span *span) {
    const uint8_t *p = c->p + 1;
    span->start = p;
    span->escaped = 0;
    for (;;) {
        p = string_stop(p, c->end, c->scan->region_end);
        if (p >= c->end) return FAIL;
        if (*p == '"') break;
        if (*p < 0x20) return FAIL;
        /* an escape */
        span->escaped = 1;
        if (p + 1 >= c->end) return FAIL;
        uint8_t e = p[1];
        if (e == 'u') {
            uint32_t unit;
            if (hex4(p + 2, c->end, &unit)) return FAIL;
            p += 6;
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                uint32_t low;
                if (c->end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, c->end, &low)) return FAIL;
                if (low < 0xDC00 || low > 0xDFFF) return FAIL;
                p += 6;
            } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
                return FAIL;
            }
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
            p += 2;
        } else {
            return FAIL;
        }
    }
    span->length = (size_t)(p - span->start);
    c->p = p + 1;
    return 0;
}

static void put_utf8(uint8_t **out, uint32_t code) {
    uint8_t *o = *out;
    if (code < 0x80) {
        *o++ = (uint8_t)code;
    } else if (code < 0x800) {
        *o++ = (uint8_t)(0xC0 | (code >> 6));
        *o++ = (uint8_t)(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        *o++ = (uint8_t)(0xE0 | (code >> 12));
        *o++ = (uint8_t)(0x80 | ((code >> 6) & 0x3F));
        *o++ = (uint8_t)(0x80 | (code & 0x3F));
    } else {
        *o++ = (uint8_t)(0xF0 | (code >> 18));
        *o++ = (uint8_t)(0x80 | ((code >> 12) & 0x3F));
        *o++ = (uint8_t)(0x80 | ((code >> 6) & 0x3F));
        *o++ = (uint8_t)(0x80 | (code & 0x3F));
    }
    *out = o;
}

/* A checked span's escapes decoded, appended to out (never longer than the raw span). */
static int decode_into(const Span *span, Grow *out) {
    if (grow_reserve(out, span->length)) return FAIL;
    const uint8_t *p = span->start, *end = span->start + span->length;
    uint8_t *o = out->data + out->len;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        uint8_t e = p[1];
        if (e == 'u') {
            uint32_t unit;
            hex4(p + 2, end, &unit);
            p += 6;
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                uint32_t low;
                hex4(p + 2, end, &low);
                p += 6;
                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            }
            put_utf8(&o, unit);
            continue;
        }
        switch (e) {
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            default: *o++ = e; break;
        }
        p += 2;
    }
    out->len = (size_t)(o - out->data);
    return 0;
}

/* Bytes appended to column s's data, as value `index`. */
static int set_bytes(Strings *s, size_t index, const uint8_t *text, size_t length) {
    size_t at = s->data.len;
    if (length > 12) {
        if (at + length > INT32_MAX || grow_reserve(&s->data, length)) return FAIL;
        memcpy(s->data.data + at, text, length);
        s->data.len += length;
    }
    view_write(s->views.data + index * 16, text, (uint32_t)length, 0, (uint32_t)at);
    bit_set(&s->valid, index);
    return 0;
}

/* Set value `index` of column s to a checked string, its escapes decoded. */
static int set_string(Scan *scan, Strings *s, size_t index, const Span *span) {
    if (!span->escaped) return set_bytes(s, index, span->start, span->length);
    Grow *scratch = &scan->scratch;
    scratch->len = 0;
    if (decode_into(span, scratch)) return FAIL;
    return set_bytes(s, index, scratch->data, scratch->len);
}

/* A number at c->p, checked by JSON's grammar. Doubtful when orjson might refuse it (beyond
 * the double range): an exponent of three digits or more, or more than MAX_MAGNITUDE digits
 * before the point once the exponent is counted. *integral: no fraction and no exponent;
 * *digits: how many digits before the point. */
#define MAX_MAGNITUDE 300
/* An integer of more digits is a float to orjson (beyond 64 bits), which the index fields
 * leave to the per-job reading. */
#define MAX_INDEX_DIGITS 18

static int read_number(Cursor *c, int *integral, int *digits) {
    const uint8_t *p = c->p, *end = c->end;
    if (p < end && *p == '-') p++;
    if (p >= end) return FAIL;
    const uint8_t *first = p;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') p++;
    } else {
        return FAIL;
    }
    *digits = (int)(p - first > MAX_MAGNITUDE ? MAX_MAGNITUDE + 1 : p - first);
    *integral = 1;
    if (p < end && *p == '.') {
        p++;
        const uint8_t *fraction = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == fraction) return FAIL;
        *integral = 0;
    }
    int magnitude = *digits;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int negative = p < end && *p == '-';
        if (p < end && (*p == '+' || *p == '-')) p++;
        const uint8_t *exponent = p;
        int value = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (p - exponent < 3) value = value * 10 + (*p - '0');
            p++;
        }
        if (p == exponent || p - exponent > 2) return FAIL;
        if (!negative) magnitude += value;
        *integral = 0;
    }
    if (magnitude > MAX_MAGNITUDE) return FAIL;
    c->p = p;
    return 0;
}

static int expect_word(Cursor *c, const char *word, size_t length) {
    if ((size_t)(c->end - c->p) < length || memcmp(c->p, word, length) != 0) return FAIL;
    c->p += length;
    return 0;
}

/* Any JSON value, checked and passed over. */
static int skip_value(Cursor *c, int depth) {
    skip_space(c);
    if (c->p >= c->end) return FAIL;
    uint8_t first = *c->p;
    if (first == '"') {
        Span span;
        return read_string(c, &span);
    }
    if (first == '{' || first == '[') {
        if (depth >= MAX_DEPTH) return FAIL;
        uint8_t close = first == '{' ? '}' : ']';
        c->p++;
        skip_space(c);
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return 0;
        }
        for (;;) {
            if (first == '{') {
                skip_space(c);
                if (c->p >= c->end || *c->p != '"') return FAIL;
                Span key;
                if (read_string(c, &key)) return FAIL;
                skip_space(c);
                if (c->p >= c->end || *c->p != ':') return FAIL;
                c->p++;
            }
            if (skip_value(c, depth + 1)) return FAIL;
            skip_space(c);
            if (c->p >= c->end) return FAIL;
            if (*c->p == ',') {
                c->p++;
                continue;
            }
            if (*c->p == close) {
                c->p++;
                return 0;
            }
            return FAIL;
        }
    }
    if (first == 't') return expect_word(c, "true", 4);
    if (first == 'f') return expect_word(c, "false", 5);
    if (first == 'n') return expect_word(c, "null", 4);
    int integral, digits;
    return read_number(c, &integral, &digits);
}

/* What a value is, from its first byte. */
enum Shape { SHAPE_STRING, SHAPE_NUMBER, SHAPE_TRUE, SHAPE_FALSE, SHAPE_NULL, SHAPE_OBJECT, SHAPE_ARRAY, SHAPE_BAD };

static enum Shape shape_at(Cursor *c) {
    skip_space(c);
    if (c->p >= c->end) return SHAPE_BAD;
    switch (*c->p) {
        case '"': return SHAPE_STRING;
        case '{': return SHAPE_OBJECT;
        case '[': return SHAPE_ARRAY;
        case 't': return SHAPE_TRUE;
        case 'f': return SHAPE_FALSE;
        case 'n': return SHAPE_NULL;
        default: return (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) ? SHAPE_NUMBER : SHAPE_BAD;
    }
}

static int read_literal(Cursor *c, enum Shape shape) {
    if (shape == SHAPE_TRUE) return expect_word(c, "true", 4);
    if (shape == SHAPE_FALSE) return expect_word(c, "false", 5);
    return expect_word(c, "null", 4);
}

/* A string into column s at index; any other value is passed over and leaves it null (the
 * per-job rules read a value of another type as missing). */
static int string_value(Cursor *c, Strings *s, size_t index, int depth) {
    if (shape_at(c) != SHAPE_STRING) return skip_value(c, depth);
    Span span;
    if (read_string(c, &span)) return FAIL;
    return set_string(c->scan, s, index, &span);
}

/* true or false into b at index; any other value leaves it null. */
static int boolean_value(Cursor *c, Booleans *b, size_t index, int depth) {
    enum Shape shape = shape_at(c);
    if (shape != SHAPE_TRUE && shape != SHAPE_FALSE) return skip_value(c, depth);
    if (read_literal(c, shape)) return FAIL;
    booleans_set(b, index, shape == SHAPE_TRUE);
    return 0;
}

/* An object's members: for each, its key (decoded when escaped, in key/length) and then
 * member() reads the value; a key seen twice among those member() tracks is doubtful. */
typedef int (*Member)(Cursor *c, const uint8_t *key, size_t length, uint64_t *seen, void *context, int depth);

static int read_key(Cursor *c, const uint8_t **key, size_t *length) {
    skip_space(c);
    if (c->p >= c->end || *c->p != '"') return FAIL;
    Span span;
    if (read_string(c, &span)) return FAIL;
    if (span.escaped) {
        Grow *scratch = &c->scan->scratch;
        scratch->len = 0;
        if (decode_into(&span, scratch)) return FAIL;
        *key = scratch->data;
        *length = scratch->len;
    } else {
        *key = span.start;
        *length = span.length;
    }
    skip_space(c);
    if (c->p >= c->end || *c->p != ':') return FAIL;
    c->p++;
    return 0;
}

static int read_object(Cursor *c, Member member, void *context, int depth) {
    if (depth >= MAX_DEPTH) return FAIL;
    c->p++; /* the brace */
    skip_space(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    uint64_t seen = 0;
    for (;;) {
        const uint8_t *key;
        size_t length;
        if (read_key(c, &key, &length)) return FAIL;
        if (member(c, key, length, &seen, context, depth + 1)) return FAIL;
        skip_space(c);
        if (c->p >= c->end) return FAIL;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p == '}') {
            c->p++;
            return 0;
        }
        return FAIL;
    }
}

static inline int once(uint64_t *seen, int bit) {
    uint64_t mask = (uint64_t)1 << bit;
    if (*seen & mask) return FAIL;
    *seen |= mask;
    return 0;
}

#define KEY_IS(name) (length == strlen(name) && memcmp(key, name, length) == 0)

/* Settings.Tags: each member's key and value text (a string's contents, or the spelling of an
 * integer, a boolean or null); floats, -0, nested values and a key given twice are doubtful. */
typedef struct {
    size_t first; /* the first tag of this object among tag_keys */
} TagContext;

static int tag_member(Cursor *c, const uint8_t *key, size_t length, uint64_t *seen, void *context, int depth) {
    (void)seen;
    (void)depth;
    Scan *scan = c->scan;
    TagContext *tags = context;
    size_t index = scan->tag_keys.count;
    if (index - tags->first >= MAX_TAGS) return FAIL;
    if (strings_add(&scan->tag_keys) || strings_add(&scan->tag_values)) return FAIL;
    /* the key (decoded already when escaped) */
    if (set_bytes(&scan->tag_keys, index, key, length)) return FAIL;
    /* a key given twice: compared with the object's earlier keys */
    for (size_t other = tags->first; other < index; other++) {
        const uint8_t *a = scan->tag_keys.views.data + other * 16, *b = scan->tag_keys.views.data + index * 16;
        int32_t la, lb;
        memcpy(&la, a, 4);
        memcpy(&lb, b, 4);
        if (la != lb) continue;
        const uint8_t *ta, *tb;
        if (la <= 12) {
            ta = a + 4;
            tb = b + 4;
        } else {
            int32_t ba, bb;
            uint32_t oa, ob;
            memcpy(&ba, a + 8, 4); memcpy(&oa, a + 12, 4);
            memcpy(&bb, b + 8, 4); memcpy(&ob, b + 12, 4);
            (void)ba;
            (void)bb;
            ta = scan->tag_keys.data.data + oa;
            tb = scan->tag_keys.data.data + ob;
        }
        if (memcmp(ta, tb, (size_t)la) == 0) return FAIL;
    }
    enum Shape shape = shape_at(c);
    const uint8_t *start = c->p;
    Span value;
    switch (shape) {
        case SHAPE_STRING:
            if (read_string(c, &value)) return FAIL;
            return set_string(scan, &scan->tag_values, index, &value);
        case SHAPE_NUMBER: {
            int integral, digits;
            if (read_number(c, &integral, &digits) || !integral || digits > MAX_INDEX_DIGITS) return FAIL;
            if (c->p - start == 2 && start[0] == '-' && start[1] == '0') return FAIL;
            break;
        }
        case SHAPE_TRUE:
        case SHAPE_FALSE:
        case SHAPE_NULL:
            if (read_literal(c, shape)) return FAIL;
            break;
        default:
            return FAIL;
    }
    value.start = start;
    value.length = (size_t)(c->p - start);
    value.escaped = 0;
    return set_string(scan, &scan->tag_values, index, &value);
}

static int settings_member(Cursor *c, const uint8_t *key, size_t length, uint64_t *seen, void *context, int depth) {
    Scan *scan = c->scan;
    size_t row = *(size_t *)context;
    for (int k = 0; k < SETTINGS_COUNT; k++) {
        if (KEY_IS(SETTINGS_KEYS[k])) {
            if (once(seen, k)) return FAIL;
            return string_value(c, &scan->settings[k], row, depth);
        }
    }
    if (KEY_IS("Tags")) {
        if (once(seen, SETTINGS_COUNT)) return FAIL;
        if (shape_at(c) != SHAPE_OBJECT) return skip_value(c, depth);
        TagContext tags = {scan->tag_keys.count};
        if (read_object(c, tag_member, &tags, depth)) return FAIL;
        bit_set(&scan->tags.valid, row); /* the list is closed with this text */
        return 0;
    }
    return skip_value(c, depth);
}

static int assign_member(Cursor *c, const uint8_t *key, size_t length, uint64_t *seen, void *context, int depth) {
    size_t role = *(size_t *)context;
    if (KEY_IS("EnableAssignNode")) { /* the one key of AssignNodeSpec read */
        if (once(seen, 0)) return FAIL;
        return boolean_value(c, &c->scan->role_assign, role, depth);
    }
    return skip_value(c, depth);
}

static int role_member(Cursor *c, const uint8_t *key, size_t length, uint64_t *seen, void *context, int depth) {
    Scan *scan = c->scan;
    size_t role = *(size_t *)context;
    if (KEY_IS(ROLE_KEYS[ROLE_IMAGE])) {
        if (once(seen, ROLE_IMAGE)) return FAIL;
        return string_value(c, &scan->role_image, role, depth);
    }
    if (KEY_IS(ROLE_KEYS[ROLE_SPOT])) {
        if (once(seen, ROLE_SPOT)) return FAIL;
        return boolean_value(c, &scan->role_spot, role, depth);
    }
    if (KEY_IS(ROLE_KEYS[ROLE_OVERSOLD])) {
        if (once(seen, ROLE_OVERSOLD)) return FAIL;
        return string_value(c, &scan->role_oversold, role, depth);
    }
    if (KEY_IS(ROLE_KEYS[ROLE_ASSIGN])) {
        if (once(seen, ROLE_ASSIGN)) return FAIL;
        if (shape_at(c) != SHAPE_OBJECT) return skip_value(c, depth);
        return read_object(c, assign_member, context, depth);
    }
    return skip_value(c, depth);
}

static int history_member(Cursor *c, const uint8_t *key, size_t length, uint64_t *seen, void *context, int depth) {
    Scan *scan = c->scan;
    size_t entry = *(size_t *)context;
    if (KEY_IS(HISTORY_KEYS[HISTORY_CODE])) {
        if (once(seen, HISTORY_CODE)) return FAIL;
        return string_value(c, &scan->reason_code, entry, depth);
    }
    if (KEY_IS(HISTORY_KEYS[HISTORY_MESSAGE])) {
        if (once(seen, HISTORY_MESSAGE)) return FAIL;
        return string_value(c, &scan->reason_message, entry, depth);
    }
    return skip_value(c, depth);
}

/* Room for one more JobSpecs role (null until read), its position in *index. */
static int add_role(Scan *scan, size_t *index) {
    size_t role = scan->role_count;
    if (strings_add(&scan->role_image) || strings_add(&scan->role_oversold) || booleans_add(&scan->role_spot) ||
        booleans_add(&scan->role_assign) || bits_reserve(&scan->role_valid, role + 1))
        return FAIL;
    bit_clear(&scan->role_valid, role);
    scan->role_count++;
    *index = role;
    return 0;
}

static void role_read(Scan *scan, size_t index) { bit_set(&scan->role_valid, index); }

/* Room for one more StatusHistory entry (both reasons null until read). */
static int add_entry(Scan *scan, size_t *index) {
    *index = scan->reason_code.count;
    return strings_add(&scan->reason_code) || strings_add(&scan->reason_message) ? FAIL : 0;
}

static void entry_read(Scan *scan, size_t index) { (void)scan, (void)index; }

/* A list of objects, each read by member() once add() made room for it and then marked by
 * done(); any other element is a null one (JobSpecs, StatusHistory). */
static int read_list(Cursor *c, int depth, int (*add)(Scan *, size_t *), Member member,
                     void (*done)(Scan *, size_t)) {
    c->p++;
    skip_space(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return 0;
    }
    for (;;) {
        size_t index;
        if (add(c->scan, &index)) return FAIL;
        if (shape_at(c) == SHAPE_OBJECT) {
            if (read_object(c, member, &index, depth + 1)) return FAIL;
            done(c->scan, index);
        } else if (skip_value(c, depth + 1)) {
            return FAIL;
        }
        skip_space(c);
        if (c->p >= c->end) return FAIL;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p == ']') {
            c->p++;
            return 0;
        }
        return FAIL;
    }
}

typedef struct {
    size_t row;
    int roles_valid;
    int history_valid;
} TopContext;

static int top_field(const Schema *schema, const uint8_t *key, size_t length) {
    uint32_t slot = key_hash(key, length) & (KEY_TABLE - 1);
    while (schema->table[slot]) {
        int field = schema->table[slot] - 1;
        if (schema->lengths[field] == length && memcmp(schema->names[field], key, length) == 0) return field;
        slot = (slot + 1) & (KEY_TABLE - 1);
    }
    return -1;
}

static int top_member(Cursor *c, const uint8_t *key, size_t length, uint64_t *seen, void *context, int depth) {
    Scan *scan = c->scan;
    TopContext *top = context;
    size_t row = top->row;
    int field = top_field(scan->schema, key, length);
    if (field >= 0) {
        if (once(seen, field)) return FAIL;
        enum Shape shape = shape_at(c);
        int kind = scan->schema->kinds[field];
        if (kind == KIND_BOOLEAN) return boolean_value(c, &scan->top_bool[field], row, depth);
        Strings *column = &scan->top[field];
        if (shape == SHAPE_STRING) {
            Span span;
            if (read_string(c, &span) || set_string(scan, column, row, &span)) return FAIL;
            if (kind == KIND_NUMBER) column->kinds.data[row] = 2;
            return 0;
        }
        if (kind == KIND_NUMBER && shape == SHAPE_NUMBER) {
            const uint8_t *start = c->p;
            int integral, digits;
            if (read_number(c, &integral, &digits) || digits > MAX_INDEX_DIGITS) return FAIL;
            Span span = {start, (size_t)(c->p - start), 0};
            if (set_string(scan, column, row, &span)) return FAIL;
            column->kinds.data[row] = 1;
            return 0;
        }
        return skip_value(c, depth);
    }
    if (KEY_IS("Settings")) {
        if (once(seen, scan->schema->count + SEEN_SETTINGS)) return FAIL;
        if (shape_at(c) != SHAPE_OBJECT) return skip_value(c, depth);
        return read_object(c, settings_member, &top->row, depth);
    }
    if (KEY_IS("JobSpecs")) {
        if (once(seen, scan->schema->count + SEEN_JOBSPECS)) return FAIL;
        if (shape_at(c) != SHAPE_ARRAY) return skip_value(c, depth);
        top->roles_valid = 1;
        return read_list(c, depth, add_role, role_member, role_read);
    }
    if (KEY_IS("StatusHistory")) {
        if (once(seen, scan->schema->count + SEEN_HISTORY)) return FAIL;
        if (shape_at(c) != SHAPE_ARRAY) return skip_value(c, depth);
        top->history_valid = 1;
        return read_list(c, depth, add_entry, history_member, entry_read);
    }
    return skip_value(c, depth);
}

/* One text: its fields into the columns, or nothing and 0 (doubtful). */
static int scan_text(Scan *scan, size_t row, const uint8_t *text, const uint8_t *end) {
    Cursor c = {text, end, scan};
    TopContext top = {row, 0, 0};
    size_t tag_mark = scan->tag_keys.count, role_mark = scan->role_count, history_mark = scan->reason_code.count;
    int good = c.p < c.end && *c.p == '{' && read_object(&c, top_member, &top, 0) == 0;
    if (good) {
        skip_space(&c);
        good = c.p == c.end;
    }
    if (good) {
        /* a JobId that is a non-empty string */
        Strings *id = &scan->top[0];
        int32_t length;
        memcpy(&length, id->views.data + row * 16, 4);
        good = (id->valid.data[row >> 3] >> (row & 7)) & 1 && length > 0;
    }
    if (!good) {
        /* roll back what this text appended */
        strings_truncate(&scan->tag_keys, tag_mark);
        strings_truncate(&scan->tag_values, tag_mark);
        strings_truncate(&scan->role_image, role_mark);
        strings_truncate(&scan->role_oversold, role_mark);
        scan->role_spot.count = scan->role_assign.count = scan->role_count = role_mark;
        strings_truncate(&scan->reason_code, history_mark);
        strings_truncate(&scan->reason_message, history_mark);
        bit_clear(&scan->tags.valid, row);
        /* and its values null */
        for (int f = 0; f < scan->schema->count; f++) {
            if (scan->schema->kinds[f] == KIND_BOOLEAN) {
                bit_clear(&scan->top_bool[f].valid, row);
            } else {
                memset(scan->top[f].views.data + row * 16, 0, 16);
                bit_clear(&scan->top[f].valid, row);
                if (scan->schema->kinds[f] == KIND_NUMBER) scan->top[f].kinds.data[row] = 0;
            }
        }
        for (int k = 0; k < SETTINGS_COUNT; k++) {
            memset(scan->settings[k].views.data + row * 16, 0, 16);
            bit_clear(&scan->settings[k].valid, row);
        }
        top.roles_valid = top.history_valid = 0;
    }
    if (lists_close(&scan->tags, scan->tag_keys.count, (scan->tags.valid.data[row >> 3] >> (row & 7)) & 1) ||
        lists_close(&scan->roles, scan->role_count, top.roles_valid) ||
        lists_close(&scan->history, scan->reason_code.count, top.history_valid))
        return -1;
    return good;
}

/* ------------------------------------------------------------------------------------------ */
/* Python                                                                                      */

static Schema *schema_from(PyObject *keys) {
    /* keys: a sequence of (name: str, kind: int); the first is JobId */
    PyObject *sequence = PySequence_Fast(keys, "top_keys must be a sequence");
    if (!sequence) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
    if (count < 1 || count > MAX_TOP - 3) {
        Py_DECREF(sequence);
        PyErr_SetString(PyExc_ValueError, "between 1 and 57 top-level fields");
        return NULL;
    }
    Schema *schema = calloc(1, sizeof(Schema));
    if (!schema) {
        Py_DECREF(sequence);
        PyErr_NoMemory();
        return NULL;
    }
    schema->count = (int)count;
    for (Py_ssize_t i = 0; i < count; i++) {
        const char *name;
        int kind;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(sequence, i), "si", &name, &kind)) goto fail;
        schema->names[i] = strdup(name);
        schema->lengths[i] = strlen(name);
        schema->kinds[i] = kind;
        uint32_t slot = key_hash((const uint8_t *)name, schema->lengths[i]) & (KEY_TABLE - 1);
        while (schema->table[slot]) slot = (slot + 1) & (KEY_TABLE - 1);
        schema->table[slot] = (int16_t)(i + 1);
    }
    Py_DECREF(sequence);
    return schema;
fail:
    Py_DECREF(sequence);
    for (int i = 0; i < schema->count; i++) free(schema->names[i]);
    free(schema);
    return NULL;
}

static void schema_free(Schema *schema) {
    for (int i = 0; i < schema->count; i++) free(schema->names[i]);
    free(schema);
}

#define STRINGS_GROWS(s) &(s).views, &(s).data, &(s).valid, &(s).kinds
#define BOOLEANS_GROWS(b) &(b).values, &(b).valid
#define SCAN_GROWS (4 * (MAX_TOP + SETTINGS_COUNT + 6) + 2 * (MAX_TOP + 2) + 9)

/* Every buffer of a scan, to free them or to see whether an allocation failed. */
static size_t scan_grows(Scan *scan, Grow **grows) {
    Grow *fixed[] = {STRINGS_GROWS(scan->tag_keys), STRINGS_GROWS(scan->tag_values),
                     STRINGS_GROWS(scan->role_image), STRINGS_GROWS(scan->role_oversold),
                     STRINGS_GROWS(scan->reason_code), STRINGS_GROWS(scan->reason_message),
                     BOOLEANS_GROWS(scan->role_spot), BOOLEANS_GROWS(scan->role_assign),
                     &scan->tags.offsets, &scan->tags.valid, &scan->roles.offsets, &scan->roles.valid,
                     &scan->history.offsets, &scan->history.valid, &scan->role_valid, &scan->ok,
                     &scan->scratch};
    size_t count = 0;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) grows[count++] = fixed[i];
    for (int k = 0; k < SETTINGS_COUNT; k++) {
        Grow *each[] = {STRINGS_GROWS(scan->settings[k])};
        for (size_t i = 0; i < 4; i++) grows[count++] = each[i];
    }
    for (int f = 0; f < MAX_TOP; f++) {
        Grow *each[] = {STRINGS_GROWS(scan->top[f]), BOOLEANS_GROWS(scan->top_bool[f])};
        for (size_t i = 0; i < 6; i++) grows[count++] = each[i];
    }
    return count;
}

static void scan_free(Scan *scan) {
    Grow *grows[SCAN_GROWS];
    size_t count = scan_grows(scan, grows);
    for (size_t i = 0; i < count; i++) grow_free(grows[i]);
}

/* Whether an allocation failed (a text read then may have been called doubtful for it). */
static int any_failed(Scan *scan) {
    Grow *grows[SCAN_GROWS];
    size_t count = scan_grows(scan, grows);
    for (size_t i = 0; i < count; i++)
        if (grows[i]->failed) return 1;
    return 0;
}

/* Room for every text's row in the per-text columns (with the JSON kinds of a numeric one). */
static int strings_prepare(Strings *s, size_t texts, int with_kinds) {
    if (grow_reserve(&s->views, texts * 16) || bits_reserve(&s->valid, texts)) return -1;
    memset(s->views.data, 0, texts * 16); /* null values: empty views */
    s->views.len = texts * 16;
    s->count = texts;
    if (with_kinds) {
        if (grow_reserve(&s->kinds, texts)) return -1;
        memset(s->kinds.data, 0, texts);
        s->kinds.len = texts;
    }
    return 0;
}

static int scan_prepare(Scan *scan, size_t texts) {
    for (int f = 0; f < scan->schema->count; f++) {
        if (scan->schema->kinds[f] == KIND_BOOLEAN) {
            if (bits_reserve(&scan->top_bool[f].values, texts) || bits_reserve(&scan->top_bool[f].valid, texts))
                return -1;
            scan->top_bool[f].count = texts;
        } else if (strings_prepare(&scan->top[f], texts, scan->schema->kinds[f] == KIND_NUMBER)) {
            return -1;
        }
    }
    for (int k = 0; k < SETTINGS_COUNT; k++)
        if (strings_prepare(&scan->settings[k], texts, 0)) return -1;
    if (bits_reserve(&scan->tags.valid, texts) || grow_reserve(&scan->ok, texts)) return -1;
    scan->ok.len = texts;
    if (lists_init(&scan->tags) || lists_init(&scan->roles) || lists_init(&scan->history)) return -1;
    return 0;
}

static int put(PyObject *dict, const char *name, Grow *g) {
    PyObject *block = block_from(g);
    if (!block) return -1;
    int result = PyDict_SetItemString(dict, name, block);
    Py_DECREF(block);
    return result;
}

static int put_strings(PyObject *dict, const char *name, Strings *s, int kinds) {
    char key[128];
    snprintf(key, sizeof key, "%s.views", name);
    if (put(dict, key, &s->views)) return -1;
    snprintf(key, sizeof key, "%s.data", name);
    if (put(dict, key, &s->data)) return -1;
    snprintf(key, sizeof key, "%s.valid", name);
    if (put(dict, key, &s->valid)) return -1;
    if (kinds) {
        snprintf(key, sizeof key, "%s.kinds", name);
        if (put(dict, key, &s->kinds)) return -1;
    }
    return 0;
}

static int put_booleans(PyObject *dict, const char *name, Booleans *b) {
    char key[128];
    snprintf(key, sizeof key, "%s.values", name);
    if (put(dict, key, &b->values)) return -1;
    snprintf(key, sizeof key, "%s.valid", name);
    return put(dict, key, &b->valid);
}

static PyObject *scan(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer region, starts, ends;
    PyObject *keys;
    if (!PyArg_ParseTuple(args, "y*y*y*O", &region, &starts, &ends, &keys)) return NULL;
    PyObject *result = NULL;
    Schema *schema = NULL;
    Scan *state = NULL;
    if (starts.len != ends.len || starts.len % 8 != 0) {
        PyErr_SetString(PyExc_ValueError, "starts and ends must be int64 arrays of one length");
        goto done;
    }
    if (region.len > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "a region of at most 2 GiB");
        goto done;
    }
    schema = schema_from(keys);
    if (!schema) goto done;
    state = calloc(1, sizeof(Scan));
    if (!state) {
        PyErr_NoMemory();
        goto done;
    }
    size_t texts = (size_t)starts.len / 8;
    const int64_t *start_at = starts.buf, *end_at = ends.buf;
    for (size_t i = 0; i < texts; i++) {
        if (start_at[i] < 0 || end_at[i] < start_at[i] || end_at[i] > region.len) {
            PyErr_SetString(PyExc_ValueError, "a text outside the region");
            goto done;
        }
    }
    state->schema = schema;
    state->base = region.buf;
    state->region_end = (const uint8_t *)region.buf + region.len;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    if (scan_prepare(state, texts)) {
        failed = 1;
    } else {
        for (size_t i = 0; i < texts; i++) {
            int good = scan_text(state, i, state->base + start_at[i], state->base + end_at[i]);
            if (good < 0) {
                failed = 1;
                break;
            }
            state->ok.data[i] = (uint8_t)good;
        }
    }
    Py_END_ALLOW_THREADS
    if (failed || any_failed(state)) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyDict_New();
    if (!result) goto done;
    if (put(result, "ok", &state->ok)) goto fail;
    for (int f = 0; f < schema->count; f++) {
        if (schema->kinds[f] == KIND_BOOLEAN) {
            if (put_booleans(result, schema->names[f], &state->top_bool[f])) goto fail;
        } else if (put_strings(result, schema->names[f], &state->top[f], schema->kinds[f] == KIND_NUMBER)) {
            goto fail;
        }
    }
    for (int k = 0; k < SETTINGS_COUNT; k++) {
        char name[64];
        snprintf(name, sizeof name, "Settings.%s", SETTINGS_KEYS[k]);
        if (put_strings(result, name, &state->settings[k], 0)) goto fail;
    }
    if (put(result, "tags.offsets", &state->tags.offsets) || put(result, "tags.valid", &state->tags.valid) ||
        put_strings(result, "tag_keys", &state->tag_keys, 0) || put_strings(result, "tag_values", &state->tag_values, 0) ||
        put(result, "roles.offsets", &state->roles.offsets) || put(result, "roles.valid", &state->roles.valid) ||
        put(result, "role.valid", &state->role_valid) ||
        put_strings(result, "role.Image", &state->role_image, 0) ||
        put_strings(result, "role.OversoldType", &state->role_oversold, 0) ||
        put_booleans(result, "role.UseSpotInstance", &state->role_spot) ||
        put_booleans(result, "role.EnableAssignNode", &state->role_assign) ||
        put(result, "history.offsets", &state->history.offsets) ||
        put(result, "history.valid", &state->history.valid) ||
        put_strings(result, "history.ReasonCode", &state->reason_code, 0) ||
        put_strings(result, "history.ReasonMessage", &state->reason_message, 0))
        goto fail;
    PyObject *counts = Py_BuildValue("(nnn)", (Py_ssize_t)state->tag_keys.count, (Py_ssize_t)state->role_count,
                                     (Py_ssize_t)state->reason_code.count);
    if (!counts || PyDict_SetItemString(result, "counts", counts)) {
        Py_XDECREF(counts);
        goto fail;
    }
    Py_DECREF(counts);
    goto done;
fail:
    Py_CLEAR(result);
done:
    if (state) {
        scan_free(state);
        free(state);
    }
    if (schema) schema_free(schema);
    PyBuffer_Release(&region);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&ends);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(region, starts, ends, top_keys) -> dict: the index fields of the texts "
     "region[starts[i]:ends[i]] (jobquery/snapshot/native_read.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fieldscan", NULL, -1, methods, NULL, NULL, NULL, NULL};

static PyObject *keys_tuple(const char *const *keys, Py_ssize_t count) {
    PyObject *tuple = PyTuple_New(count);
    for (Py_ssize_t i = 0; tuple && i < count; i++) {
        PyObject *key = PyUnicode_FromString(keys[i]);
        if (!key) {
            Py_CLEAR(tuple);
            break;
        }
        PyTuple_SET_ITEM(tuple, i, key);
    }
    return tuple;
}

static int add_keys(PyObject *m, const char *name, const char *const *keys, Py_ssize_t count) {
    PyObject *tuple = keys_tuple(keys, count);
    if (!tuple) return -1;
    int result = PyModule_AddObjectRef(m, name, tuple);
    Py_DECREF(tuple);
    return result;
}

PyMODINIT_FUNC PyInit__fieldscan(void) {
    if (PyType_Ready(&BlockType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (add_keys(m, "SETTINGS_KEYS", SETTINGS_KEYS, SETTINGS_COUNT) || add_keys(m, "ROLE_KEYS", ROLE_KEYS, 4) ||
        add_keys(m, "HISTORY_KEYS", HISTORY_KEYS, 2) || PyModule_AddIntConstant(m, "MAX_DEPTH", MAX_DEPTH) ||
        PyModule_AddIntConstant(m, "MAX_TAGS", MAX_TAGS)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
