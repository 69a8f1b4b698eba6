-- wrk script: sign in over and over as one benchmark company.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"company1@bench.example","password":"bench-password-violet-42"}'
