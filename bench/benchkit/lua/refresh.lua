-- Refresh-token grants. Refresh tokens rotate, so each thread (one connection each) chains its
-- own token: every 200 carries the refresh token for the next request. Needs bench_tokens
-- (one per thread), bench_path and bench_form (the form without refresh_token).
function bench_setup(thread, index)
  thread:set("refresh_token", bench_tokens[index])
end

local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function request()
  return wrk.format("POST", bench_path, headers, bench_form .. "&refresh_token=" .. refresh_token)
end

function response(status, _headers, body)
  if status == 200 then
    local token = string.match(body, '"refresh_token":"([^"]+)"')
    if token then
      refresh_token = token
      granted = granted + 1
      return
    end
  end
  failed = failed + 1
end
