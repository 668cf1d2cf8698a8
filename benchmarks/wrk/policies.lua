-- POSTs non-streaming chat completions whose user prompt varies per request,
-- so that a guard cannot answer from a cache: each request picks one of the
-- prompts below at random and, three times in four, appends one of the closing
-- lines. A template: benchmarks/_policies_prompts.render_wrk_script fills in
-- the prompts (JSON string bodies, ASCII) before wrk runs it.
-- Usage (rendered): wrk -t1 -c32 -d10s --latency -s policies-rendered.lua URL
local prompts = {
{{PROMPTS}}
}
local closers = {
{{CLOSERS}}
}
local model = {{MODEL}}

math.randomseed({{SEED}})
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local text = prompts[math.random(#prompts)]
  if math.random(4) > 1 then
    text = text .. " " .. closers[math.random(#closers)]
  end
  local body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"' .. text .. '"}]}'
  return wrk.format(nil, nil, nil, body)
end
