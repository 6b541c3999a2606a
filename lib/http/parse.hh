// Shared pieces of the incremental HTTP/1.1 parsers (response.hh for the
// client, request.hh for the server): the outcome of feeding bytes, the named
// reasons a message is rejected, and RFC 9110/9112 character classes.
//
// Both parsers are small fixed-size state machines (8 and 12 bytes) that live
// inside a connection's per-connection data block: they see every byte once,
// in whatever pieces TCP delivers it, and never copy or buffer anything --
// not a header line, not a body. What they keep is the little they decide on
// (status class, Content-Length, Connection tokens, where they are in the
// grammar); everything else is checked for syntax and forgotten.
#pragma once

#include <cstdint>

namespace fg::http {

// What feed() found.
enum class parse_status : uint8_t {
    more,        // everything given was consumed; the message is not complete
    done,        // one whole message ended; consumed says where (the rest belongs to the next one)
    bad,         // the message is malformed (error() says why); the connection cannot go on
    unsupported, // well formed, but uses what we do not implement (Transfer-Encoding): refused
};

// X(name, "why a message was rejected"): one counter each.
#define FG_FOREACH_HTTP_ERROR(X)                                                                                     \
    X(bad_version, "HTTP-version is not HTTP/1.x")                                                                  \
    X(bad_status, "status code is not three digits followed by SP or the end of the line")                         \
    X(bad_method, "request method empty or not a token")                                                             \
    X(bad_target, "request-target empty or holds a control character")                                              \
    X(bad_line_end, "CR not followed by LF")                                                                         \
    X(bad_header_name, "header field name empty, not a token, or whitespace before the colon")                      \
    X(bad_header_value, "control character in a header field value")                                                \
    X(obs_fold, "obsolete line folding (a header line starting with whitespace), rejected as RFC 9112 5.2 allows") \
    X(bad_content_length, "Content-Length not a decimal number")                                                    \
    X(dup_content_length, "more than one Content-Length field")                                                     \
    X(content_length_too_large, "Content-Length above 4294967295 bytes")                                            \
    X(dup_host, "more than one Host field (RFC 9112 3.2)")                                                           \
    X(missing_host, "HTTP/1.1 request without Host (RFC 9112 3.2)")                                                 \
    X(head_too_large, "request line and headers longer than the limit")                                             \
    X(transfer_encoding, "Transfer-Encoding (chunked) is not supported")                                            \
    X(truncated, "the peer closed the connection before the message ended")                                         \
    X(unexpected_data, "bytes arrived when no message was expected")

enum class parse_error : uint8_t {
    none,
#define FG_X(name, doc) name,
    FG_FOREACH_HTTP_ERROR(FG_X)
#undef FG_X
        count
};
inline constexpr unsigned n_parse_errors = unsigned(parse_error::count);

inline const char* parse_error_name(parse_error e)
{
    static constexpr const char* names[] = {
        "none",
#define FG_X(name, doc) #name,
        FG_FOREACH_HTTP_ERROR(FG_X)
#undef FG_X
    };
    return unsigned(e) < n_parse_errors ? names[unsigned(e)] : "unknown";
}

namespace detail {

inline constexpr uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? uint8_t(c | 0x20) : c; }
inline constexpr bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
inline constexpr bool is_ows(uint8_t c) { return c == ' ' || c == '\t'; }

// RFC 9110 5.6.2 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
// "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
inline constexpr bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) {
        return true;
    }
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

// RFC 9110 5.5 field-value characters: VCHAR, obs-text, SP, HTAB.
inline constexpr bool is_field_char(uint8_t c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

// Case-insensitive matching of a token against up to 8 candidate names, one
// byte at a time: `cand` holds the candidates still matching, `idx` the
// position. A candidate whose name ended and then sees another byte drops out.
template <unsigned N>
inline uint8_t match_step(const char* const (&names)[N], const uint8_t (&lens)[N], uint8_t cand, uint8_t idx,
                          uint8_t c)
{
    static_assert(N <= 8, "candidates are bits of one byte");
    const uint8_t lc = lower(c);
    for (unsigned i = 0; i < N; i++) {
        if ((cand & (1u << i)) && (idx >= lens[i] || uint8_t(names[i][idx]) != lc)) {
            cand = uint8_t(cand & ~(1u << i));
        }
    }
    return cand;
}

// The candidate that matched exactly (its whole name, idx bytes), or -1.
template <unsigned N>
inline int match_end(const uint8_t (&lens)[N], uint8_t cand, uint8_t idx)
{
    for (unsigned i = 0; i < N; i++) {
        if ((cand & (1u << i)) && lens[i] == idx) {
            return int(i);
        }
    }
    return -1;
}

} // namespace detail

} // namespace fg::http
