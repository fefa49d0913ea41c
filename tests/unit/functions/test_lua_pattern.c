/*
 * functions/lua/pattern.c against Lua 5.4's own string library, and its step budget.
 *
 * Two lua_States run the same Lua harness: one with the stock string library, one
 * with ef_lua_pattern_install'ed functions. Every case is run in both, through pcall,
 * and its results or error message serialised; the two strings must be equal. Cases
 * come from a hand-written corpus and from a seeded random fuzz.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "functions/lua/pattern.h"

#define FUZZ_ITERATIONS 40000
#define FUZZ_SEED 0x5eed1234abcdULL

static long ticks;
static long tick_limit = LONG_MAX;

void ef_lua_pattern_tick(lua_State *L)
{
    if (++ticks >= tick_limit)
        luaL_error(L, "budget spent");
}

/* Serialises what a call returned or raised; uses no pattern function, so that both states serialise alike. */
static const char harness[] = "local S, R = string, {}\n"
                              "local function value(v)\n"
                              "  local t = type(v)\n"
                              "  if t == 'string' then return S.format('%q', v) end\n"
                              "  if t == 'number' then return math.type(v) .. ':' .. S.format('%q', v) end\n"
                              "  if t == 'nil' or t == 'boolean' then return tostring(v) end\n"
                              "  return t\n"
                              "end\n"
                              "local function ser(...)\n"
                              "  local out = {tostring(select('#', ...))}\n"
                              "  for i = 1, select('#', ...) do out[#out + 1] = value((select(i, ...))) end\n"
                              "  return table.concat(out, ' ')\n"
                              "end\n"
                              "function R.find(...) return ser(pcall(S.find, ...)) end\n"
                              "function R.match(...) return ser(pcall(S.match, ...)) end\n"
                              "function R.gsub(...) return ser(pcall(S.gsub, ...)) end\n"
                              "function R.gmatch(...)\n"
                              "  local r = table.pack(pcall(S.gmatch, ...))\n"
                              "  if not r[1] then return ser(table.unpack(r, 1, r.n)) end\n"
                              "  local out = {}\n"
                              "  for i = 1, 300 do\n"
                              "    local c = table.pack(pcall(r[2]))\n"
                              "    out[#out + 1] = ser(table.unpack(c, 1, c.n))\n"
                              "    if not c[1] or c.n == 1 then break end\n"
                              "  end\n"
                              "  return table.concat(out, ' | ')\n"
                              "end\n"
                              "function R.pc(f, ...) return ser(pcall(f, ...)) end\n"
                              "local T = {a = '<A>', b = false, ab = 7, [1] = 'one', [2] = 2.5, c = true, ['('] = {}, ['a('] = 'x'}\n"
                              "local function F(...)\n"
                              "  local a = ...\n"
                              "  if a == 'b' then return nil elseif a == 'a' then return false\n"
                              "  elseif a == 'c' then return {} elseif a == '(' then return 3 end\n"
                              "  local t = {select('#', ...)}\n"
                              "  for i = 1, select('#', ...) do t[#t + 1] = tostring((select(i, ...))) end\n"
                              "  return table.concat(t, ',')\n"
                              "end\n"
                              "local all = {} for i = 0, 255 do all[#all + 1] = S.char(i) end\n"
                              "local env = setmetatable({find = R.find, match = R.match, gmatch = R.gmatch, gsub = R.gsub,\n"
                              "  pc = R.pc, T = T, F = F, rep = S.rep, ALL = table.concat(all)}, {__index = _G})\n"
                              "local H = {}\n"
                              "function H.eval(code)\n"
                              "  local f, err = load('return ' .. code, '=case', 't', env)\n"
                              "  if not f then return 'LOAD ERROR ' .. err end\n"
                              "  return f()\n"
                              "end\n"
                              "function H.fuzz(kind, nargs, s, p, a3, a4, repl)\n"
                              "  if repl == 1 then a3 = T elseif repl == 2 then a3 = F elseif repl == 3 then a3 = 7\n"
                              "  elseif repl == 4 then a3 = true end\n"
                              "  return R[kind](table.unpack({s, p, a3, a4}, 1, nargs))\n"
                              "end\n"
                              "return H\n";

