# shellcheck shell=bash
# Helpers for the HTTP integration tests: a real nginx in the test's
# namespace (its own config, logs and pid under $T_DIR, nothing of the
# system's nginx used), and fg-loadgen's HTTP counters. Sourced after
# active_lib.sh.

# nginx_start BODYFILE: nginx on port 8080 of the namespace, serving
# BODYFILE as /index.html (and every other file of its directory), access log
# $T_DIR/access.log ("$status $body_bytes_sent $request" per line). Waits
# until it accepts connections.
nginx_start() {
  local body=$1
  command -v nginx >/dev/null || skip_or_fail "needs nginx"
  mkdir -p "$T_DIR/nginx/www" "$T_DIR/nginx/tmp" "$T_DIR/nginx/logs"
  cp "$body" "$T_DIR/nginx/www/index.html"
  cat >"$T_DIR/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
user root;
pid $T_DIR/nginx/nginx.pid;
error_log $T_DIR/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
  log_format fg '\$status \$body_bytes_sent "\$request"';
  access_log $T_DIR/access.log fg;
  client_body_temp_path $T_DIR/nginx/tmp/body;
  proxy_temp_path $T_DIR/nginx/tmp/proxy;
  fastcgi_temp_path $T_DIR/nginx/tmp/fastcgi;
  uwsgi_temp_path $T_DIR/nginx/tmp/uwsgi;
  scgi_temp_path $T_DIR/nginx/tmp/scgi;
  keepalive_timeout 75s;
  keepalive_requests 100000;
  server {
    listen 8080 backlog=4096; # any address of the namespace: the tap arrives later
    root $T_DIR/nginx/www;
  }
}
EOF
  start nginx ip netns exec "$T_NS" nginx -p "$T_DIR/nginx" -c "$T_DIR/nginx/nginx.conf"
  wait_for 20 nsexec /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', 8080), 1).close()" ||
    fail "nginx did not start: $(cat "$T_DIR/nginx/logs/error.log" 2>/dev/null)"
  # The probe above is one request-less connection: not in the access log.
}

# nginx_stop: SIGQUIT (graceful: finishes and logs what is in flight), wait.
nginx_stop() {
  local pid
  pid=$(cat "$T_DIR/nginx/nginx.pid" 2>/dev/null)
  [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
  wait_exit "$PID_nginx" 20 || fail "nginx did not stop"
}

# http_summary NAME: fg-loadgen's HTTP counters in one line, for the log.
http_summary() {
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
keys = ["attempted", "established", "timed_out", "requests_sent", "responses_ok", "responses_bad",
        "responses_unsupported", "response_timeouts", "response_resets", "response_closed", "response_failed",
        "requests_pending", "responses_unexpected", "response_us_p50", "response_us_p99", "response_us_p999",
        "data_retransmits", "rto_expired", "rx_out_of_order", "syn_retransmits"]
print(" ".join("%s=%s" % (k, d.get(k)) for k in keys), "errors:",
      {k: v for k, v in d.get("response_errors", {}).items() if v})' "$T_DIR/$1.json"
}

# check_report FILE: the app's --json report validates against apps/report.schema.json.
check_report() {
  local here
  here=$(dirname "$0")
  /usr/bin/python3 -c 'import jsonschema' 2>/dev/null || skip_or_fail "needs python3-jsonschema"
  /usr/bin/python3 "$here/../apps/check_report.py" "$here/../../apps/report.schema.json" "$1" ||
    fail "$1 does not validate against apps/report.schema.json"
}
