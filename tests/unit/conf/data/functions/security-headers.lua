-- A function as a single file: the handler is a global function in it.
function handler(event)
    event.response.headers["x-frame-options"] = { value = "DENY" }
    return event.response
end
