#include "http/client.hh"

#include <cstdio>

#include <rte_byteorder.h>

#include "tcp/conn.hh"

namespace fg::http {

namespace {

// conn_state::p.user: low byte flags, high byte the connection's request template.
constexpr uint16_t u_outstanding = 1u << 0; // a request was sent and its response has not ended
constexpr uint16_t u_finished = 1u << 1;    // no more requests on this connection

uint8_t tmpl_of(uint16_t user) { return uint8_t(user >> 8); }

} // namespace

const char* client_counter_name(client_ctr c)
{
    static constexpr const char* names[] = {
#define FG_X(name, doc) #name,
        FG_FOREACH_HTTP_CLIENT_COUNTER(FG_X)
#undef FG_X
    };
    return unsigned(c) < n_client_counters ? names[unsigned(c)] : "unknown";
}

uint64_t client_counters::pending() const
{
    const uint64_t ended = (*this)[client_ctr::responses_ok] + (*this)[client_ctr::responses_bad] +
                           (*this)[client_ctr::responses_unsupported] + (*this)[client_ctr::response_timeouts] +
                           (*this)[client_ctr::response_resets] + (*this)[client_ctr::response_closed] +
                           (*this)[client_ctr::response_failed];
    const uint64_t sent = (*this)[client_ctr::requests_sent];
    return sent > ended ? sent - ended : 0;
}

std::string make_request(const std::string& path, uint32_t host_ip, uint16_t port)
{
    char host[32];
    // RFC 9112 3.2: Host is the target's authority; the port only when not the default.
    if (port == 80) {
        std::snprintf(host, sizeof(host), "%u.%u.%u.%u", host_ip >> 24, (host_ip >> 16) & 0xff,
                      (host_ip >> 8) & 0xff, host_ip & 0xff);
    } else {
        std::snprintf(host, sizeof(host), "%u.%u.%u.%u:%u", host_ip >> 24, (host_ip >> 16) & 0xff,
                      (host_ip >> 8) & 0xff, host_ip & 0xff, port);
    }
    return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: floodgate\r\nAccept: */*\r\n\r\n";
}

bool client_templates::build(const client_config& cfg, std::string& error)
{
    // RFC 9112 3.2.1 origin-form: an absolute path (and query); no spaces or
    // control characters, which would break the request line.
    if (cfg.path.empty() || cfg.path[0] != '/') {
        error = "HTTP path must start with '/'";
        return false;
    }
    for (char ch : cfg.path) {
        const auto u = uint8_t(ch);
        if (u <= 0x20 || u == 0x7f) {
            error = "HTTP path must not hold spaces or control characters";
            return false;
        }
    }
    if (cfg.targets.empty() || cfg.first_template == 0 || cfg.first_template + cfg.targets.size() > 256) {
        error = "HTTP client: 1 to 255 targets";
        return false;
    }
    _req.clear();
    _t.clear();
    for (const tuple4& t : cfg.targets) {
        _req.push_back(make_request(cfg.path, rte_be_to_cpu_32(t.raddr), rte_be_to_cpu_16(t.rport)));
    }
    for (const std::string& r : _req) {
        _t.push_back(tcp::tx_template{reinterpret_cast<const uint8_t*>(r.data()), uint32_t(r.size())});
    }
    return true;
}

bool client::send_request(tcp::stream& s, conn_state& st)
{
    const uint16_t user = st.p.user;
    if (!s.send(tmpl_of(user))) {
        return false;
    }
    _ctr.inc(client_ctr::requests_sent);
    st.p.reset();
    st.p.user = uint16_t(user | u_outstanding);
    s.t0() = s.now_us(); // the response's latency and deadline count from here
    return true;
}

void client::on_open(tcp::stream& s)
{
    conn_state& st = s.app<conn_state>();
    const tuple4& t = s.tcb().tuple;
    uint8_t id = 0;
    for (std::size_t i = 0; i < _cfg.targets.size(); i++) {
        if (_cfg.targets[i].raddr == t.raddr && _cfg.targets[i].rport == t.rport) {
            id = uint8_t(_cfg.first_template + i);
            break;
        }
    }
    if (id == 0) {
        s.finish(); // not one of our targets (cannot happen for generator connections)
        return;
    }
    st.p.user = uint16_t(id) << 8;
    if (!send_request(s, st)) {
        st.p.user = uint16_t(st.p.user | u_finished);
        s.finish();
    }
}

void client::count_status(uint16_t status)
{
    if (status >= 200 && status <= 299) {
        _ctr.inc(client_ctr::responses_ok);
        return;
    }
    _ctr.inc(client_ctr::responses_bad);
    if (status == 101) {
        _ctr.inc(client_ctr::status_1xx_101);
    } else if (status >= 300 && status <= 399) {
        _ctr.inc(client_ctr::status_3xx);
    } else if (status >= 400 && status <= 499) {
        _ctr.inc(client_ctr::status_4xx);
    } else if (status >= 500) {
        _ctr.inc(client_ctr::status_5xx);
    }
}

void client::response_done(tcp::stream& s, conn_state& st, bool more_bytes)
{
    _lat.record(s.now_us() - s.t0());
    count_status(st.p.status());
    st.p.user = uint16_t(st.p.user & ~u_outstanding);
    if (more_bytes) {
        // Bytes after the response, before we asked again: the server talks
        // out of turn and cannot be trusted with another request.
        _ctr.inc(client_ctr::responses_unexpected);
        st.p.user = uint16_t(st.p.user | u_finished);
        s.abort();
        return;
    }
    // Another request if the server keeps the connection and we have one to send.
    const uint8_t id = tmpl_of(st.p.user);
    const uint32_t sent = s.bytes_queued() / _tmpl.templates()[id - _cfg.first_template].len;
    if (!st.p.close() && sent < _cfg.requests_per_conn && send_request(s, st)) {
        return;
    }
    st.p.user = uint16_t(st.p.user | u_finished);
    s.finish();
}

uint32_t client::on_data(tcp::stream& s, const uint8_t* p, uint32_t n)
{
    conn_state& st = s.app<conn_state>();
    _ctr.v[unsigned(client_ctr::response_bytes)] += n;
    uint32_t used = 0;
    while (used < n) {
        if (!(st.p.user & u_outstanding)) {
            // Nothing asked: a server that talks out of turn cannot be trusted.
            _ctr.inc(client_ctr::responses_unexpected);
            st.p.user = uint16_t(st.p.user | u_finished);
            s.abort();
            return n;
        }
        parse_status ps;
        used += st.p.feed(p + used, n - used, ps);
        switch (ps) {
        case parse_status::more:
            break;
        case parse_status::done:
            response_done(s, st, used < n);
            return n;
        case parse_status::bad:
        case parse_status::unsupported:
            _ctr.inc(ps == parse_status::bad ? client_ctr::responses_bad : client_ctr::responses_unsupported);
            _ctr.errors[unsigned(st.p.error())]++;
            st.p.user = uint16_t((st.p.user & ~u_outstanding) | u_finished);
            s.abort();
            return n;
        }
    }
    return n;
}

void client::on_peer_fin(tcp::stream& s)
{
    conn_state& st = s.app<conn_state>();
    if (st.p.user & u_outstanding) {
        if (st.p.finish() == parse_status::done) {
            response_done(s, st, false); // a body that ends with the connection (no Content-Length)
            return;
        }
        // The server closed first: what came (if anything) is not a response.
        _ctr.inc(client_ctr::response_closed);
        st.p.user = uint16_t(st.p.user & ~u_outstanding);
    }
    st.p.user = uint16_t(st.p.user | u_finished);
    s.finish();
}

uint32_t client::deadline_ms(tcp::stream& s)
{
    const conn_state& st = s.app<conn_state>();
    if (!(st.p.user & u_outstanding)) {
        return no_deadline;
    }
    const uint32_t waited_ms = (s.now_us() - s.t0()) / 1000;
    return waited_ms >= _cfg.response_timeout_ms ? 0 : _cfg.response_timeout_ms - waited_ms;
}

void client::on_deadline(tcp::stream& s)
{
    conn_state& st = s.app<conn_state>();
    if (!(st.p.user & u_outstanding)) {
        return;
    }
    _ctr.inc(client_ctr::response_timeouts);
    st.p.user = uint16_t((st.p.user & ~u_outstanding) | u_finished);
    s.abort();
}

void client::on_end(tcp::stream& s, tcp::stream_end why)
{
    conn_state& st = s.app<conn_state>();
    if (!(st.p.user & u_outstanding)) {
        return;
    }
    st.p.user = uint16_t(st.p.user & ~u_outstanding);
    switch (why) {
    case tcp::stream_end::reset:
        _ctr.inc(client_ctr::response_resets);
        break;
    case tcp::stream_end::closed:
        _ctr.inc(client_ctr::response_closed);
        break;
    default:
        _ctr.inc(client_ctr::response_failed);
        break;
    }
}

} // namespace fg::http