static lua_State *open_state(int install)
{
    lua_State *L = luaL_newstate();

    assert_non_null(L);
    luaL_openlibs(L);
    if (install) {
        lua_getglobal(L, "string");
        ef_lua_pattern_install(L, -1);
        lua_pop(L, 1);
    }
    if (luaL_loadstring(L, harness) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        fail_msg("harness: %s", lua_tostring(L, -1));
    lua_setglobal(L, "H");
    assert_int_equal(lua_gettop(L), 0);
    return L;
}

/* Returns the result left on top of the stack by H.<fn>, copied; the caller frees it. */
static char *take_result(lua_State *L, int status, size_t *len)
{
    const char *s;
    char *copy;

    if (status != LUA_OK) {
        s = lua_tolstring(L, -1, len);
        fail_msg("harness raised: %s", s != NULL ? s : "(not a string)");
    }
    s = lua_tolstring(L, -1, len);
    assert_non_null(s);
    copy = malloc(*len + 1);
    memcpy(copy, s, *len + 1);
    lua_settop(L, 0);
    return copy;
}

static char *eval(lua_State *L, const char *code, size_t *len)
{
    lua_getglobal(L, "H");
    lua_getfield(L, -1, "eval");
    lua_remove(L, -2);
    lua_pushstring(L, code);
    return take_result(L, lua_pcall(L, 1, 1, 0), len);
}

static lua_State *stock, *ours;
static int num_corpus, num_fuzz, num_mismatches;

static void setup_states(void)
{
    ticks = 0;
    tick_limit = LONG_MAX;
    num_mismatches = 0;
    stock = open_state(0);
    ours = open_state(1);
}

static void close_states(void)
{
    lua_close(stock);
    lua_close(ours);
}

static void check_code(const char *code)
{
    size_t expected_len, actual_len;
    char *expected = eval(stock, code, &expected_len), *actual = eval(ours, code, &actual_len);

    if (strncmp(expected, "LOAD ERROR", 10) == 0)
        fail_msg("corpus case does not compile: %s: %s", code, expected);
    if (expected_len != actual_len || memcmp(expected, actual, expected_len) != 0) {
        fprintf(stderr, "MISMATCH %s\n  stock: %s\n  ours:  %s\n", code, expected, actual);
        ++num_mismatches;
    }
    ++num_corpus;
    free(expected);
    free(actual);
}

/* Each case is a Lua expression; find, match, gmatch, gsub and pc return the serialised outcome. */
static const char *const corpus[] = {
    /* find: init, plain, returns */
    "find('hello world', 'o')",
    "find('hello world', 'o', 6)",
    "find('hello world', 'o', -3)",
    "find('hello world', 'o', -11)",
    "find('hello world', 'o', -12)",
    "find('hello world', 'o', -100)",
    "find('hello world', 'o', 0)",
    "find('hello world', 'o', 11)",
    "find('hello world', 'o', 12)",
    "find('hello world', 'o', 100)",
    "find('hello world', 'o', math.mininteger)",
    "find('hello world', 'o', math.maxinteger)",
    "find('hello', '', 5)",
    "find('hello', '', 6)",
    "find('hello', '', 7)",
    "find('hello', '', -1)",
    "find('hello', '', 0)",
    "find('hello', '', 6, true)",
    "find('hello', '', 7, true)",
    "find('', '')",
    "find('', '', 1)",
    "find('', '', 2)",
    "find('', '', -1)",
    "find('', 'a')",
    "find('', '.')",
    "find('', '.*')",
    "find('', '^$')",
    "find('', '$')",
    "find('abc', '$')",
    "find('abc', '^')",
    "find('abc', '^', 3)",
    "find('abc', '^b', 2)",
    "find('abc', '^b', -2)",
    "find('abc', '^b')",
    "find('abc', 'c$', 3)",
    "find('a.b', '.', 1, true)",
    "find('a.b', '.', 2, true)",
    "find('a.b', '.', 2, false)",
    "find('a.b', '.', 2, nil)",
    "find('a+b', '+', 1, 1)",
    "find('a+b', '+')",
    "find('a+b', 'a+b')",
    "find('a+b', 'a%+b')",
    "find('a+b', 'a+b', 1, true)",
    "find('a\\0b', '\\0')",
    "find('a\\0b', '%z')",
    "find('a\\0b', '[\\0]')",
    "find('a\\0b', '[^\\0]', 2)",
    "find('a\\0b\\0', '.\\0', 2)",
    "find('a\\0b\\0c', 'b\\0c')",
    "find('a\\0b\\0c', 'b\\0c', 1, true)",
    "find('a\\0b\\0c', '%\\0')",
    "find('abc', 'b', 2.0)",
    "find('abc', 'b', '2')",
    "find('abc', 'b', ' 0x2 ')",
    "find('abc', 'b', 2.5)",
    "find('abc', 'b', {})",
    "find('abc', 'b', 'x')",
    "find(12345, 34)",
    "find(12345, 3.5)",
    "find(1.5, '%.')",
    "find(nil, 'a')",
    "find('a', nil)",
    "find('a')",
    "find()",
    "find({}, 'a')",
    "find('abc', 'b', nil, true)",
    "find('abc', '[b]', 1, true)",
    "find('x^y', '^y')",
    "find('x^y', 'x^y')",
    "find('x$y', 'x$y')",
    "find('ab$', 'b$')",
    "find('ab$', 'b%$')",
    "find('ab$', '$$')",
    "find('a]b', ']')",
    "find('a)b', ')')",
    "find('a)b', '%)')",
    "find('hello Lua user', 'Lua')",
    "find('hello Lua user', 'banana')",
    "find('hello Lua user', 'l')",
    "find('hello Lua user', 'lua')",
    "find('hello Lua user', 'Lua', 8)",
    "find('hello Lua user', 'e', -5)",
    "find('hello Lua user', 'e', -50)",
    "find('hello', '(l)(l)')",
    "find('hello', '()ll()')",
    "find('hello', '(h)(e)(l)(l)(o)')",
    "find('hello', 'l+')",
    "find('hello', '.-l')",
    "find('hello', 'x*')",
    "find('hello', 'x*', 3)",
    "find('hello', 'x*$')",
    /* match */
    "match('hello world', '(h)(e)(l)(l)(o)')",
    "match('hello', '()')",
    "match('hello', '()', 3)",
    "match('hello', '()', 6)",
    "match('hello', '()', 7)",
    "match('hello', '(()l)')",
    "match('hello', '()ll()')",
    "match('abc', '((a)(b))c')",
    "match('abc', '(a(b(c)))')",
    "match('abc', '(a)(b)(c)()')",
    "match('abc', '(a*(.)%w(%s*))')",
    "match('aaab', 'a*')",
    "match('aaab', 'a+')",
    "match('aaab', 'a-')",
    "match('aaab', 'a-b')",
    "match('aaab', 'a?')",
    "match('aaab', 'a?a?a?a?b')",
    "match('b', 'a?b')",
    "match('b', 'a+b')",
    "match('aaab', '^(a*)(.*)$')",
    "match('aaab', '^(a-)(.*)$')",
    "match('aaab', '^(a+)(a)')",
    "match('aaab', '^(a-)(a)')",
    "match('<a><b>', '<(.-)>')",
    "match('<a><b>', '<(.*)>')",
    "match('  trim  ', '^%s*(.-)%s*$')",
    "match('key = value', '(%w+)%s*=%s*(%w+)')",
    "match('', 'a*')",
    "match('', 'a+')",
    "match('', 'a-')",
    "match('', 'a?')",
    "match('', '()')",
    "match('', '')",
    "match('abc', '.-$')",
    "match('abc', '.-')",
    "match('abc', '')",
    "match('abc', '', 10)",
    "match('abc', 'c', -1)",
    "match('abc', '^c', -1)",
    "match('-a', '-a')",
    "match('a-', 'a-')",
    "match('a', '*')",
    "match('*a', '*a')",
    "match('**', '**')",
    "match('++', '+')",
    "match('a?" "?', 'a?" "?')",
    "match('?', '?')",
    "match('a', 'a*?')",
    "match('aaa', 'a**')",
    "match('a*', 'a**')",
    "match('2024-11-26', '(%d+)-(%d+)-(%d+)')",
    "match('2024-11-26', '^(%d%d%d%d)%-(%d%d)%-(%d%d)$')",
    "match('/api/v1/users/42', '^/api/v(%d+)/(%w+)/(%d+)$')",
    "match('Mozilla/5.0 (X11; Linux x86_64)', '%((.-)%)')",
    "match('text/html; charset=UTF-8', 'charset=([%w%-]+)')",
    "match('a=1&b=2&c=3', '[?&]?b=([^&]*)')",
    "match('https://example.com:8443/x?y=1', '^(%a+)://([^/:]+):?(%d*)(/[^?]*)%?" "?(.*)$')",
    "match(' [[x]] ', '%[(=*)%[(.-)%]%1%]')",
    "match('[==[long]==]', '%[(=*)%[(.-)%]%1%]')",
    "match('x', 'x', 1.0)",
    "match('x', 'x', 1.5)",
    "match(nil, 'x')",
    "match('x', true)",
    /* character classes, over every byte */
    "gsub(ALL, '%a', '')",
    "gsub(ALL, '%c', '')",
    "gsub(ALL, '%d', '')",
    "gsub(ALL, '%g', '')",
    "gsub(ALL, '%l', '')",
    "gsub(ALL, '%p', '')",
    "gsub(ALL, '%s', '')",
    "gsub(ALL, '%u', '')",
    "gsub(ALL, '%w', '')",
    "gsub(ALL, '%x', '')",
    "gsub(ALL, '%A', '')",
    "gsub(ALL, '%C', '')",
    "gsub(ALL, '%D', '')",
    "gsub(ALL, '%G', '')",
    "gsub(ALL, '%L', '')",
    "gsub(ALL, '%P', '')",
    "gsub(ALL, '%S', '')",
    "gsub(ALL, '%U', '')",
    "gsub(ALL, '%W', '')",
    "gsub(ALL, '%X', '')",
    "gsub(ALL, '%z', '')",
    "gsub(ALL, '%Z', '')",
    "gsub(ALL, '%.', '')",
    "gsub(ALL, '%%', '')",
    "gsub(ALL, '%\\255', '')",
    "gsub(ALL, '.', '')",
    "gsub(ALL, '[%a%d]', '')",
    "gsub(ALL, '[^%s]', '')",
    "gsub(ALL, '[^%S%c]', '')",
    "gsub(ALL, '[a-f]', '')",
    "gsub(ALL, '[%w_]', '')",
    "gsub(ALL, '[^%w_]', '')",
    "gsub(ALL, '[a-]', '')",
    "gsub(ALL, '[-a]', '')",
    "gsub(ALL, '[a-c-e]', '')",
    "gsub(ALL, '[]]', '')",
    "gsub(ALL, '[^]]', '')",
    "gsub(ALL, '[]-a]', '')",
    "gsub(ALL, '[%]]', '')",
    "gsub(ALL, '[%]-a]', '')",
    "gsub(ALL, '[a%-z]', '')",
    "gsub(ALL, '[z-a]', '')",
    "gsub(ALL, '[%a-z]', '')",
    "gsub(ALL, '[a-%%]', '')",
    "gsub(ALL, '[!-/]', '')",
    "gsub(ALL, '[\\128-\\255]', '')",
    "gsub(ALL, '[\\0-\\31]', '')",
    "gsub(ALL, '[^\\0-\\127]', '')",
    "gsub(ALL, '[%^]', '')",
    "gsub(ALL, '[^^]', '')",
    "gsub(ALL, '[a^]', '')",
    "gsub(ALL, '[[]', '')",
    "gsub(ALL, '[]', '')",
    "gsub(ALL, '[^]', '')",
    "gsub(ALL, '[%', '')",
    "gsub(ALL, '[%]', '')",
    "gsub(ALL, '[a', '')",
    "gsub(ALL, '[a-', '')",
    "gsub(ALL, '[^', '')",
    "gsub(ALL, '[', '')",
    "gsub(ALL, '[.]', '')",
    "gsub(ALL, '[%.]', '')",
    "gsub(ALL, '[%z]', '')",
    "gsub(ALL, '[\\0]', '')",
    "gsub(ALL, '%f[%a]', '|')",
    "gsub(ALL, '%f[^%a]', '|')",
    "gsub(ALL, '%f[%w]%w+', '<%0>')",
    /* captures */
    "find('a', rep('()', 32))",
    "find('a', rep('()', 33))",
    "match('a', rep('(', 32) .. 'a' .. rep(')', 32))",
    "match('a', rep('(', 33) .. 'a' .. rep(')', 33))",
    "match('b', rep('(', 33) .. 'a' .. rep(')', 33))",
    "match('abc', '(')",
    "match('abc', ')')",
    "match('abc', '(()')",
    "match('abc', '())')",
    "match('abc', 'a)')",
    "match('abc', 'x)')",
    "match('abc', '(a')",
    "match('abc', '(x')",
    "match('abc', '()(')",
    "find('abc', '(')",
    "find('abc', '(b', 3)",
    "gsub('abc', '(', 'x')",
    "gsub('abc', '(', '%0')",
    "gsub('abc', '(', '%1')",
    "gsub('abc', '(', F)",
    "gsub('abc', '(', T)",
    "gmatch('abc', '(')",
    "gmatch('abc', 'b)')",
    /* back-references */
    "match('abcabc', '(abc)%1')",
    "match('xyyx', '(.)(.)%2%1')",
    "find('aaa', '(a)%1')",
    "match('abab', '(a)%2')",
    "match('a', '%1')",
    "match('a', '(a%1)')",
    "match('a', '%0')",
    "match('a', '(a)%0')",
    "match('aa', '()a%1')",
    "match('abcabc', '(.-)%1$')",
    "match('abcab', '(.+)%1')",
    "match('say \"hi\" or \\'yo\\'', '([\"\\'])(.-)%1')",
    "match('x = [==[ s ]==]', '%[(=*)%[.-%]%1%]')",
    "match('aXa', '(a)(X)%1%2')",
    "match('aXaX', '(a)(X)%1%2')",
    "match('aaaa', '(a*)%1')",
    "match('abc', '(a)%9')",
    "match('', '()%1')",
    "match('a\\0a', '(a)\\0%1')",
    "gsub('hello world', '(o)(.-)%1', '[%2]')",
    /* %b */
    "find('THE (quick) fox', '%b()')",
    "match('f(a(b)c)d', '%b()')",
    "match('((x)', '%b()')",
    "match('(x))', '%b()')",
    "match('x', '%b')",
    "match('x', '%bx')",
    "match('', '%b')",
    "match('', '%b()')",
    "match('\"a\"b\"', '%b\"\"')",
    "match(\"'a' 'b'\", \"%b''\")",
    "gsub(\"'a' 'b' 'c\", \"%b''\", 'S')",
    "gsub('a(b)c(d(e))', '%b()', '[]')",
    "match('[[x]]', '%b[]')",
    "find(rep('(', 100), '%b()')",
    "find(rep('(', 100) .. ')', '%b()')",
    "match('()*', '%b()*')",
    "match('())', '%b()+')",
    "match('x(y)z', 'x%b()z')",
    "match('x(y)z', '(%b())')",
    "match('a\\0b\\0', '%b\\0\\0')",
    "match('\\0', '%b\\0\\0')",
    "match('(a)', '%b()$')",
    "match('<<a>', '%b<>')",
    "gsub('f(a, g(b), c) + h(d)', '%w+%b()', 'CALL')",
    /* %f */
    "gsub('THE (quick) fox', '%f[%a]%a+', 'W')",
    "find('THE (quick) fox', '%f[%a]%a+')",
    "find('hello', '%f[%l]')",
    "find('hello', '%f[\\0]')",
    "find('hello', '%f[%z]')",
    "find('hello', '%f[%Z]')",
    "find('abc', '%f[%w]')",
    "find('abc', '%f[^%w]')",
    "find('', '%f[\\0]')",
    "find('', '%f[^a]')",
    "find('', '%f[a]')",
    "match('x', '%f')",
    "match('x', '%fx')",
    "match('x', '%f[x')",
    "match('x', '%f[]')",
    "match('', '%f[x')",
    "find('aXb', '%f[%u]')",
    "find('a b', '%f[%s]', 2)",
    "find('a b', '%f[%S]', 2)",
    "find('a b', '%f[%S]', 3)",
    "find('ab', '%f[b]', 2)",
    "gsub('the (quick) brown', '%f[%a]', '|')",
    "gsub('the (quick) brown', '%f[%A]', '|')",
    "gsub('THE (quick) fox', '%f[%a]%a+%f[%A]', 'W')",
    "match('hello', '%f[%l]+')",
    "match('hello', '%f[%l]*x')",
    /* gmatch */
    "gmatch('hello world from Lua', '%a+')",
    "gmatch('from=world, to=Lua', '(%w+)=(%w+)')",
    "gmatch('k1=v1, k2=v2', '((%w+)=(%w+))')",
    "gmatch('abc', '')",
    "gmatch('abc', '.-')",
    "gmatch('abc', 'x*')",
    "gmatch('abc', '()')",
    "gmatch('abc', '()', 2)",
    "gmatch('^a^a', '^a')",
    "gmatch('aaa', '^a')",
    "gmatch('aaa', '^')",
    "gmatch('aaa', 'a$')",
    "gmatch('aaa', '$')",
    "gmatch('hello', 'l', 4)",
    "gmatch('hello', 'l', -2)",
    "gmatch('hello', '.', 0)",
    "gmatch('hello', '.', -100)",
    "gmatch('hello', '.', 6)",
    "gmatch('hello', '.', 7)",
    "gmatch('hello', '.', 100)",
    "gmatch('hello', '', 5)",
    "gmatch('hello', '', 6)",
    "gmatch('hello', '', 7)",
    "gmatch('hello', '', math.maxinteger)",
    "gmatch('hello', '', math.mininteger)",
    "gmatch('', '')",
    "gmatch('', 'a')",
    "gmatch('abc', '%w*')",
    "gmatch('abc d', '%w*')",
    "gmatch('a,b,,c,', '([^,]*)')",
    "gmatch('a,b,,c,', '[^,]*')",
    "gmatch('aaa', 'a-')",
    "gmatch('aaa', 'a?')",
    "gmatch('abab', 'a*')",
    "gmatch('abc', '%')",
    "gmatch('abc', 'b%')",
    "gmatch('abc', '%f[%w]%w+')",
    "gmatch('abc', '(a)%2')",
    "gmatch(nil, 'a')",
    "gmatch('a', nil)",
    "gmatch('a', 'a', 'x')",
    "gmatch('a', 'a', 1.5)",
    "gmatch(123, 2)",
    "gmatch('THE (quick) fox', '%b()')",
    "gmatch('one two  three', '%S+')",
    "gmatch('one two  three', '()%S+()')",
    "gmatch('a1b2c3', '%a(%d)')",
    "gmatch('abc', '.', 2, 'extra')",
    /* gsub: replacement strings */
    "gsub('hello world', '(%w+)', '%1 %1')",
    "gsub('hello world', '%w+', '%0 %0', 1)",
    "gsub('hello world from Lua', '(%w+)%s*(%w+)', '%2 %1')",
    "gsub('hello', '', '-')",
    "gsub('abc', '%w*', '-')",
    "gsub('abc d', '%w*', '-')",
    "gsub('abc', 'x*', '-')",
    "gsub('abc', '.-', '-')",
    "gsub('abc', 'b*', '-')",
    "gsub('', '', '-')",
    "gsub('', 'x*', '-')",
    "gsub('', 'x', '-')",
    "gsub('hello world', 'o', '0', 0)",
    "gsub('hello world', 'o', '0', -1)",
    "gsub('hello world', 'o', '0', 1)",
    "gsub('hello world', 'o', '0', 2.0)",
    "gsub('hello world', 'o', '0', 2.5)",
    "gsub('hello world', 'o', '0', 'x')",
    "gsub('hello world', 'o', '0', '1')",
    "gsub('hello world', 'o', '0', math.maxinteger)",
    "gsub('hello world', 'o', '0', math.mininteger)",
    "gsub('hello world', '', '.', 3)",
    "gsub('hello', 'l', 5)",
    "gsub('hello', 'l', 1.5)",
    "gsub('hello', 'l', -0.0)",
    "gsub('hello', 'l', 2^63)",
    "gsub('hello', 'l', true)",
    "gsub('hello', 'l', nil)",
    "gsub('hello', 'l')",
    "gsub('hello', 'l', false)",
    "gsub('hello', 'l', true, 'x')",
    "gsub('hello', 'l', print, 'x')",
    "gsub('hello', 'l', {}, 'x')",
    "gsub('hello', 'l', io.stdout)",
    "gsub('abc', '()', '%1')",
    "gsub('abc', '()(%w)', '%2%1')",
    "gsub('abc', '(%w)()', '%2%1')",
    "gsub('abc', '%w', '%1')",
    "gsub('abc', '%w', '%2')",
    "gsub('abc', '(%w)', '%2')",
    "gsub('abc', '(%w)', '%9')",
    "gsub('abc', 'x', '%9')",
    "gsub('abc', '%w', '%')",
    "gsub('abc', '%w', 'a%')",
    "gsub('abc', '%w', '%x')",
    "gsub('abc', '%w', '%a')",
    "gsub('abc', '%w', '% ')",
    "gsub('abc', '%w', '%%')",
    "gsub('abc', '%w', '%%%%')",
    "gsub('abc', '%w', '%0%0')",
    "gsub('abc', '%w', '100%%')",
    "gsub('abc', '%w', '%\\0')",
    "gsub('abc', '%w', 'x\\0y')",
    "gsub('abc', '%w', '')",
    "gsub('abc', 'b', 7)",
    "gsub('abc', 'b', 7.5)",
    "gsub('abc', 'b', -0.0)",
    "gsub('abc', 'b', 2^63)",
    "gsub('abc', '^a', 'x')",
    "gsub('aaa', '^a', 'x')",
    "gsub('aaa', '^a*', 'x')",
    "gsub('baa', '^a', 'x')",
    "gsub('abc', '^', 'x')",
    "gsub('abc', '$', 'x')",
    "gsub('abc', '^$', 'x')",
    "gsub('', '^$', 'x')",
    "gsub('', '^', 'x')",
    "gsub('abc', '^(.)', '%1%1')",
    "gsub('abc', '^', 'x', 0)",
    "gsub(123, '2', 'x')",
    "gsub(123, 'x', 'y')",
    "gsub(123, '', 'y')",
    "gsub('abc', 2, 'x')",
    "gsub('a.b', '%.', '%%')",
    "gsub('x = 1', '(%w+) = (%w+)', '%2 = %1')",
    "gsub('abc', '(b)', '[%0|%1]')",
    "gsub('hello world', '(o)', '%1%1')",
    "gsub('$name-$version.tar.gz', '%$(%w+)', {name = 'lua', version = '5.4'})",
    "gsub('$name is $age', '%$(%w+)', {name = 'Lua', age = 30})",
    "gsub('$name is $age', '%$(%w+)', {name = 'Lua', age = 30.0})",
    "gsub('$name is $x', '%$(%w+)', {name = 'Lua'})",
    /* gsub: tables and functions */
    "gsub('hello world', 'l+', {ll = 'LL'})",
    "gsub('abc', '%w', T)",
    "gsub('abc', '(%w)', T)",
    "gsub('abc', '()%w', T)",
    "gsub('abc', '(%w)(%w)', T)",
    "gsub('a(', '%w%(', T)",
    "gsub('(', '%(', T)",
    "gsub('abc', '%w', {a = 1, b = true})",
    "gsub('abc', '%w', {b = {}})",
    "gsub('abc', '%w', {c = print})",
    "gsub('abc', '%w', setmetatable({}, {__index = function(t, k) return k:upper() end}))",
    "gsub('abc', '%w', setmetatable({}, {__index = function(t, k) error('idx ' .. k) end}))",
    "gsub('abc', '%w', F)",
    "gsub('abc', '(%w)', F)",
    "gsub('abc d', '()(%w+)()', F)",
    "gsub('abc', '(%w)', function(c) return c:upper() .. c end)",
    "gsub('abc', '%w', function() end)",
    "gsub('abc', '%w', function() return false end)",
    "gsub('abc', '%w', function() return 1.5 end)",
    "gsub('abc', '%w', function() return 2 end)",
    "gsub('abc', '%w', function() return {} end)",
    "gsub('abc', '%w', function() return true end)",
    "gsub('abc', '%w', function() error('boom') end)",
    "gsub('abc', '%w', function() error({}) end)",
    "gsub('abc', '%w', function() return 'x', 'y' end)",
    "gsub('abc', '%w', function(c) return (gsub(c, '%w', '%0%0')) end)",
    "gsub('abc', '%w', function(c) return select(2, ('xyz'):find(c)) end)",
    "gsub('4+5 = $return 4+5$', '%$(.-)%$', function(s) return load(s)() end)",
    "gsub('hello world', '%w+', F, 1)",
    "gsub('hello world', 'o', T, 0)",
    "gsub('a b c', '%w', function(c) if c == 'b' then return nil end return '[' .. c .. ']' end)",
    /* method calls and argument errors */
    "pc(function() return ('hello'):find('l') end)",
    "pc(function() return ('hello'):find({}) end)",
    "pc(function() return ('hello'):match('(h)(e)') end)",
    "pc(function() return ('hello'):gsub('l', 'L') end)",
    "pc(function() return ('hello'):gsub('l', true) end)",
    "pc(function() return ('hello'):gsub('l', 'L', 'n') end)",
    "pc(function() local n = 0 for w in ('a b c'):gmatch('%a') do n = n + 1 end return n end)",
    "pc(function() return string.find(nil) end)",
    "pc(function() return string.gsub('x', 'x') end)",
    "pc(function() local s = 'x' return s.find(s, 'x', {}) end)",
    "pc(function() return (1):find(1) end)",
    "pc(function() local it = string.gmatch('ab', '.') return it(), it(), it(), it() end)",
    "pc(function() local it = string.gmatch('abc', '%') return it() end)",
    "pc(function() local it = string.gmatch('aXb', '%u') it() return coroutine.wrap(function() return it() end)() end)",
    "pc(string.find, 'a', '%')",
    "pc(string.gsub, 'a', 'a', {}, {})",
    /* malformed patterns: errors come only when the matcher reaches them */
    "match('a', '%')",
    "match('a', 'a%')",
    "match('b', 'a%')",
    "match('a', '[a')",
    "match('a', '[]')",
    "match('a', '[^]')",
    "match('a', '[a-')",
    "match('a', '[%')",
    "match('a', '[%]')",
    "match('a', '[^%]]')",
    "match('b', 'a[')",
    "match('', '[')",
    "match('', 'x[')",
    "match('a', 'a*[')",
    "match('a', 'a-[')",
    "match('a', 'a?[')",
    "match('x', 'x?%')",
    "match('a', '%b')",
    "match('a', '%ba')",
    "match('a', 'a%b')",
    "match('a', 'b%b')",
    "match('a', '%f')",
    "match('a', '%fa')",
    "match('a', '%f[a')",
    "match('a', '(a)%2')",
    "match('a', '%0')",
    "match('a', '%1')",
    "match('a', '(%1)')",
    "match('ab', '(a)(b%2)')",
    "match('a', '(a)%1')",
    "gsub('a', 'a', '%1')",
    "gsub('a', 'a', '%9')",
    "gsub('a', 'b', '%9')",
    "gsub('a', 'a%', 'x')",
    "gsub('a', 'x%', 'x')",
    "gmatch('a', 'a%')",
    /* nesting limits */
    "match(rep('a', 199), rep('a?', 199))",
    "match(rep('a', 200), rep('a?', 200))",
    "match(rep('a', 300), rep('a?', 300))",
    "match('', rep('a?', 300))",
    "match(rep('a', 300), rep('a?', 300), 120)",
    "match(rep('a', 199), rep('a*', 199))",
    "match(rep('a', 200), rep('a*', 200))",
    "match(rep('a', 200), rep('a-', 200))",
    "match(rep('a', 200), rep('b*', 200))",
    "match(rep('a', 199), rep('(a)', 32) .. rep('a?', 167))",
    "match('a', rep('()', 30) .. rep('a?', 168))",
    "match(rep('a', 100), rep('(a', 32) .. rep(')', 32))",
    "match(rep('a', 100), rep('(a', 32) .. rep(')', 33))",
    "match(rep('a', 99), rep('(a)', 32) .. rep('a?', 67) .. rep('(a)', 1))",
    "gsub(rep('a', 210), rep('a?', 200), 'x')",
    "gsub(rep('a', 210), rep('a?', 199), 'x')",
    "gmatch(rep('a', 210), rep('a?', 200))",
    "find(rep('a', 500), rep('.-', 250))",
    "find(rep('a', 500), rep('.-', 150) .. '$')",
    /* long subjects */
    "gsub(rep('ab', 5000), 'b', 'c')",
    "match(rep('a', 10000), '(a*)$')",
    "match(rep('a', 10000) .. 'b', '(a+)(b)')",
    "find(rep('a', 5000) .. 'b', 'a-b')",
    "find(rep('x', 2000), '.-y')",
    "find(rep('a', 100000) .. 'b', rep('a', 50) .. 'b', 1, true)",
    "find(rep('ab', 50000), 'abb', 1, true)",
    "find(rep('a', 70000) .. 'xyz', 'xyz', 1, true)",
    "find(rep('a', 70000) .. 'xyz', 'xyz', 65537, true)",
    "find(rep('a', 70000) .. 'xyz', 'xyz', 70002, true)",
    "find(rep('a', 200000), 'b', 1, true)",
    "find(rep('a', 200000), 'a', -1, true)",
    "find(rep('a', 200000), rep('a', 200000), 1, true)",
    "find(rep('a', 200000), rep('a', 200001), 1, true)",
    "find(rep('(', 1000) .. rep(')', 999), '%b()')",
    "gsub(rep('(x)', 1000), '%b()', '')",
    "match(rep('a', 5000), '(' .. rep('a', 2000) .. ')%1')",
    "match(rep('ab', 3000), '^(.-)%1$')",
    "find(rep('a', 1000), '[' .. rep('b', 5000) .. 'a]+$')",
    "gsub(rep('hello world ', 1000), '%f[%w]%w+', F)",
    "gsub(rep('hello world ', 1000), '(%w+) (%w+)', '%2 %1')",
    "gmatch(rep('k=v&', 50), '([^&=]+)=([^&=]*)')",
};

static void test_corpus(void **state)
{
    setup_states();
    for (size_t i = 0; i != sizeof(corpus) / sizeof(corpus[0]); ++i)
        check_code(corpus[i]);
    printf("[ INFO     ] %d corpus cases compared with stock Lua, %d mismatches\n", num_corpus, num_mismatches);
    assert_int_equal(num_mismatches, 0);
    /* the heavy cases above ran through our matcher, not stock Lua's */
    assert_true(ticks > 0);
    close_states();
}

static uint64_t rng = FUZZ_SEED;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

struct st_strbuf_t {
    char bytes[512];
    size_t len;
};

static void append(struct st_strbuf_t *b, const char *s, size_t len)
{
    if (b->len + len > sizeof(b->bytes))
        return;
    memcpy(b->bytes + b->len, s, len);
    b->len += len;
}

#define APPEND_LIT(b, s) append((b), (s), sizeof(s) - 1)

static void pick(struct st_strbuf_t *b, const char *const *choices, size_t num)
{
    const char *c = choices[rnd((uint32_t)num)];
    /* "\0" entries stand for a NUL byte */
    if (c[0] == '\\' && c[1] == '0')
        append(b, "", 1);
    else
        append(b, c, strlen(c));
}

static const char *const fuzz_atoms[] = {
    "a",  "a",    "b",    "b",     "c",     ".",     ".",     "%a",    "%d",     "%s",    "%w",    "%p",     "%A",
    "%S", "%u",   "%l",   "%x",    "%c",    "%g",    "%.",    "%%",    "%(",     "%)",    "%]",    "%[",     "%z",
    "%-", "[ab]", "[ab]", "[^ab]", "[a-c]", "[%a_]", "[]]",   "[^]]",  "[a-]",   "[-a]",  "[%]]",  "[%a-c]", "[%w%s]",
    "[(]", "[.]", "\\0",  " ",     "-",     "*",     "?",     "+",     "^",      "$",     "[^%s]", "[b-]",  "A",
};
static const char *const fuzz_quantifiers[] = {"*", "+", "-", "?"};
static const char *const fuzz_specials[] = {
    "()",    "()",    "%b()", "%bab",  "%baa", "%b", "%ba", "%f[%a]", "%f[a]", "%f[^a]", "%f[%z]", "%f[(]",
    "%f[b]", "%f",    "%fa",  "%f[a",  "%1",   "%1", "%2",  "%0",     "%3",    "[",      "[^",     "[a",
    "[%",    "%",     ")",    "(",     "[a-%]]", "%b((", "%b))", "$",   "^",
};
static const char *const fuzz_subject_chars[] = {"a", "a", "a", "b", "b", "b", "c", "(", ")", " ", "[", "]",
                                                 "%", ".", "-", "^", "$", "\\0", "A", "1", "\xe9", "\n"};
static const char *const fuzz_repl_pieces[] = {"x", "%0", "%1", "%2", "%%", "-", "%", "%a", "<%1>", "%9", "", "%3"};

static void gen_sequence(struct st_strbuf_t *p, int depth)
{
    for (uint32_t n = rnd(depth == 0 ? 6 : 4); n != 0; --n) {
        uint32_t r = rnd(100);
        if (r < 60) {
            pick(p, fuzz_atoms, sizeof(fuzz_atoms) / sizeof(fuzz_atoms[0]));
            if (rnd(3) == 0)
                pick(p, fuzz_quantifiers, sizeof(fuzz_quantifiers) / sizeof(fuzz_quantifiers[0]));
        } else if (r < 80 && depth < 3) {
            APPEND_LIT(p, "(");
            gen_sequence(p, depth + 1);
            if (rnd(20) != 0)
                APPEND_LIT(p, ")");
        } else {
            pick(p, fuzz_specials, sizeof(fuzz_specials) / sizeof(fuzz_specials[0]));
        }
    }
}

static void gen_pattern(struct st_strbuf_t *p)
{
    p->len = 0;
    if (rnd(5) == 0)
        APPEND_LIT(p, "^");
    gen_sequence(p, 0);
    if (rnd(5) == 0)
        APPEND_LIT(p, "$");
}

static void gen_subject(struct st_strbuf_t *s)
{
    s->len = 0;
    for (uint32_t n = rnd(rnd(4) == 0 ? 30 : 10); n != 0; --n)
        pick(s, fuzz_subject_chars, sizeof(fuzz_subject_chars) / sizeof(fuzz_subject_chars[0]));
}

/* Pushes a random init argument, or nothing; returns 1 when it pushed one. */
static void push_init(lua_State *L, lua_Integer len, int choice)
{
    static const lua_Integer offsets[] = {0, 1, 2, 3, -1, -2, -3, 100, -100};
    switch (choice) {
    case 0:
        lua_pushnil(L);
        break;
    case 1:
        lua_pushinteger(L, len);
        break;
    case 2:
        lua_pushinteger(L, len + 1);
        break;
    case 3:
        lua_pushinteger(L, len + 2);
        break;
    case 4:
        lua_pushinteger(L, -len);
        break;
    case 5:
        lua_pushinteger(L, -len - 1);
        break;
    default:
        lua_pushinteger(L, offsets[(choice - 6) % (sizeof(offsets) / sizeof(offsets[0]))]);
        break;
    }
}

struct st_fuzz_case_t {
    const char *kind;
    int nargs;
    struct st_strbuf_t subject, pattern, repl;
    int init_choice, has_a3, repl_kind;
    int a4_kind; /* 0 none, 1 true, 2 false, 3+ an integer */
    lua_Integer a4;
};

static char *run_fuzz_case(lua_State *L, const struct st_fuzz_case_t *c, size_t *len)
{
    int is_gsub = strcmp(c->kind, "gsub") == 0;

    lua_getglobal(L, "H");
    lua_getfield(L, -1, "fuzz");
    lua_remove(L, -2);
    lua_pushstring(L, c->kind);
    lua_pushinteger(L, c->nargs);
    lua_pushlstring(L, c->subject.bytes, c->subject.len);
    lua_pushlstring(L, c->pattern.bytes, c->pattern.len);
    if (is_gsub)
        lua_pushlstring(L, c->repl.bytes, c->repl.len);
    else
        push_init(L, (lua_Integer)c->subject.len, c->init_choice);
    if (c->a4_kind == 0)
        lua_pushnil(L);
    else if (c->a4_kind <= 2)
        lua_pushboolean(L, c->a4_kind == 1);
    else
        lua_pushinteger(L, c->a4);
    lua_pushinteger(L, is_gsub ? c->repl_kind : 0);
    return take_result(L, lua_pcall(L, 7, 1, 0), len);
}

static void print_bytes(const char *label, const struct st_strbuf_t *b)
{
    fprintf(stderr, "  %s: \"", label);
    for (size_t i = 0; i != b->len; ++i) {
        unsigned char ch = (unsigned char)b->bytes[i];
        if (ch < 32 || ch >= 127 || ch == '"' || ch == '\\')
            fprintf(stderr, "\\%d", ch);
        else
            fputc(ch, stderr);
    }
    fprintf(stderr, "\"\n");
}

static void test_fuzz(void **state)
{
    static const char *const kinds[] = {"find", "find", "find", "match", "match", "gmatch", "gmatch", "gsub", "gsub", "gsub"};
    static const lua_Integer gsub_max[] = {0, 1, 2, -1, 3};
    struct st_fuzz_case_t c;
    int num_errors = 0, num_matches = 0;

    setup_states();
    for (int i = 0; i != FUZZ_ITERATIONS; ++i) {
        memset(&c, 0, sizeof(c));
        c.kind = kinds[rnd(sizeof(kinds) / sizeof(kinds[0]))];
        gen_subject(&c.subject);
        gen_pattern(&c.pattern);
        if (strcmp(c.kind, "gsub") == 0) {
            for (uint32_t n = 1 + rnd(3); n != 0; --n)
                pick(&c.repl, fuzz_repl_pieces, sizeof(fuzz_repl_pieces) / sizeof(fuzz_repl_pieces[0]));
            uint32_t r = rnd(20);
            c.repl_kind = r < 12 ? 0 : r < 15 ? 1 : r < 18 ? 2 : r < 19 ? 3 : 4;
            c.nargs = 3;
            if (rnd(3) == 0) {
                c.nargs = 4;
                c.a4_kind = 3;
                c.a4 = gsub_max[rnd(sizeof(gsub_max) / sizeof(gsub_max[0]))];
            }
        } else {
            c.nargs = 2;
            if (rnd(2) == 0) {
                c.nargs = 3;
                c.init_choice = 1 + rnd(14);
            }
            if (strcmp(c.kind, "find") == 0 && rnd(6) == 0) {
                c.nargs = 4;
                c.a4_kind = 1 + rnd(2);
            }
        }

        size_t expected_len, actual_len;
        char *expected = run_fuzz_case(stock, &c, &expected_len), *actual = run_fuzz_case(ours, &c, &actual_len);
        if (expected_len != actual_len || memcmp(expected, actual, expected_len) != 0) {
            fprintf(stderr, "MISMATCH fuzz #%d %s nargs=%d init_choice=%d a4_kind=%d a4=%lld repl_kind=%d\n", i, c.kind, c.nargs,
                    c.init_choice, c.a4_kind, (long long)c.a4, c.repl_kind);
            print_bytes("subject", &c.subject);
            print_bytes("pattern", &c.pattern);
            print_bytes("repl", &c.repl);
            fprintf(stderr, "  stock: %s\n  ours:  %s\n", expected, actual);
            ++num_mismatches;
        }
        /* the outcome starts with the value count and pcall's status */
        if (strstr(expected, " false ") != NULL)
            ++num_errors;
        else if (strstr(expected, " true nil") == NULL)
            ++num_matches;
        ++num_fuzz;
        free(expected);
        free(actual);
    }
    printf("[ INFO     ] %d fuzz cases (seed %#llx) compared with stock Lua: %d raised, %d matched, %d mismatches\n", num_fuzz,
           (unsigned long long)FUZZ_SEED, num_errors, num_matches, num_mismatches);
    assert_int_equal(num_mismatches, 0);
    /* a fuzz that only ever fails to match, or only ever raises, tests little */
    assert_true(num_errors > FUZZ_ITERATIONS / 20);
    assert_true(num_matches > FUZZ_ITERATIONS / 4);
    close_states();
}

/* Runs `code` (a chunk returning pcall's results) in `L` and returns its error message, or NULL when it succeeded. */
static char *run_guarded(lua_State *L, const char *code)
{
    char *msg = NULL;

    if (luaL_dostring(L, code) != LUA_OK)
        fail_msg("%s: %s", code, lua_tostring(L, -1));
    if (!lua_toboolean(L, 1)) {
        const char *s = lua_tostring(L, 2);
        msg = strdup(s != NULL ? s : "(not a string)");
    }
    lua_settop(L, 0);
    return msg;
}

static void assert_stopped(lua_State *L, const char *code, long limit)
{
    char *msg;

    ticks = 0;
    tick_limit = limit;
    msg = run_guarded(L, code);
    if (msg == NULL)
        fail_msg("not stopped after %ld ticks: %s", ticks, code);
    /* luaL_error may prefix the position of the Lua code that called the pattern function */
    size_t len = strlen(msg);
    assert_true(len >= 12 && strcmp(msg + len - 12, "budget spent") == 0);
    assert_int_equal(ticks, limit);
    free(msg);
    tick_limit = LONG_MAX;
}

static long ticks_for(lua_State *L, const char *code)
{
    char *msg;

    ticks = 0;
    tick_limit = LONG_MAX;
    msg = run_guarded(L, code);
    if (msg != NULL)
        fail_msg("%s: %s", code, msg);
    return ticks;
}

static void test_runaway_patterns_are_stopped(void **state)
{
    lua_State *L = open_state(1);

    assert_stopped(L, "return pcall(string.find, string.rep('a', 50000), '.-.-.-.-b')", 100);
    assert_stopped(L, "return pcall(string.find, string.rep('a', 100000), '.-.-.-.-.-b')", 100);
    assert_stopped(L, "return pcall(string.match, string.rep('a', 50000), '(a*)*b')", 50);
    assert_stopped(L, "return pcall(function(s) return s:find('.-.-.-b') end, string.rep('a', 50000))", 100);
    /* %b over a long unbalanced subject: each start position scans to the end */
    assert_stopped(L, "return pcall(string.find, string.rep('(', 200000), '%b()')", 100);
    assert_stopped(L, "return pcall(string.gsub, string.rep('(', 200000), '%b()', '')", 100);
    /* gsub and gmatch over long subjects, with pathological and with ordinary patterns */
    assert_stopped(L, "return pcall(string.gsub, string.rep('a', 50000), '.-.-b', 'x')", 100);
    assert_stopped(L, "return pcall(string.gsub, string.rep('a', 2000000), 'a', 'b')", 20);
    assert_stopped(L, "return pcall(string.gmatch(string.rep('a', 50000), '.-.-b'))", 100);
    assert_stopped(L, "return pcall(function() for w in string.gmatch(string.rep('ab ', 1000000), '%a+') do end end)", 20);
    /* back-references and long sets cost what they compare */
    assert_stopped(L, "return pcall(string.find, string.rep('a', 300000), '(.-)%1%1b')", 20);
    assert_stopped(L, "return pcall(string.find, string.rep('a', 20000), '[' .. string.rep('b', 100000) .. ']')", 20);
    /* a plain find's naive search is quadratic on such input */
    assert_stopped(L, "return pcall(string.find, string.rep('a', 1000000), string.rep('a', 100000) .. 'b', 1, true)", 20);

    /* nothing is left half-done: the state and the iterators work on after the error */
    assert_stopped(L, "it = string.gmatch(string.rep('a', 10000) .. 'b', '.-.-b') return pcall(it)", 1);
    char *msg = run_guarded(L, "local s, e = it() assert(s == string.rep('a', 10000) .. 'b', #s) assert(it() == nil)"
                               "assert(string.gsub('hello world', 'o', '0') == 'hell0 w0rld') return true");
    assert_null(msg);
    lua_close(L);
}

static void test_ticks_grow_with_work(void **state)
{
    lua_State *L = open_state(1);
    long t1, t2, t3;

    /* quadratic: each of n start positions scans the rest */
    t1 = ticks_for(L, "return pcall(string.find, string.rep('a', 2000), '.-b')");
    t2 = ticks_for(L, "return pcall(string.find, string.rep('a', 4000), '.-b')");
    t3 = ticks_for(L, "return pcall(string.find, string.rep('a', 8000), '.-b')");
    printf("[ INFO     ] find .-b over 2000/4000/8000 bytes: %ld/%ld/%ld ticks\n", t1, t2, t3);
    assert_true(t1 > 0);
    assert_true(t2 > 3 * t1 && t2 < 5 * t1);
    assert_true(t3 > 3 * t2 && t3 < 5 * t2);

    t1 = ticks_for(L, "return pcall(string.find, string.rep('(', 2000), '%b()')");
    t2 = ticks_for(L, "return pcall(string.find, string.rep('(', 4000), '%b()')");
    printf("[ INFO     ] find %%b() over 2000/4000 bytes: %ld/%ld ticks\n", t1, t2);
    assert_true(t1 > 0);
    assert_true(t2 > 3 * t1 && t2 < 5 * t1);

    /* linear */
    t1 = ticks_for(L, "return pcall(string.gsub, string.rep('a', 200000), 'a', 'b')");
    t2 = ticks_for(L, "return pcall(string.gsub, string.rep('a', 400000), 'a', 'b')");
    printf("[ INFO     ] gsub over 200000/400000 bytes: %ld/%ld ticks\n", t1, t2);
    assert_true(t1 > 0);
    assert_true(t2 >= 2 * t1 - 3 && t2 <= 2 * t1 + 3);

    t1 = ticks_for(L, "return pcall(function() for w in string.gmatch(string.rep('ab ', 100000), '%a+') do end end)");
    t2 = ticks_for(L, "return pcall(function() for w in string.gmatch(string.rep('ab ', 200000), '%a+') do end end)");
    printf("[ INFO     ] gmatch over 300000/600000 bytes: %ld/%ld ticks\n", t1, t2);
    assert_true(t1 > 0);
    assert_true(t2 >= 2 * t1 - 3 && t2 <= 2 * t1 + 3);
    lua_close(L);
}

static void test_ordinary_matches_rarely_tick(void **state)
{
    lua_State *L = open_state(1);
    long t;

    /* a fresh installation does not tick for one ordinary call */
    t = ticks_for(L, "return pcall(string.match, '/api/v1/users/42', '^/api/v(%d+)/(%w+)/(%d+)$')");
    assert_int_equal(t, 0);

    t = ticks_for(L, "return pcall(function()\n"
                     "  for i = 1, 10000 do\n"
                     "    assert(('/api/v1/users/42'):match('^/api/v(%d+)/(%w+)/(%d+)$') == '1')\n"
                     "    assert(('text/html; charset=UTF-8'):match('charset=([%w%-]+)') == 'UTF-8')\n"
                     "    assert(('max-age=3600, public'):find('max%-age=(%d+)'))\n"
                     "    assert(('a=1&b=2'):gsub('(%w+)=(%w+)', '%2=%1') == '1=a&2=b')\n"
                     "  end\n"
                     "end)");
    printf("[ INFO     ] 40000 ordinary matches: %ld ticks\n", t);
    /* about 100 steps a call: well under one tick in ten calls */
    assert_true(t < 40000 / 10);
    lua_close(L);
}

static void test_install_keeps_stack_and_other_fields(void **state)
{
    lua_State *L = luaL_newstate();

    luaL_openlibs(L);
    lua_getglobal(L, "string");
    lua_pushnil(L); /* idx is not the top */
    ef_lua_pattern_install(L, -2);
    assert_int_equal(lua_gettop(L), 2);
    lua_settop(L, 0);
    assert_int_equal(luaL_dostring(L, "return string.rep('ab', 2), ('x'):upper(), ('a,b'):gsub(',', ';')"), LUA_OK);
    assert_string_equal(lua_tostring(L, 1), "abab");
    assert_string_equal(lua_tostring(L, 2), "X");
    assert_string_equal(lua_tostring(L, 3), "a;b");
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_runaway_patterns_are_stopped),
        cmocka_unit_test(test_ticks_grow_with_work),
        cmocka_unit_test(test_ordinary_matches_rarely_tick),
        cmocka_unit_test(test_install_keeps_stack_and_other_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
