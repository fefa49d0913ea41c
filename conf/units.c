/*
 * Durations and sizes as written in edgefn configs: an integer and one unit, nothing
 * more. Being strict here is what lets a typo ("5 s", "1.5s", "10mb") be reported
 * instead of silently meaning something else.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "conf/units.h"

struct st_unit {
    const char *name;
    uint64_t scale;
};

/* One kind of quantity: its units, and the sentences that say what went wrong. */
struct st_quantity {
    const struct st_unit *units;
    const char *expected;     /* the general shape, when nothing more precise applies */
    const char *sign;         /* "+5s", "-5s" */
    const char *fraction;     /* "1.5s" */
    const char *missing_unit; /* "5" */
    const char *unknown_unit; /* "5sec" */
};

static const struct st_unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}, {"d", 24 * 60 * 60 * 1000}, {NULL}};

static const struct st_quantity duration = {
    duration_units,
    "expected an integer followed by ms, s, m, h or d, like 250ms or 5s",
    "expected an integer without a sign, like 5s",
    "expected an integer; use a smaller unit instead of a fraction, like 1500ms for 1.5s",
    "missing unit; expected ms, s, m, h or d after the number, like 5s",
    "unknown unit; expected ms, s, m, h or d",
};

static const struct st_unit size_units[] = {{"B", 1},
                                            {"KB", UINT64_C(1) << 10},
                                            {"KiB", UINT64_C(1) << 10},
                                            {"MB", UINT64_C(1) << 20},
                                            {"MiB", UINT64_C(1) << 20},
                                            {"GB", UINT64_C(1) << 30},
                                            {"GiB", UINT64_C(1) << 30},
                                            {NULL}};

static const struct st_quantity size = {
    size_units,
    "expected an integer followed by B, KB, MB or GB, like 512KB or 100MB",
    "expected an integer without a sign, like 100MB",
    "expected an integer; use a smaller unit instead of a fraction, like 1536KB for 1.5MB",
    "missing unit; expected B, KB, MB or GB after the number, like 100MB",
    "unknown unit; expected B, KB, MB or GB (or KiB, MiB, GiB)",
};

static const char too_large[] = "too large";
static const char trailing[] = "unexpected characters after the unit";

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ASCII only: a locale must not change what a config means. */
static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int parse_quantity(const char *s, const struct st_quantity *q, uint64_t *out, const char **why)
{
    const char *p = s, *unit;
    const struct st_unit *u;
    uint64_t value = 0;

    if (*p == '+' || *p == '-') {
        *why = q->sign;
        return -1;
    }
    if (!is_digit(*p)) {
        *why = q->expected;
        return -1;
    }
    for (; is_digit(*p); ++p) {
        unsigned digit = *p - '0';
        if (value > (UINT64_MAX - digit) / 10) {
            *why = too_large;
            return -1;
        }
        value = value * 10 + digit;
    }

    if (*p == '\0') {
        if (strcmp(s, "0") == 0) {
            *out = 0;
            return 0;
        }
        *why = q->missing_unit;
        return -1;
    }
    if (*p == '.') {
        *why = q->fraction;
        return -1;
    }
    for (unit = p; is_letter(*p); ++p)
        ;
    if (p == unit) {
        *why = q->expected;
        return -1;
    }
    for (u = q->units; u->name != NULL; ++u)
        if (strlen(u->name) == (size_t)(p - unit) && memcmp(u->name, unit, p - unit) == 0)
            break;
    if (u->name == NULL) {
        *why = q->unknown_unit;
        return -1;
    }
    if (*p != '\0') {
        *why = trailing;
        return -1;
    }
    if (value > UINT64_MAX / u->scale) {
        *why = too_large;
        return -1;
    }
    *out = value * u->scale;
    return 0;
}

int ef_parse_duration(const char *s, uint64_t *ms, const char **why)
{
    return parse_quantity(s, &duration, ms, why);
}

int ef_parse_size(const char *s, uint64_t *bytes, const char **why)
{
    return parse_quantity(s, &size, bytes, why);
}

const char *ef_format_duration(uint64_t ms, char *buf, size_t len)
{
    const struct st_unit *u = NULL;
    int i;

    if (ms == 0) {
        snprintf(buf, len, "0");
        return buf;
    }
    /* the largest unit that divides exactly: nothing is lost, and it reads back the same */
    for (i = sizeof(duration_units) / sizeof(duration_units[0]) - 2; i >= 0; --i) {
        u = duration_units + i;
        if (ms % u->scale == 0)
            break;
    }
    snprintf(buf, len, "%" PRIu64 "%s", ms / u->scale, u->name);
    return buf;
}
