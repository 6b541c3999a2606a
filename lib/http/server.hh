// http::server is fg-server's HTTP/1.1 responder: a tcp::stream_app that
// runs on the lcores for listeners with accept_action::serve. Every request
// -- any method, any target -- gets `200 OK` with the configured body and a
// correct Content-Length (HEAD: the same head, no body); a malformed request
// gets `400 Bad Request` and the connection closes after it (RFC 9112 9.6).
// Persistence as HTTP/1.1 says (9.3): kept unless the request says
// `Connection: close`; an HTTP/1.0 request keeps it only with `Connection:
// keep-alive`, which the response then repeats. A keep-alive connection that
// stays idle for idle_timeout_ms is closed (FIN), as nginx's
// keepalive_timeout does; one whose response is not ACKed in that time is
// aborted (nginx send_timeout).
//
// The responses are templates built once (seven: 200 keep-alive / close /
// HTTP/1.0 keep-alive, their HEAD heads, 400), shared by every connection
// and lcore: a response costs no allocation and no copy but into the frame.
// Pipelined requests are answered in order; a response of another template
// than the one still in flight waits until that one is ACKed (on_drained),
// and the request bytes behind it are left unread meanwhile (the client
// sends them again).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http/parse.hh"
#include "http/request.hh"
#include "tcp/stream.hh"

namespace fg::http {

// X(name, "what it counts"): the server's counters, also their JSON keys.
#define FG_FOREACH_HTTP_SERVER_COUNTER(X)                                                                            \
    X(connections, "connections served")                                                                            \
    X(requests, "complete requests read")                                                                           \
    X(responses_200, "200 responses queued")                                                                        \
    X(head_requests, "HEAD requests (answered with the head only)")                                                 \
    X(responses_400, "400 responses queued: malformed or unsupported request, connection closed after")            \
    X(requests_bad, "malformed requests (request_errors says why)")                                                 \
    X(requests_unsupported, "requests with Transfer-Encoding (chunked bodies are not read)")                        \
    X(requests_truncated, "connections the client closed in the middle of a request")                              \
    X(client_closes, "connections closed after a response because the request asked (close, HTTP/1.0)")           \
    X(idle_closes, "keep-alive connections closed after the idle timeout")                                          \
    X(send_timeouts, "connections aborted: a response not ACKed within the idle timeout")                          \
    X(responses_deferred, "pipelined responses that waited for the previous one (another template)")               \
    X(response_bytes, "response bytes queued")

enum class server_ctr : uint8_t {
#define FG_X(name, doc) name,
    FG_FOREACH_HTTP_SERVER_COUNTER(FG_X)
#undef FG_X
        count
};
inline constexpr unsigned n_server_counters = unsigned(server_ctr::count);
const char* server_counter_name(server_ctr c);

struct server_counters {
    uint64_t v[n_server_counters] = {};
    uint64_t errors[n_parse_errors] = {}; // why requests_bad / unsupported, by parse_error
    void inc(server_ctr c) { v[unsigned(c)]++; }
    uint64_t operator[](server_ctr c) const { return v[unsigned(c)]; }
    void merge(const server_counters& o)
    {
        for (unsigned i = 0; i < n_server_counters; i++) {
            v[i] += o.v[i];
        }
        for (unsigned i = 0; i < n_parse_errors; i++) {
            errors[i] += o.errors[i];
        }
    }
};

struct server_config {
    std::string body;                         // the 200 response's body
    std::string content_type = "text/plain";
    uint32_t max_head = request_parser::default_max_head; // request line + headers, bytes
    uint32_t idle_timeout_ms = 60000;
    uint8_t first_template = 1;               // the server's seven templates start at this id
};

// The seven response templates (owner of their bytes).
class server_templates {
public:
    enum which : uint8_t { ok_keep, ok_close, ok_keep10, head_keep, head_close, head_keep10, bad_request, count };
    // False with a message if the body is too large for a template (2 GiB).
    bool build(const server_config& cfg, std::string& error);
    const std::vector<tcp::tx_template>& templates() const { return _t; }
    uint32_t len(which w) const { return _t[w].len; }

private:
    std::string _ok[3];   // heads + body
    std::string _bad;
    std::vector<tcp::tx_template> _t;
};

class server final : public tcp::stream_app {
public:
    // cfg and tmpl are shared by every lcore's server and must outlive them.
    server(const server_config& cfg, const server_templates& tmpl) : _cfg(cfg), _tmpl(tmpl) {}

    void on_open(tcp::stream& s) override;
    uint32_t on_data(tcp::stream& s, const uint8_t* p, uint32_t n) override;
    void on_peer_fin(tcp::stream& s) override;
    uint32_t deadline_ms(tcp::stream& s) override;
    void on_deadline(tcp::stream& s) override;
    void on_drained(tcp::stream& s) override;
    void on_end(tcp::stream& s, tcp::stream_end why) override;

    const server_counters& counters() const { return _ctr; }

private:
    // Queues response `w` (closing after it if asked); false if it must wait
    // for the one in flight (then it is owed, see on_drained).
    bool respond(tcp::stream& s, request_parser& p, server_templates::which w, bool close_after);

    const server_config& _cfg;
    const server_templates& _tmpl;
    server_counters _ctr;
};

} // namespace fg::http
