// The kernel's side of bench-e2e-handshake --http: the same HTTP exchange
// Floodgate runs, done by the Linux kernel over loopback with two small epoll
// programs in one process -- a client thread pinned to client_cpu that keeps
// `inflight` non-blocking connections going (connect, send the request, read
// the whole response, close with SO_LINGER 0), and a server thread pinned to
// server_cpu (the same CPU with one lcore) (accept, read the request, write the response, close when the client
// does). Same request and response bytes as Floodgate's client and server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fg::e2e {

struct kernel_http_result {
    bool ok = false;
    double elapsed = 0;
    uint64_t completed = 0;       // client: whole responses read
    uint64_t served = 0;          // server: requests answered
    uint64_t client_errors = 0;   // connect/send/recv failed, or the server closed early
    uint64_t server_errors = 0;
    std::vector<double> per_s;    // completed per second
    double median = 0;            // of per_s without the first second
};

// `response` must be what the server sends for `request` (its length is how
// the client knows the response is whole).
kernel_http_result run_kernel_http(double seconds, uint32_t inflight, const std::string& request,
                                   const std::string& response, unsigned client_cpu, unsigned server_cpu);

} // namespace fg::e2e
