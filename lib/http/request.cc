// The request grammar, RFC 9112 3 (request line) and 5 (field lines), one
// byte at a time.
#include "http/request.hh"

#include <algorithm>

namespace fg::http {

namespace {

constexpr const char* field_names[] = {"content-length", "transfer-encoding", "connection", "host"};
constexpr uint8_t field_lens[] = {14, 17, 10, 4};
constexpr uint8_t fi_cl = 0;
constexpr uint8_t fi_te = 1;
constexpr uint8_t fi_conn = 2;
constexpr uint8_t fi_host = 3;
constexpr uint8_t all_fields = 0xf;
constexpr uint8_t other_field = 0xff;

constexpr const char* conn_tokens[] = {"close", "keep-alive"};
constexpr uint8_t conn_lens[] = {5, 10};

// Methods are case-sensitive (RFC 9110 9.1): matched exactly, not lowercased.
constexpr char head_name[] = "HEAD";

constexpr char http_name[] = "HTTP/";

} // namespace

void request_parser::end_conn_token()
{
    const int t = detail::match_end(conn_lens, _cand, _idx);
    if (t == 0) {
        _flags |= f_close;
    } else if (t == 1) {
        _flags |= f_keepalive;
    }
    _cand = 0;
    _idx = 0;
}

parse_status request_parser::headers_done(parse_status& st)
{
    // RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request) status
    // code to any HTTP/1.1 request message that lacks a Host header field".
    if (!(_flags & f_http10) && !(_flags & f_host)) {
        return fail(parse_error::missing_host, st);
    }
    // 6.3: Transfer-Encoding framing we do not parse (6.1: a server that
    // receives a transfer coding it does not understand answers 501; we
    // answer 400 and close, counted apart).
    if (_flags & f_te) {
        _phase = p_unsupported;
        _idx = uint8_t(parse_error::transfer_encoding);
        st = parse_status::unsupported;
        return st;
    }
    if ((_flags & f_cl) && _value != 0) {
        _phase = p_body;
        st = parse_status::more;
        return st;
    }
    // 6.3 point 7: no Content-Length, no Transfer-Encoding: no body.
    _phase = p_done;
    st = parse_status::done;
    return st;
}

uint32_t request_parser::feed(const uint8_t* p, uint32_t n, uint32_t max_head, parse_status& st)
{
    uint32_t i = 0;
    st = parse_status::more;
    max_head = std::min<uint32_t>(max_head, UINT16_MAX);
    while (i < n) {
        if (_phase == p_body) {
            const uint32_t take = std::min(_value, n - i);
            _value -= take;
            i += take;
            if (_value == 0) {
                _phase = p_done;
                st = parse_status::done;
                return i;
            }
            continue;
        }
        if (_phase == p_done) {
            st = parse_status::done;
            return i;
        }
        if (_phase == p_bad || _phase == p_unsupported) {
            st = _phase == p_bad ? parse_status::bad : parse_status::unsupported;
            return i;
        }
        const uint8_t c = p[i++];
        if (++_head > max_head) {
            fail(parse_error::head_too_large, st);
            return i;
        }
        switch (_phase) {
        // RFC 9112 2.2: "a server that is expecting to receive and parse a
        // request-line SHOULD ignore at least one empty line (CRLF) received
        // prior to the request-line".
        case p_start:
            if (c == '\r' || c == '\n') {
                break;
            }
            if (!detail::is_tchar(c)) {
                fail(parse_error::bad_method, st);
                return i;
            }
            _phase = p_method;
            _cand = 1;
            _idx = 0;
            [[fallthrough]];
        // method = token
        case p_method:
            if (c == ' ') {
                if (_cand == 1 && _idx == 4) {
                    _flags |= f_head;
                }
                _cand = 0;
                _idx = 0;
                _phase = p_target;
                break;
            }
            if (!detail::is_tchar(c)) {
                fail(parse_error::bad_method, st);
                return i;
            }
            if (_cand == 1 && (_idx >= 4 || uint8_t(head_name[_idx]) != c)) {
                _cand = 0;
            }
            _idx = uint8_t(std::min(255, _idx + 1));
            break;
        // request-target: origin-form, absolute-form, authority-form or "*";
        // checked only for what would break the line.
        case p_target:
            if (c == ' ') {
                if (_idx == 0) {
                    fail(parse_error::bad_target, st);
                    return i;
                }
                _idx = 0;
                _phase = p_version;
                break;
            }
            if (c < 0x21 || c == 0x7f) {
                fail(parse_error::bad_target, st);
                return i;
            }
            _idx = 1;
            break;
        case p_version:
            if (c != uint8_t(http_name[_idx])) {
                fail(parse_error::bad_version, st);
                return i;
            }
            if (++_idx == 5) {
                _idx = 0;
                _phase = p_major;
            }
            break;
        case p_major:
            if (c != '1') {
                fail(parse_error::bad_version, st);
                return i;
            }
            _phase = p_dot;
            break;
        case p_dot:
            if (c != '.') {
                fail(parse_error::bad_version, st);
                return i;
            }
            _phase = p_minor;
            break;
        case p_minor:
            if (!detail::is_digit(c)) {
                fail(parse_error::bad_version, st);
                return i;
            }
            if (c == '0') {
                _flags |= f_http10;
            }
            _phase = p_value; // only the line end may follow: p_value rejects nothing but CTLs,
            _cand = 0xfe;     // so mark "end of request line": next byte must be CR or LF
            break;
        case p_line_lf:
            if (c != '\n') {
                fail(parse_error::bad_line_end, st);
                return i;
            }
            _phase = p_hdr_start;
            break;
        case p_hdr_start:
            if (c == '\r') {
                _phase = p_end_lf;
            } else if (c == '\n') {
                headers_done(st);
                if (st != parse_status::more) {
                    return i;
                }
            } else if (detail::is_ows(c)) {
                fail(parse_error::obs_fold, st);
                return i;
            } else if (detail::is_tchar(c)) {
                _cand = detail::match_step(field_names, field_lens, all_fields, 0, c);
                _idx = 1;
                _phase = p_name;
            } else {
                fail(parse_error::bad_header_name, st);
                return i;
            }
            break;
        case p_end_lf:
            if (c != '\n') {
                fail(parse_error::bad_line_end, st);
                return i;
            }
            headers_done(st);
            if (st != parse_status::more) {
                return i;
            }
            break;
        case p_name:
            if (detail::is_tchar(c)) {
                _cand = detail::match_step(field_names, field_lens, _cand, _idx, c);
                _idx = uint8_t(std::min(255, _idx + 1));
            } else if (c == ':') {
                const int f = detail::match_end(field_lens, _cand, _idx);
                _cand = f < 0 ? other_field : uint8_t(f);
                _idx = 0;
                if (_cand == fi_cl) {
                    if (_flags & f_cl) {
                        fail(parse_error::dup_content_length, st);
                        return i;
                    }
                    _flags |= f_cl;
                    _value = 0;
                } else if (_cand == fi_te) {
                    _flags |= f_te;
                } else if (_cand == fi_host) {
                    if (_flags & f_host) {
                        fail(parse_error::dup_host, st);
                        return i;
                    }
                    _flags |= f_host;
                }
                _phase = p_ows;
            } else {
                fail(parse_error::bad_header_name, st);
                return i;
            }
            break;
        case p_ows:
            if (detail::is_ows(c)) {
                break;
            }
            if (_cand == fi_cl) {
                if (!detail::is_digit(c)) {
                    fail(parse_error::bad_content_length, st);
                    return i;
                }
                _value = uint32_t(c - '0');
                _phase = p_cl;
                break;
            }
            if (c == '\r' || c == '\n') {
                _phase = c == '\r' ? p_line_lf : p_hdr_start;
                break;
            }
            if (!detail::is_field_char(c)) {
                fail(parse_error::bad_header_value, st);
                return i;
            }
            if (_cand == fi_conn) {
                _phase = p_conn;
                _cand = 0;
                _idx = 0;
                --i; // this byte again, as the first of a token
                --_head;
            } else {
                _phase = p_value;
            }
            break;
        case p_value:
            if (c == '\r') {
                _phase = p_line_lf;
            } else if (c == '\n') {
                _phase = p_hdr_start;
            } else if (_cand == 0xfe) {
                fail(parse_error::bad_version, st); // something after HTTP/1.x on the request line
                return i;
            } else if (!detail::is_field_char(c)) {
                fail(parse_error::bad_header_value, st);
                return i;
            }
            break;
        case p_cl:
            if (detail::is_digit(c)) {
                const uint64_t v = uint64_t(_value) * 10 + uint64_t(c - '0');
                if (v > UINT32_MAX) {
                    fail(parse_error::content_length_too_large, st);
                    return i;
                }
                _value = uint32_t(v);
            } else if (detail::is_ows(c)) {
                _phase = p_cl_ows;
            } else if (c == '\r') {
                _phase = p_line_lf;
            } else if (c == '\n') {
                _phase = p_hdr_start;
            } else {
                fail(parse_error::bad_content_length, st);
                return i;
            }
            break;
        case p_cl_ows:
            if (c == '\r') {
                _phase = p_line_lf;
            } else if (c == '\n') {
                _phase = p_hdr_start;
            } else if (!detail::is_ows(c)) {
                fail(parse_error::bad_content_length, st);
                return i;
            }
            break;
        case p_conn:
            if (c == '\r' || c == '\n') {
                end_conn_token();
                _phase = c == '\r' ? p_line_lf : p_hdr_start;
            } else if (!detail::is_field_char(c)) {
                fail(parse_error::bad_header_value, st);
                return i;
            } else if (detail::is_tchar(c)) {
                if (_idx == 0) {
                    _cand = 0x3;
                }
                _cand = detail::match_step(conn_tokens, conn_lens, _cand, _idx, c);
                _idx = uint8_t(std::min(255, _idx + 1));
            } else {
                end_conn_token();
            }
            break;
        default:
            break;
        }
    }
    if (_phase == p_done) {
        st = parse_status::done;
    }
    return i;
}

} // namespace fg::http
