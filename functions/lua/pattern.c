/*
 * A backtracking matcher for Lua 5.4 patterns that charges every step it takes.
 *
 * Results and errors must be those of the stock string library, byte for byte, since
 * functions are written and tested against stock Lua. Three properties of the stock
 * matcher are visible to Lua code and are kept here on purpose:
 *  - errors in a pattern are found while matching, when the matcher reaches the
 *    faulty part: string.find("b", "a(") is nil, string.find("a", "a(") an error;
 *  - nesting is limited to MAX_DEPTH matching calls ("pattern too complex"), and a
 *    call nests exactly where the stock one does (a capture, a '?' that matched once,
 *    a '*', '+' or '-' that matched once), so the same patterns hit the limit;
 *  - the subject and the pattern may hold '\0', and a missing character at the end of
 *    the pattern, of the subject or of a replacement string reads as '\0'.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "functions/lua/pattern.h"

#define MAX_DEPTH 200         /* the stock matcher's limit on nested matching calls */
#define MAX_CAPTURES 32       /* the stock LUA_MAXCAPTURES, which lstrlib.c defines for itself */
#define CAPTURE_OPEN (-1)     /* a capture whose ')' has not been reached */
#define CAPTURE_POSITION (-2) /* "()": captures a position, not a substring */
#define SET_BYTES_PER_STEP 32 /* a set this long costs one more step per test: its scan is the work */
#define CMP_BYTES_PER_STEP 64 /* memchr and memcmp are that much faster than a step */
#define SCAN_CHUNK 65536      /* longest memchr between two charges in a plain search */

struct st_matcher_t {
    lua_State *L;
    const char *subject;
    const char *subject_end;
    const char *pattern_end;
    ptrdiff_t *steps_left; /* shared by the calls of one installation (an upvalue) */
    int depth_left;
    int level; /* captures started */
    struct {
        const char *start;
        ptrdiff_t len; /* or CAPTURE_OPEN, CAPTURE_POSITION */
    } captures[MAX_CAPTURES];
};

struct st_gmatch_t {
    struct st_matcher_t m;
    const char *pattern;
    const char *next;     /* where the next search starts */
    const char *last_end; /* end of the previous match, where an empty match does not count */
};

static const char *match_here(struct st_matcher_t *m, const char *s, const char *p);

static void pay_ticks(struct st_matcher_t *m)
{
    /* A bulk charge may stand for several ticks. The counter is refilled before the
     * first tick, which may not return, so that it never stays spent. */
    ptrdiff_t owed = 1 + -*m->steps_left / EF_LUA_PATTERN_TICK_STEPS;
    *m->steps_left += owed * EF_LUA_PATTERN_TICK_STEPS;
    while (owed-- != 0)
        ef_lua_pattern_tick(m->L);
}

static inline void charge(struct st_matcher_t *m, ptrdiff_t steps)
{
    if ((*m->steps_left -= steps) <= 0)
        pay_ticks(m);
}

static void init_matcher(struct st_matcher_t *m, lua_State *L, const char *s, size_t len, const char *p, size_t plen,
                         ptrdiff_t *steps_left)
{
    m->L = L;
    m->subject = s;
    m->subject_end = s + len;
    m->pattern_end = p + plen;
    m->steps_left = steps_left;
}

static void start_attempt(struct st_matcher_t *m)
{
    m->level = 0;
    m->depth_left = MAX_DEPTH;
}

static int class_has(int c, int cl)
{
    int in;

    switch (tolower(cl)) {
    case 'a':
        in = isalpha(c);
        break;
    case 'c':
        in = iscntrl(c);
        break;
    case 'd':
        in = isdigit(c);
        break;
    case 'g':
        in = isgraph(c);
        break;
    case 'l':
        in = islower(c);
        break;
    case 'p':
        in = ispunct(c);
        break;
    case 's':
        in = isspace(c);
        break;
    case 'u':
        in = isupper(c);
        break;
    case 'w':
        in = isalnum(c);
        break;
    case 'x':
        in = isxdigit(c);
        break;
    case 'z': /* deprecated in 5.2, still accepted by 5.4 */
        in = c == 0;
        break;
    default: /* "%." and the like stand for the character itself */
        return cl == c;
    }
    return isupper(cl) ? !in : in != 0;
}

