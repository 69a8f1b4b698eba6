-- wrk script: password-reset confirmations with made-up tokens, each naming a new password; counts the
-- answers by kind and prints them as "answers: ..." at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  refused, busy, other = 0, 0, 0
end

function request()
  local token = string.format("%08x%08x%08x%08x", math.random(0, 2^31), math.random(0, 2^31),
    math.random(0, 2^31), math.random(0, 2^31))
  return wrk.format(nil, nil, nil, '{"token":"' .. token .. '","new_password":"a new long passphrase 42"}')
end

function response(status, headers, body)
  if status == 503 then busy = busy + 1
  elseif status >= 400 and status < 500 then refused = refused + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local r, b, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    r, b, o = r + thread:get("refused"), b + thread:get("busy"), o + thread:get("other")
  end
  io.write(string.format("answers: %d refused (4xx), %d busy (503), %d other\n", r, b, o))
end
