-- bench/lua_invoke case (a): a viewer-request function that changes nothing.
function handler(event)
    return event.request
end
