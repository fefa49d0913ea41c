/*
 * Lua's pattern-matching string functions, re-implemented so that they run under a
 * function's CPU budget.
 *
 * The stock string.find, string.match, string.gmatch and string.gsub match in C,
 * where the LUA_MASKCOUNT hook that enforces the budget never fires: one call such as
 * string.find(string.rep("a", 100000), ".-.-.-.-.-b") backtracks for hours and holds
 * its worker thread. The functions installed here have the semantics, results and
 * error messages of Lua 5.4's (reference manual, section 6.4.1), and count the steps
 * they take, calling ef_lua_pattern_tick at a fixed pace so that the budget check
 * still happens.
 */
#ifndef EF_FUNCTIONS_LUA_PATTERN_H
#define EF_FUNCTIONS_LUA_PATTERN_H

#include <lua.h>

/*
 * Matching steps between two calls of ef_lua_pattern_tick. A step is one attempt to
 * match one pattern item at one subject position, or one backtrack; items that
 * compare many bytes at once (long sets, back-references, plain searches) count one
 * step per 32 or 64 bytes. A step takes from about one to a few tens of nanoseconds,
 * so 4096 of them take some microseconds to tens of microseconds: the tick, which
 * reads a clock, then costs well under 1% of the matching, and a function that is out
 * of budget is stopped within tens of microseconds, finer than the count hook's pace.
 */
#define EF_LUA_PATTERN_TICK_STEPS 4096

/**
 * Replaces the fields find, match, gmatch and gsub of the table at stack index `idx`
 * (the string library table, so that both string.find(s, p) and s:find(p) reach them)
 * with versions that call ef_lua_pattern_tick(L) once every EF_LUA_PATTERN_TICK_STEPS
 * matching steps, so that a runaway pattern is stopped by the caller's budget. The
 * step count is kept per call of this function and shared by all calls of the four
 * functions (and of gmatch's iterators), so ticks come at the same pace whether the
 * work is done in one long call or in many short ones. Leaves the stack as it was.
 */
void ef_lua_pattern_install(lua_State *L, int idx);

/**
 * Provided by the embedder (the Lua runtime; a test defines its own): checks the
 * budget of the invocation running in `L` and, when it is spent, raises a Lua error
 * (luaL_error, never returns). The functions above hold no resources across the call,
 * so unwinding through them is safe.
 */
void ef_lua_pattern_tick(lua_State *L);

#endif