/* `p` points at a set's '[' and `close` at its ']', as found by item_end. */
static int set_has(int c, const char *p, const char *close)
{
    int found = 1;

    if (*++p == '^') {
        found = 0;
        ++p;
    }
    while (p < close) {
        if (*p == '%') {
            if (class_has(c, (unsigned char)p[1]))
                return found;
            p += 2;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return found;
            p += 3;
        } else {
            if ((unsigned char)*p == c)
                return found;
            ++p;
        }
    }
    return !found;
}

/* Returns the end of the single-character class that starts at `p` (before any quantifier). */
static const char *item_end(struct st_matcher_t *m, const char *p)
{
    const char *end = m->pattern_end;

    switch (*p++) {
    case '%':
        if (p == end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    case '[':
        if (p < end && *p == '^')
            ++p;
        /* the first member is never the closing bracket, so "[]]" is the set of ']' */
        do {
            if (p >= end)
                luaL_error(m->L, "malformed pattern (missing ']')");
            p += *p == '%' && p + 1 < end ? 2 : 1;
        } while (p == end || *p != ']');
        return p + 1;
    default:
        return p;
    }
}

static inline int item_matches(struct st_matcher_t *m, const char *s, const char *p, const char *ep)
{
    if (s == m->subject_end)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.':
        return 1;
    case '%':
        return class_has(c, (unsigned char)p[1]);
    case '[':
        return set_has(c, p, ep - 1);
    default:
        return (unsigned char)*p == c;
    }
}

/* `min` is where the fewest repetitions allowed end; repetitions up to `from` are known to match. */
static const char *match_greedy(struct st_matcher_t *m, const char *min, const char *from, const char *p, const char *ep,
                                ptrdiff_t cost)
{
    const char *e = from, *res;

    if (*p == '.') {
        e = m->subject_end; /* nothing to test, so nothing to charge */
    } else {
        while (item_matches(m, e, p, ep)) {
            ++e;
            charge(m, cost);
        }
    }
    for (;; --e) {
        if ((res = match_here(m, e, ep + 1)) != NULL)
            return res;
        if (e == min)
            return NULL;
    }
}

/* Repetitions start at `s`, whose character is known to match. */
static const char *match_lazy(struct st_matcher_t *m, const char *s, const char *p, const char *ep, ptrdiff_t cost)
{
    const char *res;

    for (;;) {
        if ((res = match_here(m, s, ep + 1)) != NULL)
            return res;
        if (!item_matches(m, s, p, ep))
            return NULL;
        ++s;
        charge(m, cost);
    }
}

static const char *match_balanced(struct st_matcher_t *m, const char *s, const char *p)
{
    if (p + 1 >= m->pattern_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s == m->subject_end || *s != p[0])
        return NULL;

    char open = p[0], close = p[1];
    size_t depth = 1;
    /* the closing delimiter is tested first, so that "%b''" ends at the next quote */
    for (++s; s < m->subject_end; ++s) {
        charge(m, 1);
        if (*s == close) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == open) {
            ++depth;
        }
    }
    return NULL;
}

