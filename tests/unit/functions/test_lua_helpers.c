/*
 * functions/lua/helpers.c: the crypto, base64, hex and querystring libraries, driven
 * from Lua as a function uses them. Digests are checked against the published vectors
 * (FIPS 180 / RFC 6234, RFC 1321, RFC 2202, RFC 4231, RFC 4648), not against the
 * library's own output.
 *
 * Each snippet runs in a fresh lua_State with the base and string libraries, the four
 * helper tables as globals, and a few assertions written in Lua (the prelude below):
 * eq(actual, expected [, what]), raises(f, message) and bad_input(f, s, message).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>
#include "functions/lua/helpers.h"

static const char prelude[] =
    "local function show(v)\n"
    "    if type(v) == 'string' then return string.format('%q', v) end\n"
    "    if type(v) ~= 'table' then return tostring(v) end\n"
    "    local s = '{'\n"
    "    for k, x in pairs(v) do s = s .. '[' .. show(k) .. '] = ' .. show(x) .. ', ' end\n"
    "    return s .. '}'\n"
    "end\n"
    "local function same(a, b)\n"
    "    if type(a) ~= 'table' or type(b) ~= 'table' then return a == b end\n"
    "    for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
    "    for k in pairs(b) do if a[k] == nil then return false end end\n"
    "    return true\n"
    "end\n"
    "function eq(actual, expected, what)\n"
    "    if not same(actual, expected) then\n"
    "        error((what and what .. ': ' or '') .. 'expected ' .. show(expected) .. ', got ' .. show(actual), 2)\n"
    "    end\n"
    "end\n"
    /* the error message f raises, exactly, after the position of the line that called the
     * library (luaL_error puts it first, as "test_name:12: ") */
    "function raises(f, expected)\n"
    "    local ok, err = pcall(f)\n"
    "    if ok then error('no error, expected ' .. show(expected), 2) end\n"
    "    local msg = type(err) == 'string' and err:match('^[%w_]+:%d+: (.*)$')\n"
    "    if msg ~= expected then error('error ' .. show(err) .. ', expected ' .. show(expected), 2) end\n"
    "end\n"
    /* a decoder's answer to bad input: exactly nil and the message, no error */
    "function bad_input(f, s, expected)\n"
    "    local ok, n, v, msg = pcall(function() return select('#', f(s)), f(s) end)\n"
    "    if not ok then error(show(s) .. ' raised ' .. show(n), 2) end\n"
    "    if n ~= 2 or v ~= nil or msg ~= expected then\n"
    "        error(show(s) .. ' gave ' .. n .. ' values, ' .. show(v) .. ' and ' .. show(msg) ..\n"
    "              ', expected nil and ' .. show(expected), 2)\n"
    "    end\n"
    "end\n";

/* The kind of allocator edgefn gives each lua_State: one that refuses to go past a budget. */
struct st_budget_t {
    size_t used, limit;
};

static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct st_budget_t *budget = ud;
    void *p;

    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
        budget->used -= osize;
        return NULL;
    }
    if (nsize > osize && budget->used - osize + nsize > budget->limit)
        return NULL;
    if ((p = realloc(ptr, nsize)) != NULL)
        budget->used = budget->used - osize + nsize;
    return p;
}

static int on_error(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg != NULL ? msg : "(an error that is not a string)", 1);
    return 1;
}

/* Runs `code` as the chunk `name`; returns 1, or 0 with the error and its traceback in `err`. */
static int run_lua(lua_State *L, const char *name, const char *code, char *err, size_t errlen)
{
    char chunkname[128];
    int ok;

    snprintf(chunkname, sizeof(chunkname), "=%s", name);
    lua_pushcfunction(L, on_error);
    ok = luaL_loadbuffer(L, code, strlen(code), chunkname) == LUA_OK && lua_pcall(L, 0, 0, -2) == LUA_OK;
    if (!ok)
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
    lua_settop(L, 0);
    return ok;
}

#define RUN(L, code)                                                                                                               \
    do {                                                                                                                           \
        char err_[8192];                                                                                                           \
        if (!run_lua((L), __func__, (code), err_, sizeof(err_)))                                                                   \
            fail_msg("%s", err_);                                                                                                  \
    } while (0)

