/*
 * The helper libraries a Lua function finds as the read-only globals `crypto`,
 * `base64`, `hex` and `querystring`: what an edge auth function needs to check a
 * signed URL or an HMAC cookie, without a line of crypto of its own.
 *
 * Strings are byte strings throughout: nothing is checked or converted as UTF-8.
 * Where a string is expected, a number is accepted and converted as Lua does. Misuse
 * (a wrong type, an unknown name, a bound crossed) raises a Lua error naming the
 * argument:
 *     bad argument #1 to 'hash' (unknown algorithm "sha3")
 * Bad *data* never raises: the decoders return nil and a message, so that a viewer
 * sending garbage gets whatever the function answers, not a 503. (Any function may
 * still raise "not enough memory" when its result does not fit the invocation's
 * memory budget, as any allocation in Lua does.)
 *
 * crypto
 *   crypto.hash(alg, data [, encoding])
 *     The digest of `data`. `alg` is "sha256", "sha1", "md5", "sha384" or "sha512"
 *     (lowercase, exactly); `encoding` is "hex" (the default, lowercase), "base64",
 *     "base64url" (no padding) or "raw" (the digest's bytes).
 *   crypto.hmac(alg, key, data [, encoding])
 *     The HMAC (RFC 2104) of `data` under `key`; algorithms and encodings as hash.
 *   crypto.random(n [, encoding])
 *     `n` bytes from the kernel's CSPRNG, 1 <= n <= 1024; encoding as hash, but
 *     "raw" by default.
 *   crypto.equals(a, b)
 *     Whether `a` and `b` are the same bytes, in time that depends on their
 *     lengths only. Compare MACs with this, never with ==: == stops at the first
 *     byte that differs, and how long it took tells an attacker how much of a forged
 *     signature was right. Strings of different lengths are unequal at once (a
 *     MAC's length is no secret).
 *
 * base64 (RFC 4648)
 *   base64.encode(s)      standard alphabet (+ /), padded with '='
 *   base64.decode(s)      the bytes, or nil and a message; padding is optional,
 *                         but if present must complete the last group of four
 *   base64.urlencode(s)   URL and filename safe alphabet (- _), never padded
 *   base64.urldecode(s)   as decode, in the URL-safe alphabet
 *   The decoders accept only canonical input: no whitespace or line breaks, no
 *   character of the other alphabet, and no stray bits in the last character
 *   ("QR==" is rejected; "QQ==" is "A"), so a decodable string has one encoding.
 *
 * hex
 *   hex.encode(s)         lowercase hex
 *   hex.decode(s)         accepts either case; nil and a message on an odd length
 *                         or a character that is not a hex digit
 *
 * querystring
 *   querystring.parse(s)
 *     A table of the parameters in `s`: "a=1&b=2&a=3&c&d=" gives
 *     {a = {"1", "3"}, b = "2", c = "", d = ""}. A key seen once maps to its
 *     value, a key seen more than once to an array of its values in order. A
 *     leading '?' is dropped; empty pieces ("a=1&&b=2") are skipped; a piece is
 *     split at its first '=' ("sig=YQ==" is {sig = "YQ=="}), and one without '='
 *     has the value "". Keys and values are unescaped as by querystring.unescape.
 *     Never raises on its input.
 *   querystring.stringify(t)
 *     The inverse: "k=v" pairs joined by '&', keys in bytewise order (a table has
 *     no order of its own, and a cache key must not change from one call to the
 *     next), an array value as the key repeated once per element in order (an
 *     empty array adds nothing). Keys must be strings; values strings, numbers or
 *     booleans (converted as tostring does) or arrays of them; anything else
 *     raises an error. Keys and values are escaped as by querystring.escape.
 *     Tables are read raw, so one with an __index or __pairs metamethod (a proxy,
 *     or defaults behind __index) raises an error rather than quietly losing the
 *     parameters it only seems to hold. parse(stringify(t)) gives t back whenever t
 *     is shaped like parse's results.
 *   querystring.escape(s)
 *     `s` with every byte but the RFC 3986 unreserved characters (A-Z a-z 0-9
 *     - _ . ~) written as %XX (uppercase hex); a space becomes %20.
 *   querystring.unescape(s)
 *     `s` with %XX (either case) decoded and '+' read as a space, as a query
 *     string means it. A '%' not followed by two hex digits is kept as it is, as
 *     browsers do.
 */
#ifndef EF_FUNCTIONS_LUA_HELPERS_H
#define EF_FUNCTIONS_LUA_HELPERS_H

#include <lua.h>

/**
 * Each of these pushes a new table holding one library's functions, as a luaopen_*
 * function does, and returns 1; the embedder decides where the table goes. The
 * functions keep no state between calls and allocate everything that grows with
 * their input through the lua_State's allocator, so each lua_State may be used on
 * its own thread and a memory budget enforced by the allocator holds. They need no
 * other library opened.
 */
int ef_lua_open_crypto(lua_State *L);
int ef_lua_open_base64(lua_State *L);
int ef_lua_open_hex(lua_State *L);
int ef_lua_open_querystring(lua_State *L);

#endif
