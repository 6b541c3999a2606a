#include "http/server.hh"

namespace fg::http {

namespace {

// request_parser::user: low byte flags, high byte an owed response (server_templates::which + 1).
constexpr uint16_t u_closing = 1u << 0;   // close() called or owed: no more requests are read
constexpr uint16_t u_owed_close = 1u << 1; // the owed response closes the connection

} // namespace

const char* server_counter_name(server_ctr c)
{
    static constexpr const char* names[] = {
#define FG_X(name, doc) #name,
        FG_FOREACH_HTTP_SERVER_COUNTER(FG_X)
#undef FG_X
    };
    return unsigned(c) < n_server_counters ? names[unsigned(c)] : "unknown";
}

bool server_templates::build(const server_config& cfg, std::string& error)
{
    if (cfg.body.size() >= (1u << 30)) {
        error = "HTTP body must be under 1 GiB";
        return false;
    }
    if (cfg.first_template == 0 || cfg.first_template + count > 256) {
        error = "HTTP server: template ids out of range";
        return false;
    }
    const std::string common = "HTTP/1.1 200 OK\r\nServer: floodgate\r\nContent-Type: " + cfg.content_type +
                               "\r\nContent-Length: " + std::to_string(cfg.body.size()) + "\r\n";
    const std::string heads[3] = {common + "\r\n", common + "Connection: close\r\n\r\n",
                                  common + "Connection: keep-alive\r\n\r\n"};
    for (int i = 0; i < 3; i++) {
        _ok[i] = heads[i] + cfg.body;
    }
    const std::string bad_body = "400 Bad Request\n";
    _bad = "HTTP/1.1 400 Bad Request\r\nServer: floodgate\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(bad_body.size()) + "\r\nConnection: close\r\n\r\n" + bad_body;
    _t.assign(count, tcp::tx_template{});
    for (int i = 0; i < 3; i++) {
        const auto* d = reinterpret_cast<const uint8_t*>(_ok[i].data());
        _t[ok_keep + i] = tcp::tx_template{d, uint32_t(_ok[i].size())};
        _t[head_keep + i] = tcp::tx_template{d, uint32_t(heads[i].size())}; // the head alone: a prefix
    }
    _t[bad_request] = tcp::tx_template{reinterpret_cast<const uint8_t*>(_bad.data()), uint32_t(_bad.size())};
    return true;
}

void server::on_open(tcp::stream& s)
{
    _ctr.inc(server_ctr::connections);
    s.t0() = s.now_us(); // last activity: the idle timeout counts from here
}

bool server::respond(tcp::stream& s, request_parser& p, server_templates::which w, bool close_after)
{
    if (w == server_templates::bad_request) {
        _ctr.inc(server_ctr::responses_400);
    } else {
        _ctr.inc(server_ctr::responses_200);
    }
    _ctr.v[unsigned(server_ctr::response_bytes)] += _tmpl.len(w);
    if (!s.send(uint8_t(_cfg.first_template + w))) {
        // Another template is still in flight: answer when it is ACKed.
        _ctr.inc(server_ctr::responses_deferred);
        p.user = uint16_t((uint16_t(w + 1) << 8) | (close_after ? u_owed_close : 0) | u_closing);
        return false;
    }
    if (close_after) {
        s.close();
        p.user = uint16_t(p.user | u_closing);
    }
    return true;
}

uint32_t server::on_data(tcp::stream& s, const uint8_t* b, uint32_t n)
{
    request_parser& p = s.app<request_parser>();
    if (p.user & u_closing) {
        // Closing (RFC 9112 9.6: nothing after a "close" request is read), or
        // a response is owed: unread bytes wait (they come again).
        return (p.user >> 8) != 0 ? 0 : n;
    }
    s.t0() = s.now_us();
    uint32_t used = 0;
    while (used < n) {
        parse_status ps;
        used += p.feed(b + used, n - used, _cfg.max_head, ps);
        if (ps == parse_status::more) {
            break;
        }
        if (ps == parse_status::done) {
            _ctr.inc(server_ctr::requests);
            const bool head = p.head_method();
            const bool keep = p.keep_alive();
            if (head) {
                _ctr.inc(server_ctr::head_requests);
            }
            server_templates::which w;
            if (!keep) {
                w = head ? server_templates::head_close : server_templates::ok_close;
                _ctr.inc(server_ctr::client_closes);
            } else if (p.http10()) {
                w = head ? server_templates::head_keep10 : server_templates::ok_keep10;
            } else {
                w = head ? server_templates::head_keep : server_templates::ok_keep;
            }
            const uint16_t user = p.user;
            p.reset();
            p.user = user;
            if (!respond(s, p, w, !keep)) {
                return used; // owed: what follows waits
            }
            if (!keep) {
                return n; // the connection closes after this response: the rest is not read
            }
            continue;
        }
        // bad / unsupported: 400 and close.
        _ctr.inc(ps == parse_status::bad ? server_ctr::requests_bad : server_ctr::requests_unsupported);
        _ctr.errors[unsigned(p.error())]++;
        respond(s, p, server_templates::bad_request, true);
        return n;
    }
    return used;
}

void server::on_drained(tcp::stream& s)
{
    request_parser& p = s.app<request_parser>();
    const unsigned owed = p.user >> 8;
    if (owed == 0) {
        return;
    }
    const bool close_after = (p.user & u_owed_close) != 0;
    p.user = 0;
    s.send(uint8_t(_cfg.first_template + owed - 1)); // the queue is empty: this cannot be refused
    if (close_after) {
        s.close();
        p.user = u_closing;
    }
}

void server::on_peer_fin(tcp::stream& s)
{
    request_parser& p = s.app<request_parser>();
    if (p.started() && !p.complete() && !(p.user & u_closing)) {
        _ctr.inc(server_ctr::requests_truncated);
    }
    if ((p.user >> 8) != 0) {
        p.user = uint16_t(p.user | u_owed_close); // the owed response goes, then our FIN
        return;
    }
    p.user = uint16_t(p.user | u_closing);
    s.close(); // FIN after whatever is queued
}

uint32_t server::deadline_ms(tcp::stream& s)
{
    const request_parser& p = s.app<request_parser>();
    if ((p.user & u_closing) && (p.user >> 8) == 0) {
        return no_deadline; // closing: TCP's own timers end it
    }
    const uint32_t idle_ms = (s.now_us() - s.t0()) / 1000;
    return idle_ms >= _cfg.idle_timeout_ms ? 0 : _cfg.idle_timeout_ms - idle_ms;
}

void server::on_deadline(tcp::stream& s)
{
    request_parser& p = s.app<request_parser>();
    if (s.queued_count() == 0 && (p.user >> 8) == 0) {
        _ctr.inc(server_ctr::idle_closes);
        p.user = u_closing;
        s.close();
        return;
    }
    _ctr.inc(server_ctr::send_timeouts);
    s.abort();
}

void server::on_end(tcp::stream& s, tcp::stream_end why)
{
    (void)s;
    (void)why;
}

} // namespace fg::http