static lua_State *new_state(struct st_budget_t *budget)
{
    lua_State *L = budget != NULL ? lua_newstate(budget_alloc, budget) : luaL_newstate();
    char err[1024];

    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    lua_pop(L, 2);
    ef_lua_open_crypto(L);
    lua_setglobal(L, "crypto");
    ef_lua_open_base64(L);
    lua_setglobal(L, "base64");
    ef_lua_open_hex(L);
    lua_setglobal(L, "hex");
    ef_lua_open_querystring(L);
    lua_setglobal(L, "querystring");
    if (!run_lua(L, "prelude", prelude, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    return L;
}

static int setup(void **state)
{
    *state = new_state(NULL);
    return 0;
}

static int teardown(void **state)
{
    lua_close(*state);
    return 0;
}

static void test_tables(void **state)
{
    /* exactly the documented functions, so the README and the code cannot drift apart unnoticed */
    RUN(*state, "local function names(t)\n"
                "    local n = {}\n"
                "    for k, v in pairs(t) do eq(type(v), 'function', k); n[k] = true end\n"
                "    return n\n"
                "end\n"
                "eq(names(crypto), {hash = true, hmac = true, random = true, equals = true})\n"
                "eq(names(base64), {encode = true, decode = true, urlencode = true, urldecode = true})\n"
                "eq(names(hex), {encode = true, decode = true})\n"
                "eq(names(querystring), {parse = true, stringify = true, escape = true, unescape = true})\n");
}

static void test_hash_vectors(void **state)
{
    RUN(*state,
        /* FIPS 180-2 appendices / RFC 6234 section 8.5 */
        "local abc56 = 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'\n"
        "local abc112 = "
        "'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'\n"
        "local million = string.rep('a', 1000000)\n"
        "eq(crypto.hash('sha1', 'abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d')\n"
        "eq(crypto.hash('sha1', ''), 'da39a3ee5e6b4b0d3255bfef95601890afd80709')\n"
        "eq(crypto.hash('sha1', abc56), '84983e441c3bd26ebaae4aa1f95129e5e54670f1')\n"
        "eq(crypto.hash('sha1', million), '34aa973cd4c4daa4f61eeb2bdbad27316534016f')\n"
        "eq(crypto.hash('sha256', 'abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')\n"
        "eq(crypto.hash('sha256', ''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')\n"
        "eq(crypto.hash('sha256', abc56), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1')\n"
        "eq(crypto.hash('sha256', million), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0')\n"
        "eq(crypto.hash('sha384', 'abc'), 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163'\n"
        "                                .. '1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7')\n"
        "eq(crypto.hash('sha384', ''), '38b060a751ac96384cd9327eb1b1e36a21fdb71114be0743'\n"
        "                             .. '4c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b')\n"
        "eq(crypto.hash('sha384', abc112), '09330c33f71147e83d192fc782cd1b4753111b173b3b05d2'\n"
        "                                 .. '2fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039')\n"
        "eq(crypto.hash('sha512', 'abc'), 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a'\n"
        "                                .. '2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f')\n"
        "eq(crypto.hash('sha512', ''), 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce'\n"
        "                             .. '47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e')\n"
        "eq(crypto.hash('sha512', abc112), '8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018'\n"
        "                                 .. '501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909')\n"
        /* RFC 1321 appendix A.5 */
        "eq(crypto.hash('md5', ''), 'd41d8cd98f00b204e9800998ecf8427e')\n"
        "eq(crypto.hash('md5', 'a'), '0cc175b9c0f1b6a831c399e269772661')\n"
        "eq(crypto.hash('md5', 'abc'), '900150983cd24fb0d6963f7d28e17f72')\n"
        "eq(crypto.hash('md5', 'message digest'), 'f96b697d7cb7938d525a2f31aaf161d0')\n"
        "eq(crypto.hash('md5', 'abcdefghijklmnopqrstuvwxyz'), 'c3fcd3d76192e4007dfb496cca67e13b')\n"
        "eq(crypto.hash('md5', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),\n"
        "   'd174ab98d277d9f5a5611c2c9f419d9f')\n"
        "eq(crypto.hash('md5', string.rep('1234567890', 8)), '57edf4a22be3c955ac49da2e2107b67a')\n"
        /* the whole string is hashed, NULs included */
        "eq(crypto.hash('sha256', 'a\\0b'), '59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138')\n");
}

static void test_hash_encodings(void **state)
{
    RUN(*state, "local hexdigest = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'\n"
                "eq(crypto.hash('sha256', 'abc', 'hex'), hexdigest)\n"
                "eq(crypto.hash('sha256', 'abc', nil), hexdigest)\n"
                "eq(crypto.hash('sha256', 'abc', 'base64'), 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=')\n"
                "eq(crypto.hash('sha256', 'abc', 'base64url'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0')\n"
                "local raw = crypto.hash('sha256', 'abc', 'raw')\n"
                "eq(#raw, 32)\n"
                "eq(raw, hex.decode(hexdigest))\n"
                "eq(crypto.hash('sha1', 'abc', 'base64'), 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=')\n"
                "eq(crypto.hash('sha1', 'abc', 'base64url'), 'qZk-NkcGgWq6PiVxeFDCbJzQ2J0')\n"
                "eq(crypto.hash('md5', '', 'base64'), '1B2M2Y8AsgTpgAmY7PhCfg==')\n"
                "eq(crypto.hash('md5', '', 'base64url'), '1B2M2Y8AsgTpgAmY7PhCfg')\n"
                "eq(#crypto.hash('md5', '', 'raw'), 16)\n"
                "eq(#crypto.hash('sha1', '', 'raw'), 20)\n"
                "eq(#crypto.hash('sha384', '', 'raw'), 48)\n"
                "eq(#crypto.hash('sha512', '', 'raw'), 64)\n"
                "eq(#crypto.hash('sha512', ''), 128)\n");
}

static void test_hmac_rfc4231(void **state)
{
    RUN(*state,
        "local function check(key, data, want256, want384, want512)\n"
        "    eq(crypto.hmac('sha256', key, data), want256, 'sha256')\n"
        "    eq(crypto.hmac('sha384', key, data), want384, 'sha384')\n"
        "    eq(crypto.hmac('sha512', key, data), want512, 'sha512')\n"
        "end\n"
        "check(string.rep('\\x0b', 20), 'Hi There',\n"
        "      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',\n"
        "      'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',\n"
        "      '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde'\n"
        "      .. 'daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854')\n"
        "check('Jefe', 'what do ya want for nothing?',\n"
        "      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',\n"
        "      'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',\n"
        "      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554'\n"
        "      .. '9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737')\n"
        "check(string.rep('\\xaa', 20), string.rep('\\xdd', 50),\n"
        "      '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',\n"
        "      '88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27',\n"
        "      'fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39'\n"
        "      .. 'bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb')\n"
        "local key4 = hex.decode('0102030405060708090a0b0c0d0e0f10111213141516171819')\n"
        "check(key4, string.rep('\\xcd', 50),\n"
        "      '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',\n"
        "      '3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb',\n"
        "      'b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db'\n"
        "      .. 'a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd')\n"
        /* test case 5 gives only the first 128 bits: the rest is the caller's truncation */
        "eq(crypto.hmac('sha256', string.rep('\\x0c', 20), 'Test With Truncation'):sub(1, 32),\n"
        "   'a3b6167473100ee06e0c796c2955552b')\n"
        "eq(crypto.hmac('sha512', string.rep('\\x0c', 20), 'Test With Truncation'):sub(1, 32),\n"
        "   '415fad6271580a531d4179bc891d87a6')\n"
        /* keys longer than the block are hashed first */
        "check(string.rep('\\xaa', 131), 'Test Using Larger Than Block-Size Key - Hash Key First',\n"
        "      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',\n"
        "      '4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952',\n"
        "      '80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352'\n"
        "      .. '6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598')\n"
        "check(string.rep('\\xaa', 131), 'This is a test using a larger than block-size key and a larger than block-size data. '\n"
        "      .. 'The key needs to be hashed before being used by the HMAC algorithm.',\n"
        "      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',\n"
        "      '6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e',\n"
        "      'e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944'\n"
        "      .. 'b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58')\n");
}

static void test_hmac_rfc2202(void **state)
{
    RUN(*state, "local big = 'Test Using Larger Than Block-Size Key - Hash Key First'\n"
                "local bigger = 'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'\n"
                "local key4 = hex.decode('0102030405060708090a0b0c0d0e0f10111213141516171819')\n"
                "eq(crypto.hmac('md5', string.rep('\\x0b', 16), 'Hi There'), '9294727a3638bb1c13f48ef8158bfc9d')\n"
                "eq(crypto.hmac('md5', 'Jefe', 'what do ya want for nothing?'), '750c783e6ab0b503eaa86e310a5db738')\n"
                "eq(crypto.hmac('md5', string.rep('\\xaa', 16), string.rep('\\xdd', 50)), '56be34521d144c88dbb8c733f0e8b3f6')\n"
                "eq(crypto.hmac('md5', key4, string.rep('\\xcd', 50)), '697eaf0aca3a3aea3a75164746ffaa79')\n"
                "eq(crypto.hmac('md5', string.rep('\\xaa', 80), big), '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd')\n"
                "eq(crypto.hmac('md5', string.rep('\\xaa', 80), bigger), '6f630fad67cda0ee1fb1f562db3aa53e')\n"
                "eq(crypto.hmac('sha1', string.rep('\\x0b', 20), 'Hi There'), 'b617318655057264e28bc0b6fb378c8ef146be00')\n"
                "eq(crypto.hmac('sha1', 'Jefe', 'what do ya want for nothing?'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79')\n"
                "eq(crypto.hmac('sha1', string.rep('\\xaa', 20), string.rep('\\xdd', 50)),\n"
                "   '125d7342b9ac11cd91a39af48aa17b4f63f175d3')\n"
                "eq(crypto.hmac('sha1', key4, string.rep('\\xcd', 50)), '4c9007f4026250c6bc8414f9bf50c86c2d7235da')\n"
                "eq(crypto.hmac('sha1', string.rep('\\xaa', 80), big), 'aa4ae5e15272d00e95705637ce8a3b55ed402112')\n"
                "eq(crypto.hmac('sha1', string.rep('\\xaa', 80), bigger), 'e8e99d0f45237d786d6bbaa7965c7808bbff1a91')\n");
}

static void test_hmac_encodings(void **state)
{
    RUN(*state, "local key, data = 'Jefe', 'what do ya want for nothing?'\n"
                "local want = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'\n"
                "eq(crypto.hmac('sha256', key, data, 'hex'), want)\n"
                "eq(crypto.hmac('sha256', key, data, 'raw'), hex.decode(want))\n"
                "eq(crypto.hmac('sha256', key, data, 'base64'), 'W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=')\n"
                "eq(crypto.hmac('sha256', key, data, 'base64url'), 'W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM')\n"
                "eq(crypto.hmac('md5', key, data, 'base64'), 'dQx4PmqwtQPqqG4xCl23OA==')\n"
                "eq(crypto.hmac('md5', key, data, 'base64url'), 'dQx4PmqwtQPqqG4xCl23OA')\n"
                /* an empty key and empty data are valid input */
                "eq(crypto.hmac('sha256', '', ''), 'b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad')\n"
                /* keys and data are bytes: a NUL in a key is part of it */
                "eq(crypto.hmac('sha256', 'k\\0x', 'd') == crypto.hmac('sha256', 'k', 'd'), false)\n");
}

static void test_random(void **state)
{
    RUN(*state, "for _, n in ipairs({1, 2, 3, 16, 32, 255, 256, 257, 1000, 1024}) do\n"
                "    eq(#crypto.random(n), n, 'raw')\n"
                "    eq(#crypto.random(n, 'raw'), n, 'raw')\n"
                "    local h = crypto.random(n, 'hex')\n"
                "    eq(#h, 2 * n, 'hex')\n"
                "    eq(h:match('^[0-9a-f]+$') ~= nil, true, 'hex digits')\n"
                "    local b = crypto.random(n, 'base64')\n"
                "    eq(#b, (n + 2) // 3 * 4, 'base64')\n"
                "    eq(#base64.decode(b), n, 'base64 decodes')\n"
                "    local u = crypto.random(n, 'base64url')\n"
                "    eq(u:find('[=+/]'), nil, 'base64url')\n"
                "    eq(#base64.urldecode(u), n, 'base64url decodes')\n"
                "end\n"
                "eq(crypto.random(32) ~= crypto.random(32), true, 'two draws')\n"
                /* bytes spread over the whole range: 4096 uniform bytes leave out about 0.3 values */
                "local seen, count = {}, 0\n"
                "for _ = 1, 4 do\n"
                "    local s = crypto.random(1024)\n"
                "    for i = 1, #s do local c = s:byte(i); if not seen[c] then seen[c] = true; count = count + 1 end end\n"
                "end\n"
                "eq(count >= 240, true, 'distinct byte values: ' .. count)\n"
                "raises(function() crypto.random(0) end, [[bad argument #1 to 'random' (must be between 1 and 1024)]])\n"
                "raises(function() crypto.random(1025) end, [[bad argument #1 to 'random' (must be between 1 and 1024)]])\n"
                "raises(function() crypto.random(-1) end, [[bad argument #1 to 'random' (must be between 1 and 1024)]])\n"
                "raises(function() crypto.random(1.5) end, [[bad argument #1 to 'random' (number has no integer "
                "representation)]])\n"
                "raises(function() crypto.random() end, [[bad argument #1 to 'random' (number expected, got no value)]])\n"
                "raises(function() crypto.random(8, 'utf8') end, [[bad argument #2 to 'random' (unknown encoding \"utf8\")]])\n");
}

static void test_equals(void **state)
{
    RUN(*state, "eq(crypto.equals('', ''), true)\n"
                "eq(crypto.equals('abc', 'abc'), true)\n"
                "eq(crypto.equals('abc', 'abd'), false)\n"
                "eq(crypto.equals('abc', 'bbc'), false)\n"
                "eq(crypto.equals('abc', 'ab'), false)\n"
                "eq(crypto.equals('', 'a'), false)\n"
                "eq(crypto.equals('abc', 'abc\\0'), false)\n"
                /* bytes after a NUL count */
                "eq(crypto.equals('a\\0b', 'a\\0c'), false)\n"
                "eq(crypto.equals('a\\0b', 'a\\0b'), true)\n"
                "local mac = crypto.hmac('sha256', 'k', 'm', 'raw')\n"
                "eq(crypto.equals(mac, crypto.hmac('sha256', 'k', 'm', 'raw')), true)\n"
                "eq(crypto.equals(mac, crypto.hmac('sha256', 'k', 'n', 'raw')), false)\n"
                "eq(crypto.equals(mac:sub(1, 31) .. string.char(mac:byte(32) ~ 1), mac), false, 'last bit')\n"
                "eq(crypto.equals(1, '1'), true, 'numbers are strings, as elsewhere in Lua')\n"
                "raises(function() crypto.equals('a') end, [[bad argument #2 to 'equals' (string expected, got no value)]])\n"
                "raises(function() crypto.equals(nil, 'a') end, [[bad argument #1 to 'equals' (string expected, got nil)]])\n");
}

static void test_base64_rfc4648(void **state)
{
    RUN(*state, "local vectors = {\n"
                "    {'', ''}, {'f', 'Zg=='}, {'fo', 'Zm8='}, {'foo', 'Zm9v'},\n"
                "    {'foob', 'Zm9vYg=='}, {'fooba', 'Zm9vYmE='}, {'foobar', 'Zm9vYmFy'},\n"
                /* section 9 */
                "    {'\\x14\\xfb\\x9c\\x03\\xd9\\x7e', 'FPucA9l+'}, {'\\x14\\xfb\\x9c\\x03\\xd9', 'FPucA9k='},\n"
                "    {'\\x14\\xfb\\x9c\\x03', 'FPucAw=='},\n"
                "}\n"
                "for _, v in ipairs(vectors) do\n"
                "    eq(base64.encode(v[1]), v[2], 'encode')\n"
                "    eq(base64.decode(v[2]), v[1], 'decode')\n"
                "    local unpadded = v[2]:gsub('=', '')\n"
                "    eq(base64.decode(unpadded), v[1], 'decode without padding')\n"
                "    eq(base64.urlencode(v[1]), unpadded:gsub('%+', '-'):gsub('/', '_'), 'urlencode')\n"
                "    eq(base64.urldecode(unpadded:gsub('%+', '-'):gsub('/', '_')), v[1], 'urldecode')\n"
                "    eq(base64.urldecode(v[2]:gsub('%+', '-'):gsub('/', '_')), v[1], 'urldecode with padding')\n"
                "end\n"
                /* the two characters where the alphabets differ */
                "eq(base64.encode('\\xfb\\xff'), '+/8=')\n"
                "eq(base64.urlencode('\\xfb\\xff'), '-_8')\n"
                "eq(base64.encode('\\xfb\\xef\\xbe\\xff\\xff\\xff'), '++++////')\n"
                "eq(base64.urlencode('\\xfb\\xef\\xbe\\xff\\xff\\xff'), '----____')\n"
                "eq(base64.decode('++++////'), '\\xfb\\xef\\xbe\\xff\\xff\\xff')\n"
                "eq(base64.urldecode('----____'), '\\xfb\\xef\\xbe\\xff\\xff\\xff')\n"
                "eq(base64.encode('a\\0b'), 'YQBi')\n"
                "eq(base64.encode(1), 'MQ==', 'a number is a string')\n");
}

static void test_base64_invalid(void **state)
{
    RUN(*state, "bad_input(base64.decode, 'Zm9v!', 'invalid base64: bad character at position 5')\n"
                "bad_input(base64.decode, 'Zm 9v', 'invalid base64: bad character at position 3')\n"
                "bad_input(base64.decode, 'Zm9v\\nYmFy', 'invalid base64: bad character at position 5')\n"
                "bad_input(base64.decode, 'Zm9v\\0', 'invalid base64: bad character at position 5')\n"
                "bad_input(base64.decode, '=Zg=', 'invalid base64: bad character at position 1')\n"
                "bad_input(base64.decode, 'Zg==Zg==', 'invalid base64: bad character at position 3')\n"
                /* the other alphabet is not accepted */
                "bad_input(base64.decode, '-_8', 'invalid base64: bad character at position 1')\n"
                "bad_input(base64.urldecode, '+/8', 'invalid base64url: bad character at position 1')\n"
                "bad_input(base64.urldecode, 'ab/c', 'invalid base64url: bad character at position 3')\n"
                /* padding that does not end a group of four */
                "bad_input(base64.decode, 'Zg=', 'invalid base64: bad padding')\n"
                "bad_input(base64.decode, 'Zg===', 'invalid base64: bad padding')\n"
                "bad_input(base64.decode, 'Zm9vYg=', 'invalid base64: bad padding')\n"
                "bad_input(base64.decode, 'Zm8==', 'invalid base64: bad padding')\n"
                "bad_input(base64.decode, '====', 'invalid base64: bad padding')\n"
                "bad_input(base64.decode, '=', 'invalid base64: bad padding')\n"
                "bad_input(base64.urldecode, 'Zg=', 'invalid base64url: bad padding')\n"
                /* one character cannot hold a byte */
                "bad_input(base64.decode, 'Z', 'invalid base64: truncated (a length of 4n+1 characters cannot be decoded)')\n"
                "bad_input(base64.decode, 'Zm9vY', 'invalid base64: truncated (a length of 4n+1 characters cannot be "
                "decoded)')\n"
                /* stray bits: 'Zh==' would also be 'f' if they were ignored */
                "bad_input(base64.decode, 'Zh==', 'invalid base64: non-zero bits after the last byte')\n"
                "bad_input(base64.decode, 'Zh', 'invalid base64: non-zero bits after the last byte')\n"
                "bad_input(base64.decode, 'Zm9=', 'invalid base64: non-zero bits after the last byte')\n"
                "bad_input(base64.urldecode, 'Zm_', 'invalid base64url: non-zero bits after the last byte')\n"
                "eq(base64.decode('Zg'), 'f')\n"
                "eq(base64.decode('Zm8'), 'fo')\n"
                "eq(base64.decode(''), '')\n");
}

static void test_codec_round_trips(void **state)
{
    RUN(*state, "local all = ''\n"
                "for i = 0, 255 do all = all .. string.char(i) end\n"
                "eq(base64.decode(base64.encode(all)), all)\n"
                "eq(base64.urldecode(base64.urlencode(all)), all)\n"
                "eq(hex.decode(hex.encode(all)), all)\n"
                "eq(hex.decode(hex.encode(all):upper()), all)\n"
                "for n = 1, 300 do\n"
                "    local s = crypto.random(n % 1024 + 1)\n"
                "    local what = 'length ' .. #s\n"
                "    local b = base64.encode(s)\n"
                "    eq(#b % 4, 0, what)\n"
                "    eq(base64.decode(b), s, what)\n"
                "    eq(base64.decode((b:gsub('=', ''))), s, what)\n"
                "    local u = base64.urlencode(s)\n"
                "    eq(u, (b:gsub('=', ''):gsub('%+', '-'):gsub('/', '_')), what)\n"
                "    eq(base64.urldecode(u), s, what)\n"
                "    local h = hex.encode(s)\n"
                "    eq(#h, 2 * #s, what)\n"
                "    eq(hex.decode(h), s, what)\n"
                "    eq(hex.decode(h:upper()), s, what)\n"
                "end\n");
}

static void test_hex(void **state)
{
    RUN(*state, "eq(hex.encode(''), '')\n"
                "eq(hex.encode('\\0\\1\\15\\16\\127\\128\\255'), '00010f107f80ff')\n"
                "eq(hex.encode('Hello'), '48656c6c6f')\n"
                "eq(hex.encode(12), '3132', 'a number is a string')\n"
                "eq(hex.decode(''), '')\n"
                "eq(hex.decode('00010f107f80ff'), '\\0\\1\\15\\16\\127\\128\\255')\n"
                "eq(hex.decode('DEADbeef'), '\\xde\\xad\\xbe\\xef')\n"
                "bad_input(hex.decode, 'abc', 'invalid hex: odd length')\n"
                "bad_input(hex.decode, '0', 'invalid hex: odd length')\n"
                "bad_input(hex.decode, 'zz', 'invalid hex: bad digit at position 1')\n"
                "bad_input(hex.decode, '0g', 'invalid hex: bad digit at position 2')\n"
                "bad_input(hex.decode, '00 1', 'invalid hex: bad digit at position 3')\n"
                "bad_input(hex.decode, '0x00', 'invalid hex: bad digit at position 2')\n"
                "bad_input(hex.decode, 'ab\\0c', 'invalid hex: bad digit at position 3')\n");
}

static void test_querystring_parse(void **state)
{
    RUN(*state, "local p = querystring.parse\n"
                "eq(p('a=1&b=2&a=3&c&d='), {a = {'1', '3'}, b = '2', c = '', d = ''})\n"
                "eq(p(''), {})\n"
                "eq(p('?'), {})\n"
                "eq(p('&&&'), {})\n"
                "eq(p('?a=1'), {a = '1'})\n"
                "eq(p('??a=1'), {['?a'] = '1'}, 'only one ? is dropped')\n"
                "eq(p('a=1?b=2'), {a = '1?b=2'})\n"
                "eq(p('&&a=1&&b=2&'), {a = '1', b = '2'})\n"
                "eq(p('a=1;b=2'), {a = '1;b=2'}, 'only & separates')\n"
                /* split at the first '=': base64 values keep their padding */
                "eq(p('a=b=c'), {a = 'b=c'})\n"
                "eq(p('sig=YQ=='), {sig = 'YQ=='})\n"
                "eq(p('=1'), {[''] = '1'})\n"
                "eq(p('='), {[''] = ''})\n"
                /* repeats: an array in order, from the second value on */
                "eq(p('a=1&a=2&a=3&a=4'), {a = {'1', '2', '3', '4'}})\n"
                "eq(p('a=1&a='), {a = {'1', ''}})\n"
                "eq(p('a&a'), {a = {'', ''}})\n"
                "eq(p('a=1&b=2&a=3&b=4&a=5'), {a = {'1', '3', '5'}, b = {'2', '4'}})\n"
                "eq(p('a[]=1&a[]=2'), {['a[]'] = {'1', '2'}}, 'brackets mean nothing')\n"
                /* keys are decoded before they are compared */
                "eq(p('a=1&%61=2'), {a = {'1', '2'}})\n"
                /* '+' and %-escapes, in keys and values */
                "eq(p('q=hello+world'), {q = 'hello world'})\n"
                "eq(p('a+b=c+d'), {['a b'] = 'c d'})\n"
                "eq(p('q=%2B&r=%2b&s=a%20b'), {q = '+', r = '+', s = 'a b'})\n"
                "eq(p('a=%26b%3Dc&%3F=%23'), {a = '&b=c', ['?'] = '#'}, 'escaped delimiters do not split')\n"
                "eq(p('k%20ey=1'), {['k ey'] = '1'})\n"
                "eq(p('a=%00b'), {a = '\\0b'})\n"
                /* UTF-8 arrives as its bytes, and bytes that are not UTF-8 arrive as they are */
                "eq(p('e=%C3%A9&euro=%e2%82%ac&name=Jos%C3%A9'), {e = '\\u{E9}', euro = '\\u{20AC}', name = 'Jos\\u{E9}'})\n"
                "eq(p('k=%FF%FE'), {k = '\\xff\\xfe'})\n"
                "eq(p('k=\\u{E9}'), {k = '\\u{E9}'}, 'raw UTF-8')\n"
                /* an invalid escape stays as it was */
                "eq(p('a=%'), {a = '%'})\n"
                "eq(p('a=%4'), {a = '%4'})\n"
                "eq(p('a=%zz'), {a = '%zz'})\n"
                "eq(p('a=%4g'), {a = '%4g'})\n"
                "eq(p('a=%g4'), {a = '%g4'})\n"
                "eq(p('a=100%'), {a = '100%'})\n"
                "eq(p('a=100%25'), {a = '100%'})\n"
                "eq(p('a=%%41'), {a = '%A'})\n"
                "eq(p('a=%+41'), {a = '% 41'})\n"
                "eq(p('%=1&%zz'), {['%'] = '1', ['%zz'] = ''})\n"
                "eq(p('a=%4&b=2'), {a = '%4', b = '2'}, 'an escape does not reach past &')\n");
}

static void test_querystring_stringify(void **state)
{
    RUN(*state,
        "local s = querystring.stringify\n"
        "eq(s({a = {'1', '3'}, b = '2', c = '', d = ''}), 'a=1&a=3&b=2&c=&d=')\n"
        "eq(s({}), '')\n"
        "eq(s({a = '1'}), 'a=1')\n"
        /* bytewise: digits, uppercase, '_', lowercase, then bytes above 127; a prefix first */
        "eq(s({b = '1', a = '2', B = '3', _ = '4', ['a b'] = '5', aa = '6', ['\\u{E9}'] = '7', z = '8', ['1'] = '9',\n"
        "      ['a\\0'] = '10'}),\n"
        "   '1=9&B=3&_=4&a=2&a%00=10&a%20b=5&aa=6&b=1&z=8&%C3%A9=7')\n"
        /* bytes after a NUL count too (strcmp would call all of these equal) */
        "eq(querystring.stringify({['\\0e'] = '', ['\\0c'] = '', ['\\0a'] = '', ['\\0d'] = '', ['\\0b'] = '', ['\\0'] = ''}),\n"
        "   '%00=&%00a=&%00b=&%00c=&%00d=&%00e=')\n"
        /* the same table gives the same string, however it was built */
        "local t1, t2 = {}, {}\n"
        "for i = 1, 50 do t1['k' .. i] = tostring(i) end\n"
        "for i = 50, 1, -1 do t2['k' .. i] = tostring(i) end\n"
        "eq(s(t1), s(t2))\n"
        /* everything but the unreserved characters is escaped, in keys too */
        "eq(s({q = 'a b&c=d/e?f#g+h%i~-_.', ['k y'] = '\\u{20AC}'}),\n"
        "   'k%20y=%E2%82%AC&q=a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25i~-_.')\n"
        "eq(s({['a=b&c'] = 'x'}), 'a%3Db%26c=x')\n"
        /* numbers and booleans as tostring writes them */
        "eq(s({i = 42, n = -7, f = 1.5, g = 3.0, big = 1e100, t = true, u = false}),\n"
        "   'big=1e%2B100&f=1.5&g=3.0&i=42&n=-7&t=true&u=false')\n"
        "eq(s({a = {'x', 1, true}}), 'a=x&a=1&a=true')\n"
        "eq(s({a = {}, b = '1'}), 'b=1', 'an empty array adds nothing')\n"
        "eq(s({[''] = 'x'}), '=x')\n"
        /* what parse gives, stringify writes in a canonical order */
        "eq(s(querystring.parse('b=2&a=1&a=0&c')), 'a=1&a=0&b=2&c=')\n"
        "eq(s(querystring.parse('q=hello+world')), 'q=hello%20world')\n"
        "raises(function() querystring.stringify({a = print}) end,\n"
        "       [[bad argument #1 to 'stringify' (value for key \"a\" is a function; expected a string, number, "
        "boolean or an array of them)]])\n"
        "raises(function() querystring.stringify({a = {{'x'}}}) end,\n"
        "       [[bad argument #1 to 'stringify' (value for key \"a\" has a table at index 1; expected a string, "
        "number, boolean or an array of them)]])\n"
        "raises(function() querystring.stringify({a = {'x', print}}) end,\n"
        "       [[bad argument #1 to 'stringify' (value for key \"a\" has a function at index 2; expected a string, "
        "number, boolean or an array of them)]])\n"
        "raises(function() querystring.stringify({a = {x = '1'}}) end,\n"
        "       [[bad argument #1 to 'stringify' (value for key \"a\" is a table that is not an array)]])\n"
        "raises(function() querystring.stringify({a = {'1', nil, '3'}}) end,\n"
        "       [[bad argument #1 to 'stringify' (value for key \"a\" is a table that is not an array)]])\n"
        "raises(function() querystring.stringify({a = {'1', '2', n = 2}}) end,\n"
        "       [[bad argument #1 to 'stringify' (value for key \"a\" is a table that is not an array)]])\n"
        "raises(function() querystring.stringify({'x'}) end, [[bad argument #1 to 'stringify' (key of type number; keys must be "
        "strings)]])\n"
        "raises(function() querystring.stringify({[true] = 'x'}) end, [[bad argument #1 to 'stringify' (key of type boolean; keys "
        "must "
        "be strings)]])\n"
        "local proxy = setmetatable({}, {__index = {a = '1'}})\n"
        "eq(proxy.a, '1')\n"
        "raises(function() querystring.stringify(proxy) end,\n"
        "       [[bad argument #1 to 'stringify' (table has __index or __pairs; stringify reads plain tables only)]])\n"
        "raises(function() querystring.stringify({a = setmetatable({}, {__pairs = function() end})}) end,\n"
        "       [[bad argument #1 to 'stringify' (value for key \"a\" has __index or __pairs; stringify reads plain "
        "tables only)]])\n"
        /* a metatable that supplies no content is no obstacle */
        "eq(querystring.stringify(setmetatable({a = '1'}, {__tostring = tostring})), 'a=1')\n"
        "raises(function() querystring.stringify('a=1') end, [[bad argument #1 to 'stringify' (table expected, got string)]])\n");
}

static void test_querystring_round_trip(void **state)
{
    RUN(*state, "local qs = querystring\n"
                "local t = {a = {'1', '3'}, b = '2', c = '', [''] = 'empty key', ['k&=?'] = 'v&=?#', sp = ' + ',\n"
                "           u = '\\u{1F600}', bin = '\\0\\1\\255', pct = '%41%', many = {'', 'x', '', 'y'}}\n"
                "eq(qs.parse(qs.stringify(t)), t)\n"
                "eq(qs.parse('?' .. qs.stringify(t)), t)\n"
                /* random binary keys and values, some keys repeated */
                "for round = 1, 50 do\n"
                "    local t = {}\n"
                "    for i = 1, round % 7 + 1 do\n"
                "        local key = crypto.random(i % 5 + 1)\n"
                "        if i % 3 == 0 then\n"
                "            t[key] = {crypto.random(3), crypto.random(1), crypto.random(20)}\n"
                "        else\n"
                "            t[key] = crypto.random(round % 40 + 1)\n"
                "        end\n"
                "    end\n"
                "    local s = qs.stringify(t)\n"
                "    eq(s:find('[^A-Za-z0-9%-_.~%%=&]'), nil, 'only unreserved, %, = and & in ' .. s)\n"
                "    eq(qs.parse(s), t, 'round ' .. round)\n"
                "    eq(qs.stringify(qs.parse(s)), s, 'round ' .. round)\n"
                "end\n");
}

static void test_querystring_escape(void **state)
{
    RUN(*state, "local qs = querystring\n"
                "eq(qs.escape(''), '')\n"
                "eq(qs.escape('AZaz09-_.~'), 'AZaz09-_.~')\n"
                "eq(qs.escape('a b'), 'a%20b')\n"
                "eq(qs.escape('a+b/c?d=e&f#g%h'), 'a%2Bb%2Fc%3Fd%3De%26f%23g%25h')\n"
                "eq(qs.escape('\\u{E9}'), '%C3%A9')\n"
                "eq(qs.escape('\\0\\255'), '%00%FF')\n"
                /* every byte: itself if unreserved, %XX in uppercase otherwise, and back */
                "for i = 0, 255 do\n"
                "    local c = string.char(i)\n"
                "    local e = qs.escape(c)\n"
                "    if c:find('^[A-Za-z0-9._~-]$') then\n"
                "        eq(e, c)\n"
                "    else\n"
                "        eq(e, string.format('%%%02X', i))\n"
                "        eq(qs.unescape(e:lower()), c)\n"
                "    end\n"
                "    eq(qs.unescape(e), c)\n"
                "end\n"
                "eq(qs.unescape('a+b%20c'), 'a b c')\n"
                "eq(qs.unescape('%2B%2b'), '++')\n"
                "eq(qs.unescape('%E2%82%AC'), '\\u{20AC}')\n"
                "eq(qs.unescape('%00'), '\\0')\n"
                "eq(qs.unescape('%'), '%')\n"
                "eq(qs.unescape('%a'), '%a')\n"
                "eq(qs.unescape('%zz%'), '%zz%')\n"
                "eq(qs.unescape('%%41'), '%A')\n"
                "eq(qs.unescape('&=?'), '&=?')\n"
                "for n = 1, 200 do\n"
                "    local s = crypto.random(n)\n"
                "    eq(qs.unescape(qs.escape(s)), s)\n"
                "end\n");
}

static void test_argument_errors(void **state)
{
    RUN(*state, "raises(function() crypto.hash('sha3', 'x') end, [[bad argument #1 to 'hash' (unknown algorithm \"sha3\")]])\n"
                "raises(function() crypto.hash('SHA256', 'x') end, [[bad argument #1 to 'hash' (unknown algorithm "
                "\"SHA256\")]])\n"
                "raises(function() crypto.hash('sha256\\0', 'x') end, [[bad argument #1 to 'hash' (unknown algorithm "
                "\"sha256\")]])\n"
                "raises(function() crypto.hash(nil, 'x') end, [[bad argument #1 to 'hash' (string expected, got nil)]])\n"
                "raises(function() crypto.hash('sha256') end, [[bad argument #2 to 'hash' (string expected, got no value)]])\n"
                "raises(function() crypto.hash('sha256', {}) end, [[bad argument #2 to 'hash' (string expected, got table)]])\n"
                "raises(function() crypto.hash('sha256', 'x', 'b32') end, [[bad argument #3 to 'hash' (unknown encoding "
                "\"b32\")]])\n"
                "raises(function() crypto.hmac('md4', 'k', 'x') end, [[bad argument #1 to 'hmac' (unknown algorithm "
                "\"md4\")]])\n"
                "raises(function() crypto.hmac('sha256', nil, 'x') end, [[bad argument #2 to 'hmac' (string expected, got "
                "nil)]])\n"
                "raises(function() crypto.hmac('sha256', 'k') end, [[bad argument #3 to 'hmac' (string expected, got no "
                "value)]])\n"
                "raises(function() crypto.hmac('sha256', 'k', 'x', 'HEX') end, [[bad argument #4 to 'hmac' (unknown encoding "
                "\"HEX\")]])\n"
                "raises(function() base64.encode() end, [[bad argument #1 to 'encode' (string expected, got no value)]])\n"
                "raises(function() base64.decode(nil) end, [[bad argument #1 to 'decode' (string expected, got nil)]])\n"
                "raises(function() base64.urlencode({}) end, [[bad argument #1 to 'urlencode' (string expected, got "
                "table)]])\n"
                "raises(function() base64.urldecode(true) end, [[bad argument #1 to 'urldecode' (string expected, got "
                "boolean)]])\n"
                "raises(function() hex.encode() end, [[bad argument #1 to 'encode' (string expected, got no value)]])\n"
                "raises(function() hex.decode({}) end, [[bad argument #1 to 'decode' (string expected, got table)]])\n"
                "raises(function() querystring.parse(nil) end, [[bad argument #1 to 'parse' (string expected, got nil)]])\n"
                "raises(function() querystring.stringify() end, [[bad argument #1 to 'stringify' (table expected, got no "
                "value)]])\n"
                "raises(function() querystring.escape(nil) end, [[bad argument #1 to 'escape' (string expected, got nil)]])\n"
                "raises(function() querystring.unescape({}) end, [[bad argument #1 to 'unescape' (string expected, got "
                "table)]])\n");
}

static void test_signed_url(void **state)
{
    /* A viewer-request function in the style of CloudFront signed URLs: the signature
     * is the hex HMAC-SHA256 of path .. expires. The expected signature below was
     * computed with Python's hmac module, not with edgefn. */
    RUN(*state, "local SECRET = 's3cr3t-key'\n"
                "local function verify(uri, query, now)\n"
                "    local q = querystring.parse(query)\n"
                "    local expires, signature = q.expires, q.signature\n"
                "    if type(expires) ~= 'string' or type(signature) ~= 'string' then\n"
                "        return false, 'missing or repeated parameter'\n"
                "    end\n"
                "    if not expires:match('^%d+$') then return false, 'bad expires' end\n"
                "    if tonumber(expires) < now then return false, 'expired' end\n"
                "    local got = hex.decode(signature)\n"
                "    if not got then return false, 'signature is not hex' end\n"
                "    local want = crypto.hmac('sha256', SECRET, uri .. expires, 'raw')\n"
                "    if not crypto.equals(got, want) then return false, 'bad signature' end\n"
                "    return true\n"
                "end\n"
                "local sig = '9b9fcfa127d01b33914660b44314a07c30842097e6f312cf9236db1929c2a4ca'\n"
                "local now = 1767225000\n"
                "eq(crypto.hmac('sha256', SECRET, '/video.mp4' .. '1767225600'), sig)\n"
                "local function accepts(uri, query, now)\n"
                "    local ok, why = verify(uri, query, now)\n"
                "    eq(ok, true, query .. ': ' .. tostring(why))\n"
                "end\n"
                "local function rejects(uri, query, now, reason)\n"
                "    eq({verify(uri, query, now)}, {false, reason}, uri .. '?' .. query)\n"
                "end\n"
                "accepts('/video.mp4', 'expires=1767225600&signature=' .. sig, now)\n"
                "accepts('/video.mp4', '?signature=' .. sig:upper() .. '&expires=1767225600', now)\n"
                "accepts('/video.mp4', 'expires=1767225600&signature=' .. sig, 1767225600)\n"
                "rejects('/video2.mp4', 'expires=1767225600&signature=' .. sig, now, 'bad signature')\n"
                "rejects('/video.mp4', 'expires=1767225601&signature=' .. sig, now, 'bad signature')\n"
                "rejects('/video.mp4', 'expires=1767225600&signature=' .. sig:sub(1, 63) .. 'b', now, 'bad signature')\n"
                "rejects('/video.mp4', 'expires=1767225600&signature=' .. sig:sub(1, 62), now, 'bad signature')\n"
                "rejects('/video.mp4', 'expires=1767225600&signature=', now, 'bad signature')\n"
                "rejects('/video.mp4', 'expires=1767225600&signature=' .. sig, 1767225601, 'expired')\n"
                "rejects('/video.mp4', 'expires=1767225600&signature=' .. sig:sub(1, 63) .. 'g', now, "
                "'signature is not hex')\n"
                "rejects('/video.mp4', 'expires=1767225600&signature=' .. sig:sub(1, 63), now, 'signature is not hex')\n"
                "rejects('/video.mp4', 'expires=1767225600', now, 'missing or repeated parameter')\n"
                "rejects('/video.mp4', 'expires=1767225600&signature=' .. sig .. '&signature=' .. sig, now,\n"
                "        'missing or repeated parameter')\n"
                "rejects('/video.mp4', 'expires=1767225600&signature=' .. sig .. '&expires=1999999999', now,\n"
                "        'missing or repeated parameter')\n"
                "rejects('/video.mp4', 'expires=1767225600.0&signature=' .. sig, now, 'bad expires')\n");
}

/* Run under a 4 MB budget, these need more than there is and must fail as Lua does
 * when its allocator refuses; under a 64 MB budget the same calls succeed. */
static const char memory_cases[] = "local big = string.rep('\\255', 1536 * 1024)\n"
                                   "local cases = {\n"
                                   "    {'hex.encode', function() return hex.encode(big) end},\n"
                                   "    {'hex.decode', function() return hex.decode(string.rep('ff', 768 * 1024)) end},\n"
                                   "    {'base64.encode', function() return base64.encode(big) end},\n"
                                   "    {'base64.urlencode', function() return base64.urlencode(big) end},\n"
                                   "    {'base64.decode', function() return base64.decode(string.rep('////', 384 * 1024)) end},\n"
                                   "    {'base64.urldecode', function() return base64.urldecode(string.rep('____', 384 * 1024)) "
                                   "end},\n"
                                   "    {'querystring.escape', function() return querystring.escape(big) end},\n"
                                   "    {'querystring.unescape', function() return querystring.unescape(big) end},\n"
                                   "    {'querystring.parse', function() return querystring.parse('k=' .. big) end},\n"
                                   "    {'querystring.stringify', function() return querystring.stringify({k = big}) end},\n"
                                   "}\n"
                                   "for _, c in ipairs(cases) do\n"
                                   "    local ok, result = pcall(c[2])\n"
                                   "    if expect_failure then\n"
                                   "        eq({ok, result}, {false, 'not enough memory'}, c[1])\n"
                                   "    else\n"
                                   "        eq(ok, true, c[1])\n"
                                   "        eq(type(result), c[1] == 'querystring.parse' and 'table' or 'string', c[1])\n"
                                   "    end\n"
                                   "    result = nil\n"
                                   "    collectgarbage()\n"
                                   "end\n"
                                   /* hashing needs no memory of its size, and the state is fine afterwards */
                                   "eq(#crypto.hash('sha256', big), 64)\n"
                                   "eq(base64.encode('ok'), 'b2s=')\n";

static void run_with_budget(size_t limit, int expect_failure)
{
    struct st_budget_t budget = {0, limit};
    lua_State *L = new_state(&budget);

    lua_pushboolean(L, expect_failure);
    lua_setglobal(L, "expect_failure");
    RUN(L, memory_cases);
    lua_close(L);
    assert_int_equal(budget.used, 0);
}

static void test_memory_budget(void **state)
{
    run_with_budget(4 << 20, 1);
    run_with_budget(64 << 20, 0);
}

/* Several threads, each with its own lua_State, as edgefn's workers have: any state the
 * libraries shared would show up as wrong results. */
static void *on_thread(void *arg)
{
    char *err = arg;
    lua_State *L = new_state(NULL);
    int ok = run_lua(L, "thread",
                     "for i = 1, 300 do\n"
                     "    local s = crypto.random(i % 100 + 1)\n"
                     "    eq(crypto.hmac('sha256', 'Jefe', 'what do ya want for nothing?'),\n"
                     "       '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')\n"
                     "    eq(base64.decode(base64.encode(s)), s)\n"
                     "    eq(hex.decode(hex.encode(s)), s)\n"
                     "    eq(querystring.parse(querystring.stringify({b = s, a = {s, 'x'}})), {b = s, a = {s, 'x'}})\n"
                     "end\n",
                     err, 1024);
    lua_close(L);
    if (ok)
        err[0] = '\0';
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t threads[4];
    char errs[4][1024];
    size_t i;

    for (i = 0; i != 4; ++i)
        assert_int_equal(pthread_create(&threads[i], NULL, on_thread, errs[i]), 0);
    for (i = 0; i != 4; ++i) {
        pthread_join(threads[i], NULL);
        if (errs[i][0] != '\0')
            fail_msg("thread %zu: %s", i, errs[i]);
    }
}

int main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        TEST(test_tables),
        TEST(test_hash_vectors),
        TEST(test_hash_encodings),
        TEST(test_hmac_rfc4231),
        TEST(test_hmac_rfc2202),
        TEST(test_hmac_encodings),
        TEST(test_random),
        TEST(test_equals),
        TEST(test_base64_rfc4648),
        TEST(test_base64_invalid),
        TEST(test_codec_round_trips),
        TEST(test_hex),
        TEST(test_querystring_parse),
        TEST(test_querystring_stringify),
        TEST(test_querystring_round_trip),
        TEST(test_querystring_escape),
        TEST(test_argument_errors),
        TEST(test_signed_url),
        cmocka_unit_test(test_memory_budget),
        cmocka_unit_test(test_threads),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
