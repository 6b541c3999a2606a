// http::client is the load generator's HTTP/1.1 client: a tcp::stream_app
// that runs on each lcore's generator connections. When a connection is
// ESTABLISHED it sends `GET PATH HTTP/1.1` with Host set to the target (one
// request template per target, shared by every connection and lcore), reads
// the response with a response_parser kept in the connection's 12-byte app
// area -- nothing buffered -- and, if the server keeps the connection and
// requests_per_conn allows, sends the next request; then it hands the
// connection back to the generator's close mode (rst, fin, hold).
//
// Every request ends exactly one way, counted (X-macro below): a complete
// response, 2xx (responses_ok) or not / unparsable (responses_bad, with the
// parse_error); Transfer-Encoding refused (responses_unsupported); no
// complete response within response_timeout_ms of sending the request
// (response_timeouts: the connection is aborted); the connection reset
// (response_resets), closed by the server first (response_closed) or dropped
// after the retransmission timeout (response_failed). So requests_sent ==
// the sum of those + requests_pending (still waiting when counters are read).
// Latency -- request queued to the last byte of its response -- goes into
// an rtt_histogram (p50/p99/p99.9) for every complete response.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/tuple.hh"
#include "http/parse.hh"
#include "http/response.hh"
#include "tcp/rtt.hh"
#include "tcp/stream.hh"

namespace fg::http {

// X(name, "what it counts"): the client's counters, also their JSON keys.
#define FG_FOREACH_HTTP_CLIENT_COUNTER(X)                                                                            \
    X(requests_sent, "requests sent (queued on a connection)")                                                      \
    X(responses_ok, "complete responses with a 2xx status")                                                         \
    X(responses_bad, "complete responses with another status, or unparsable (response_errors says why)")           \
    X(responses_unsupported, "responses refused: Transfer-Encoding (chunked) is not supported")                     \
    X(response_timeouts, "requests without a complete response within the response timeout (connection aborted)") \
    X(response_resets, "requests whose connection was reset (RST) before the response completed")                  \
    X(response_closed, "requests whose connection the server closed before the response completed")               \
    X(response_failed, "requests lost with their connection (retransmissions unanswered, or aborted)")            \
    X(responses_unexpected, "times the server sent bytes nobody asked for (connection aborted; not a request outcome)") \
    X(status_1xx_101, "101 responses (never asked for)")                                                           \
    X(status_3xx, "3xx responses")                                                                                  \
    X(status_4xx, "4xx responses")                                                                                  \
    X(status_5xx, "5xx responses")                                                                                  \
    X(response_bytes, "response bytes received (status line, headers, body)")

enum class client_ctr : uint8_t {
#define FG_X(name, doc) name,
    FG_FOREACH_HTTP_CLIENT_COUNTER(FG_X)
#undef FG_X
        count
};
inline constexpr unsigned n_client_counters = unsigned(client_ctr::count);
const char* client_counter_name(client_ctr c);

struct client_counters {
    uint64_t v[n_client_counters] = {};
    uint64_t errors[n_parse_errors] = {}; // why responses_bad / unsupported, by parse_error
    void inc(client_ctr c) { v[unsigned(c)]++; }
    uint64_t operator[](client_ctr c) const { return v[unsigned(c)]; }
    void merge(const client_counters& o)
    {
        for (unsigned i = 0; i < n_client_counters; i++) {
            v[i] += o.v[i];
        }
        for (unsigned i = 0; i < n_parse_errors; i++) {
            errors[i] += o.errors[i];
        }
    }
    // Requests sent that have not ended yet.
    uint64_t pending() const;
};

// What every lcore's client shares (read-only once lcores run).
struct client_config {
    std::string path = "/";
    uint32_t requests_per_conn = 1;     // keep-alive: requests per connection, one at a time
    uint32_t response_timeout_ms = 10000;
    std::vector<tuple4> targets;        // raddr:rport (network order) the generator connects to
    uint8_t first_template = 1;         // the request of targets[i] is template first_template + i
};

// The request for one target: GET path HTTP/1.1, Host, User-Agent, Accept.
std::string make_request(const std::string& path, uint32_t host_ip, uint16_t port);

// The request templates, built once and shared (owner of their bytes).
class client_templates {
public:
    // One request per target (addresses in network order); false and a
    // message if the path is not a valid request-target.
    bool build(const client_config& cfg, std::string& error);
    const std::vector<tcp::tx_template>& templates() const { return _t; }

private:
    std::vector<std::string> _req;
    std::vector<tcp::tx_template> _t;
};

class client final : public tcp::stream_app {
public:
    // cfg and tmpl are shared by every lcore's client and must outlive them.
    client(const client_config& cfg, const client_templates& tmpl) : _cfg(cfg), _tmpl(tmpl) {}

    void on_open(tcp::stream& s) override;
    uint32_t on_data(tcp::stream& s, const uint8_t* p, uint32_t n) override;
    void on_peer_fin(tcp::stream& s) override;
    uint32_t deadline_ms(tcp::stream& s) override;
    void on_deadline(tcp::stream& s) override;
    void on_end(tcp::stream& s, tcp::stream_end why) override;

    const client_counters& counters() const { return _ctr; }
    const tcp::rtt_histogram& latency() const { return _lat; }

private:
    // The app area of a connection: the parser; its `user` word holds the
    // request state (low byte) and the connection's request template (high byte).
    struct conn_state {
        response_parser p;
    };
    static_assert(sizeof(conn_state) <= 12);

    bool send_request(tcp::stream& s, conn_state& st);
    void response_done(tcp::stream& s, conn_state& st, bool more_bytes);
    void count_status(uint16_t status);

    const client_config& _cfg;
    const client_templates& _tmpl;
    client_counters _ctr;
    tcp::rtt_histogram _lat;
};

} // namespace fg::http