static const char *match_backref(struct st_matcher_t *m, const char *s, int digit)
{
    int i = digit - '1';

    if (i < 0 || i >= m->level || m->captures[i].len == CAPTURE_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", i + 1);
    /* a position capture's length, read as unsigned, never fits: it matches nothing */
    size_t len = (size_t)m->captures[i].len;
    if ((size_t)(m->subject_end - s) < len)
        return NULL;
    charge(m, len / CMP_BYTES_PER_STEP);
    return memcmp(m->captures[i].start, s, len) == 0 ? s + len : NULL;
}

static int at_frontier(struct st_matcher_t *m, const char *s, const char *p, const char *ep)
{
    int prev = s == m->subject ? '\0' : (unsigned char)s[-1];
    int cur = s == m->subject_end ? '\0' : (unsigned char)*s;
    return !set_has(prev, p, ep - 1) && set_has(cur, p, ep - 1);
}

static const char *open_capture(struct st_matcher_t *m, const char *s, const char *p, ptrdiff_t len)
{
    const char *res;

    if (m->level >= MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->captures[m->level].start = s;
    m->captures[m->level].len = len;
    ++m->level;
    if ((res = match_here(m, s, p)) == NULL)
        --m->level;
    return res;
}

static const char *close_capture(struct st_matcher_t *m, const char *s, const char *p)
{
    const char *res;
    int i = m->level;

    do {
        if (--i < 0)
            luaL_error(m->L, "invalid pattern capture");
    } while (m->captures[i].len != CAPTURE_OPEN);
    m->captures[i].len = s - m->captures[i].start;
    if ((res = match_here(m, s, p)) == NULL)
        m->captures[i].len = CAPTURE_OPEN;
    return res;
}

/* Returns the end of the match of the pattern at `p` against the subject at `s`, or NULL. */
static const char *match_here(struct st_matcher_t *m, const char *s, const char *p)
{
    const char *ep;

    if (m->depth_left-- == 0)
        luaL_error(m->L, "pattern too complex");

    /* Continuing with the rest of the pattern loops instead of nesting, where the
     * stock matcher does, so that the depth limit bites at the same patterns. */
    for (;;) {
        charge(m, 1);
        if (p == m->pattern_end)
            goto Exit;
        switch (*p) {
        case '(':
            if (p + 1 < m->pattern_end && p[1] == ')')
                s = open_capture(m, s, p + 2, CAPTURE_POSITION);
            else
                s = open_capture(m, s, p + 1, CAPTURE_OPEN);
            goto Exit;
        case ')':
            s = close_capture(m, s, p + 1);
            goto Exit;
        case '$':
            if (p + 1 != m->pattern_end)
                break; /* a '$' elsewhere is itself */
            if (s != m->subject_end)
                s = NULL;
            goto Exit;
        case '%':
            if (p + 1 == m->pattern_end)
                break; /* item_end reports it */
            switch (p[1]) {
            case 'b':
                if ((s = match_balanced(m, s, p + 2)) == NULL)
                    goto Exit;
                p += 4;
                continue;
            case 'f':
                p += 2;
                if (p == m->pattern_end || *p != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                ep = item_end(m, p);
                if (!at_frontier(m, s, p, ep)) {
                    s = NULL;
                    goto Exit;
                }
                p = ep;
                continue;
            case '0':
            case '1':
            case '2':
            case '3':
            case '4':
            case '5':
            case '6':
            case '7':
            case '8':
            case '9':
                if ((s = match_backref(m, s, p[1])) == NULL)
                    goto Exit;
                p += 2;
                continue;
            }
            break;
        }

        /* a single-character class with an optional quantifier */
        ep = item_end(m, p);
        ptrdiff_t cost = 1 + (ep - p) / SET_BYTES_PER_STEP;
        if (cost > 1)
            charge(m, cost - 1);
        int matched = item_matches(m, s, p, ep);
        switch (ep < m->pattern_end ? *ep : '\0') {
        case '?':
            if (matched) {
                const char *res = match_here(m, s + 1, ep + 1);
                if (res != NULL) {
                    s = res;
                    goto Exit;
                }
            }
            p = ep + 1;
            continue;
        case '+':
            s = matched ? match_greedy(m, s + 1, s + 1, p, ep, cost) : NULL;
            goto Exit;
        case '*':
            if (!matched) {
                p = ep + 1;
                continue;
            }
            s = match_greedy(m, s, s + 1, p, ep, cost);
            goto Exit;
        case '-':
            if (!matched) {
                p = ep + 1;
                continue;
            }
            s = match_lazy(m, s, p, ep, cost);
            goto Exit;
        default:
            if (!matched) {
                s = NULL;
                goto Exit;
            }
            ++s;
            p = ep;
            continue;
        }
    }

Exit:
    ++m->depth_left;
    return s;
}

/* Returns capture `i`'s start and length, CAPTURE_POSITION for a position capture; with no captures, capture 0 is the match. */
static ptrdiff_t get_capture(struct st_matcher_t *m, int i, const char *s, const char *e, const char **start)
{
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *start = s;
        return e - s;
    }
    if (m->captures[i].len == CAPTURE_OPEN)
        luaL_error(m->L, "unfinished capture");
    *start = m->captures[i].start;
    return m->captures[i].len;
}

/* [-0, +1] */
static void push_capture(struct st_matcher_t *m, int i, const char *s, const char *e)
{
    const char *start;
    ptrdiff_t len = get_capture(m, i, s, e, &start);

    if (len == CAPTURE_POSITION)
        lua_pushinteger(m->L, start - m->subject + 1);
    else
        lua_pushlstring(m->L, start, len);
}

/* [-0, +n] Pushes the captures, or the match s..e when there are none and `s` is not NULL; returns how many. */
static int push_captures(struct st_matcher_t *m, const char *s, const char *e)
{
    int n = m->level == 0 && s != NULL ? 1 : m->level;

    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i != n; ++i)
        push_capture(m, i, s, e);
    return n;
}

/* Turns a 1-based, possibly negative position into a 0-based offset, which may be past `len`. */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return len - (size_t)-pos;
}

