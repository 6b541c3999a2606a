// The response grammar, RFC 9112 4 (status line) and 5 (field lines), one
// byte at a time. Comments quote the ABNF each phase implements.
#include "http/response.hh"

#include <algorithm>

namespace fg::http {

namespace {

// Header fields the client reads (lowercase); the index is their _cand bit.
constexpr const char* field_names[] = {"content-length", "transfer-encoding", "connection"};
constexpr uint8_t field_lens[] = {14, 17, 10};
constexpr uint8_t fi_cl = 0;
constexpr uint8_t fi_te = 1;
constexpr uint8_t fi_conn = 2;
constexpr uint8_t all_fields = 0x7;
constexpr uint8_t other_field = 0xff;

// Connection tokens (RFC 9112 9.3, 9.6).
constexpr const char* conn_tokens[] = {"close", "keep-alive"};
constexpr uint8_t conn_lens[] = {5, 10};

constexpr char http_name[] = "HTTP/";

} // namespace

bool response_parser::close() const
{
    return (_flags & f_close) != 0 || ((_flags & f_http10) && !(_flags & f_keepalive)) || _phase == p_body_eof ||
           (_phase == p_done && !(_flags & f_cl) && !(_status == 204 || _status == 304));
}

void response_parser::end_conn_token()
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

parse_status response_parser::headers_done(parse_status& st)
{
    // RFC 9110 15.2: a 1xx is interim, the final response follows (a 101
    // would switch protocols, which we never ask for).
    if (_status < 200) {
        if (_status == 101) {
            return fail(parse_error::bad_status, st);
        }
        reset();
        st = parse_status::more;
        return st;
    }
    // RFC 9112 6.3: the length of the body. 1. responses to HEAD (we send
    // none), 1xx, 204 and 304 have none.
    if (_status == 204 || _status == 304) {
        _phase = p_done;
        st = parse_status::done;
        return st;
    }
    // 3./4. Transfer-Encoding: chunked framing, which we do not parse.
    if (_flags & f_te) {
        _phase = p_unsupported;
        _idx = uint8_t(parse_error::transfer_encoding);
        st = parse_status::unsupported;
        return st;
    }
    // 6. Content-Length.
    if (_flags & f_cl) {
        if (_value == 0) {
            _phase = p_done;
            st = parse_status::done;
            return st;
        }
        _phase = p_body;
        st = parse_status::more;
        return st;
    }
    // 8. Otherwise the body runs until the server closes the connection.
    _phase = p_body_eof;
    st = parse_status::more;
    return st;
}

uint32_t response_parser::feed(const uint8_t* p, uint32_t n, parse_status& st)
{
    uint32_t i = 0;
    st = parse_status::more;
    while (i < n) {
        // The body: counted, never looked at.
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
        if (_phase == p_body_eof) {
            return n;
        }
        if (_phase == p_done) {
            st = parse_status::done;
            return i;
        }
        if (_phase == p_bad) {
            st = parse_status::bad;
            return i;
        }
        if (_phase == p_unsupported) {
            st = parse_status::unsupported;
            return i;
        }
        const uint8_t c = p[i++];
        switch (_phase) {
        // status-line = HTTP-version SP status-code SP [ reason-phrase ]
        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT  (case-sensitive)
        case p_version:
            if (c != uint8_t(http_name[_idx])) {
                fail(parse_error::bad_version, st);
                return i;
            }
            if (++_idx == 5) {
                _phase = p_major;
                _idx = 0;
            }
            break;
        case p_major:
            if (c != '1') { // HTTP/1.x only
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
            _phase = p_sp;
            break;
        case p_sp:
            if (c != ' ') {
                fail(parse_error::bad_version, st);
                return i;
            }
            _phase = p_code;
            _value = 0;
            _idx = 0;
            break;
        // status-code = 3DIGIT
        case p_code:
            if (!detail::is_digit(c)) {
                fail(parse_error::bad_status, st);
                return i;
            }
            _value = _value * 10 + uint32_t(c - '0');
            if (++_idx == 3) {
                if (_value < 100) {
                    fail(parse_error::bad_status, st);
                    return i;
                }
                _status = uint16_t(_value);
                _value = 0;
                _idx = 0;
                _phase = p_after_code;
            }
            break;
        case p_after_code:
            if (c == ' ') {
                _phase = p_reason;
            } else if (c == '\r') {
                _phase = p_line_lf;
            } else if (c == '\n') {
                _phase = p_hdr_start;
            } else {
                fail(parse_error::bad_status, st);
                return i;
            }
            break;
        // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
        case p_reason:
            if (c == '\r') {
                _phase = p_line_lf;
            } else if (c == '\n') {
                _phase = p_hdr_start;
            } else if (!detail::is_field_char(c)) {
                fail(parse_error::bad_status, st);
                return i;
            }
            break;
        case p_line_lf:
            if (c != '\n') {
                fail(parse_error::bad_line_end, st);
                return i;
            }
            _phase = p_hdr_start;
            break;
        // *( field-line CRLF ) CRLF ; field-line = field-name ":" OWS field-value OWS
        case p_hdr_start:
            if (c == '\r') {
                _phase = p_end_lf;
            } else if (c == '\n') {
                headers_done(st); // a 1xx starts over: st is `more` again
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
                }
                _phase = p_ows;
            } else {
                fail(parse_error::bad_header_name, st); // includes whitespace before the colon (RFC 9112 5.1)
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
                --i; // read this byte again as the first of a token
            } else {
                _phase = p_value;
            }
            break;
        case p_value:
            if (c == '\r') {
                _phase = p_line_lf;
            } else if (c == '\n') {
                _phase = p_hdr_start;
            } else if (!detail::is_field_char(c)) {
                fail(parse_error::bad_header_value, st);
                return i;
            }
            break;
        // Content-Length = 1*DIGIT
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
        // Connection = [ connection-option ] *( OWS "," OWS [ connection-option ] )
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
                end_conn_token(); // "," or OWS (anything else is no token of ours)
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

parse_status response_parser::finish()
{
    switch (_phase) {
    case p_body_eof:
        _phase = p_done;
        return parse_status::done;
    case p_done:
        return parse_status::done;
    case p_bad:
        return parse_status::bad;
    case p_unsupported:
        return parse_status::unsupported;
    default:
        _phase = p_bad;
        _idx = uint8_t(parse_error::truncated);
        return parse_status::bad;
    }
}

} // namespace fg::http
