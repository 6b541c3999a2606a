// Fuzz bodies that need no EAL, shared by the libFuzzer targets and the
// corpus replay test (fuzz-replay):
//
// tcp_options_one: lib/net's TCP option parser against an independent,
// byte-by-byte transcription of Linux's tcp_parse_options() (for a SYN and
// for a later segment); then what it parsed must survive write + parse, and
// negotiation on it must give Linux's clamps (window scale <= 14, MSS >= 48).
//
// config_one: the apps' command line and INI parser (apps/common/options)
// with every kind of row (strings, addresses, numbers, MACs, flags, port
// lists). The input is split at NUL bytes into arguments; if the first one
// starts with '[' it is written to a temporary file and read as the INI file
// given by --config. Any outcome is fine except a crash, a hang, or an error
// without a message.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fg::fuzz {

const char* tcp_options_one(const uint8_t* data, size_t size);
const char* config_one(const uint8_t* data, size_t size);

} // namespace fg::fuzz