static int has_specials(const char *p, size_t len)
{
    for (size_t i = 0; i != len; ++i) {
        switch (p[i]) {
        case '^':
        case '$':
        case '*':
        case '+':
        case '?':
        case '.':
        case '(':
        case '[':
        case '%':
        case '-':
            return 1;
        }
    }
    return 0;
}

/* memchr for the first byte, memcmp for the rest, as the stock search, but charged as it goes. */
static const char *find_plain(struct st_matcher_t *m, const char *s, const char *needle, size_t len)
{
    if (len == 0)
        return s;
    if (len > (size_t)(m->subject_end - s))
        return NULL;

    const char *last = m->subject_end - len; /* the last start with room for the needle */
    while (s <= last) {
        size_t span = (size_t)(last - s) + 1;
        if (span > SCAN_CHUNK)
            span = SCAN_CHUNK;
        const char *hit = memchr(s, needle[0], span);
        if (hit == NULL) {
            charge(m, 1 + span / CMP_BYTES_PER_STEP);
            s += span;
            continue;
        }
        charge(m, 1 + (size_t)(hit - s + len) / CMP_BYTES_PER_STEP);
        if (memcmp(hit + 1, needle + 1, len - 1) == 0)
            return hit;
        s = hit + 1;
    }
    return NULL;
}

/* [-0, +(2 + captures) for find, +captures for match, +1 when nothing matches] */
static int find_or_match(lua_State *L, int is_find)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len), *p = luaL_checklstring(L, 2, &plen);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), len);
    struct st_matcher_t m;

    if (init > len)
        goto NotFound;
    init_matcher(&m, L, s, len, p, plen, lua_touserdata(L, lua_upvalueindex(1)));

    if (is_find && (lua_toboolean(L, 4) || !has_specials(p, plen))) {
        const char *hit = find_plain(&m, s + init, p, plen);
        if (hit == NULL)
            goto NotFound;
        lua_pushinteger(L, hit - s + 1);
        lua_pushinteger(L, hit - s + plen);
        return 2;
    }

    int anchored = plen != 0 && *p == '^';
    if (anchored)
        ++p;
    const char *start = s + init, *e;
    do {
        start_attempt(&m);
        if ((e = match_here(&m, start, p)) != NULL) {
            if (!is_find)
                return push_captures(&m, start, e);
            lua_pushinteger(L, start - s + 1);
            lua_pushinteger(L, e - s);
            return 2 + push_captures(&m, NULL, NULL);
        }
    } while (start++ < m.subject_end && !anchored);

NotFound:
    luaL_pushfail(L);
    return 1;
}

static int pattern_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int pattern_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* [-0, +captures, or +0 at the end] upvalues: the step counter, the subject, the pattern, the state */
static int gmatch_next(lua_State *L)
{
    struct st_gmatch_t *g = lua_touserdata(L, lua_upvalueindex(4));
    const char *e;

    g->m.L = L; /* the iterator may be called from another coroutine than gmatch was */
    for (const char *start = g->next; start <= g->m.subject_end; ++start) {
        start_attempt(&g->m);
        if ((e = match_here(&g->m, start, g->pattern)) != NULL && e != g->last_end) {
            g->next = g->last_end = e;
            return push_captures(&g->m, start, e);
        }
    }
    return 0;
}

