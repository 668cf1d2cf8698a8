-- POSTs a small non-streaming chat completion request (model "bench").
-- Usage: wrk -t1 -c32 -d10s --latency -s benchmarks/wrk/post.lua URL
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench","messages":[{"role":"user","content":"hi"}]}'
