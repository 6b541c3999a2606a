// The receive path from an Ethernet frame to the TCP engine, for fuzzing:
// classify() -> the stack's address admission (route::iface_addrs::admit) ->
// ARP / ICMP echo answered in place, TCP to a tcp::engine that already holds
// every kind of entry -- listeners (SYN queue with cookies when full, cookies
// always, accept-and-hold), requests in SYN-RECEIVED, passive and active
// ESTABLISHED connections, SYN-SENT, FIN-WAIT-2, CLOSE-WAIT and TIME-WAIT.
//
// An input is a script of records (see engine_fuzz.cc): raw frames, segments
// aimed at one of those entries with sequence numbers near the ones it
// expects (so the fuzzer gets past the acceptability checks), clock steps and
// application commands. After every record each frame the engine sent must
// be a well-formed TCP segment from our address with correct checksums;
// after the script the clock runs 10 minutes on, and then every timer-driven
// entry must be gone, the SYN-queue count of each listener must match, and
// every mbuf must be back in the pool.
//
// Used by the libFuzzer target (fuzz-engine) and by the corpus replay test
// that runs in every CI build (fuzz-replay). EAL must be up (init_eal()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fg::fuzz {

// Starts EAL (--no-huge, in-memory, one lcore) and the shared objects. False
// with a message on failure. Idempotent.
bool engine_init(std::string& error);

// Runs one input; nullptr if every invariant held, else what broke.
const char* engine_one(const uint8_t* data, size_t size);

// A deterministic input exercising every record kind, for seed corpora.
std::string engine_seed(unsigned which);
inline constexpr unsigned engine_seeds = 8;

} // namespace fg::fuzz