/* [-0, +1] */
static int pattern_gmatch(lua_State *L)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len), *p = luaL_checklstring(L, 2, &plen);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), len);
    struct st_gmatch_t *g;

    /* the iterator keeps the strings alive, since the state points into them */
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    g = lua_newuserdatauv(L, sizeof(*g), 0);
    init_matcher(&g->m, L, s, len, p, plen, lua_touserdata(L, lua_upvalueindex(1)));
    /* a '^' is itself here: an anchor would stop the iteration after one match */
    g->pattern = p;
    g->next = s + (init > len ? len + 1 : init);
    g->last_end = NULL;
    lua_pushcclosure(L, gmatch_next, 4);
    return 1;
}

/* [-0, +0] Appends the replacement string (argument 3) with its '%' escapes expanded. */
static void add_expanded(struct st_matcher_t *m, luaL_Buffer *b, const char *s, const char *e)
{
    size_t len;
    const char *r = lua_tolstring(m->L, 3, &len), *r_end = r + len, *esc, *start;
    ptrdiff_t clen;

    while ((esc = memchr(r, '%', r_end - r)) != NULL) {
        luaL_addlstring(b, r, esc - r);
        int c = esc + 1 < r_end ? (unsigned char)esc[1] : '\0';
        if (c == '%') {
            luaL_addchar(b, '%');
        } else if (c == '0') {
            luaL_addlstring(b, s, e - s);
        } else if (isdigit(c)) {
            if ((clen = get_capture(m, c - '1', s, e, &start)) == CAPTURE_POSITION) {
                lua_pushinteger(m->L, start - m->subject + 1);
                luaL_addvalue(b);
            } else {
                luaL_addlstring(b, start, clen);
            }
        } else {
            luaL_error(m->L, "invalid use of '%c' in replacement string", '%');
        }
        r = esc + 2;
    }
    luaL_addlstring(b, r, r_end - r);
}

/* [-0, +0] Appends the replacement for the match s..e; returns 0 when it is the match itself (nil or false). */
static int add_replacement(struct st_matcher_t *m, luaL_Buffer *b, const char *s, const char *e, int repl_type)
{
    lua_State *L = m->L;

    switch (repl_type) {
    case LUA_TFUNCTION:
        lua_pushvalue(L, 3);
        lua_call(L, push_captures(m, s, e), 1);
        break;
    case LUA_TTABLE:
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
        break;
    default:
        add_expanded(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, e - s);
        return 0;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

/* [-0, +2] */
static int pattern_gsub(lua_State *L)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len), *p = luaL_checklstring(L, 2, &plen);
    int repl_type = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)len + 1), n = 0;
    int anchored = plen != 0 && *p == '^', changed = 0;
    const char *copied = s, *last_end = NULL, *e;
    struct st_matcher_t m;
    luaL_Buffer b;

    luaL_argexpected(L,
                     repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING || repl_type == LUA_TFUNCTION || repl_type == LUA_TTABLE,
                     3, "string/function/table");
    luaL_buffinit(L, &b);
    if (anchored)
        ++p;
    init_matcher(&m, L, s, len, p, plen - anchored, lua_touserdata(L, lua_upvalueindex(1)));

    /* unmatched text is copied in runs, when a replacement or the end comes */
    while (n < max) {
        start_attempt(&m);
        if ((e = match_here(&m, s, p)) != NULL && e != last_end) {
            ++n;
            luaL_addlstring(&b, copied, s - copied);
            changed |= add_replacement(&m, &b, s, e, repl_type);
            s = copied = last_end = e;
        } else if (s < m.subject_end) {
            ++s;
        } else {
            break;
        }
        if (anchored)
            break;
    }

    if (changed) {
        luaL_addlstring(&b, copied, m.subject_end - copied);
        luaL_pushresult(&b);
    } else {
        lua_pushvalue(L, 1);
    }
    lua_pushinteger(L, n);
    return 2;
}

void ef_lua_pattern_install(lua_State *L, int idx)
{
    static const luaL_Reg functions[] = {
        {"find", pattern_find}, {"match", pattern_match}, {"gmatch", pattern_gmatch}, {"gsub", pattern_gsub}, {NULL, NULL}};
    ptrdiff_t *steps_left;

    lua_pushvalue(L, idx);
    steps_left = lua_newuserdatauv(L, sizeof(*steps_left), 0);
    *steps_left = EF_LUA_PATTERN_TICK_STEPS;
    luaL_setfuncs(L, functions, 1);
    lua_pop(L, 1);
}
