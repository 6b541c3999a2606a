// An HTTP client or server for a whole stack: the shared configuration and
// templates, one app object per lcore (made by the stack through the
// factory attach() installs), and the sums of their counters and latency
// histograms for stats lines and JSON. The apps (fg-loadgen, fg-server) and
// bench-e2e-handshake --http use these; they must outlive the stack.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/stack.hh"
#include "http/client.hh"
#include "http/server.hh"

namespace fg::http {

class client_group {
public:
    // Builds the request templates; false with a message on a bad path or targets.
    bool init(const client_config& cfg, std::string& error);
    // Gives the stack the templates and the factory of per-lcore clients.
    void attach(core::stack_config& sc);
    const client_config& config() const { return _cfg; }
    // Sums over lcores (read while they run: a few requests old at most).
    client_counters counters() const;
    tcp::rtt_histogram latency() const;

private:
    client_config _cfg;
    client_templates _tmpl;
    std::vector<std::unique_ptr<client>> _apps;
};

class server_group {
public:
    bool init(const server_config& cfg, std::string& error);
    void attach(core::stack_config& sc);
    const server_config& config() const { return _cfg; }
    server_counters counters() const;

private:
    server_config _cfg;
    server_templates _tmpl;
    std::vector<std::unique_ptr<server>> _apps;
};

// "ABC...": n bytes of printable text ending in a newline (fg-server --http-bytes).
std::string generated_body(uint64_t n);

} // namespace fg::http
