#include "http/group.hh"

namespace fg::http {

bool client_group::init(const client_config& cfg, std::string& error)
{
    _cfg = cfg;
    if (_cfg.requests_per_conn == 0 || _cfg.response_timeout_ms == 0) {
        error = "HTTP client: requests per connection and the response timeout must be > 0";
        return false;
    }
    return _tmpl.build(_cfg, error);
}

void client_group::attach(core::stack_config& sc)
{
    sc.tcp.templates = _tmpl.templates().data();
    sc.tcp.n_templates = uint32_t(_tmpl.templates().size());
    sc.active_app = [this](uint16_t idx) -> tcp::stream_app* {
        while (_apps.size() <= idx) {
            _apps.push_back(std::make_unique<client>(_cfg, _tmpl));
        }
        return _apps[idx].get();
    };
}

client_counters client_group::counters() const
{
    client_counters sum;
    for (const auto& a : _apps) {
        sum.merge(a->counters());
    }
    return sum;
}

tcp::rtt_histogram client_group::latency() const
{
    tcp::rtt_histogram sum;
    for (const auto& a : _apps) {
        sum.merge(a->latency());
    }
    return sum;
}

bool server_group::init(const server_config& cfg, std::string& error)
{
    _cfg = cfg;
    if (_cfg.idle_timeout_ms == 0 || _cfg.max_head < 16) {
        error = "HTTP server: idle timeout must be > 0 and the head limit at least 16 bytes";
        return false;
    }
    return _tmpl.build(_cfg, error);
}

void server_group::attach(core::stack_config& sc)
{
    sc.tcp.templates = _tmpl.templates().data();
    sc.tcp.n_templates = uint32_t(_tmpl.templates().size());
    sc.passive_app = [this](uint16_t idx) -> tcp::stream_app* {
        while (_apps.size() <= idx) {
            _apps.push_back(std::make_unique<server>(_cfg, _tmpl));
        }
        return _apps[idx].get();
    };
}

server_counters server_group::counters() const
{
    server_counters sum;
    for (const auto& a : _apps) {
        sum.merge(a->counters());
    }
    return sum;
}

std::string generated_body(uint64_t n)
{
    std::string b;
    b.reserve(n);
    static constexpr char line[] = "Floodgate generated body: the quick brown fox jumps over the lazy dog 0123456789";
    constexpr std::size_t line_len = sizeof(line) - 1;
    for (uint64_t i = 0; i < n; i++) {
        const std::size_t col = std::size_t(i % (line_len + 1));
        b.push_back(col == line_len || i + 1 == n ? '\n' : line[col]);
    }
    return b;
}

} // namespace fg::http
