-- POSTs a small non-streaming chat completion request (model "bench").
-- Usage: wrk -t1 -c32 -d10s --latency -s benchmarks/wrk/post.lua URL
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- The bench tenant's key (row semgate-tenants); the other servers ignore it.
wrk.headers["Authorization"] = "Bearer sk-bench-tenant"
wrk.body = '{"model":"bench","messages":[{"role":"user","content":"hi"}]}'
