-- bench/lua.sh and bench/lua_invoke case (b): a viewer-request function that adds one
-- request header, which the origin then sees (nginx+lua: rewrite_by_lua_block with
-- ngx.req.set_header("x-hook", "1")).
function handler(event)
    event.request.headers["x-hook"] = {value = "1"}
    return event.request
end
