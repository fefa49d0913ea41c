-- bench/lua.sh and bench/lua_invoke case (c): a viewer-response function that adds one
-- response header (nginx+lua: header_filter_by_lua_block with ngx.header["x-hook-resp"] = "1").
function handler(event)
    event.response.headers["x-hook-resp"] = {value = "1"}
    return event.response
end
