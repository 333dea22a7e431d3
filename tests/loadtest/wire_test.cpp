#define BOOST_TEST_MODULE loadtest_wire
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "loadtest/json_string.hpp"
#include "loadtest/own_output.hpp"
#include "loadtest/rpc_client.hpp"
#include "loadtest/rpc_fields.hpp"
#include "loadtest/ws_reader.hpp"
#include "protocol/encode.hpp"

BOOST_TEST_DONT_PRINT_LOG_VALUE(std::optional<std::uint64_t>)
BOOST_TEST_DONT_PRINT_LOG_VALUE(std::optional<std::int64_t>)

using namespace actorexec::loadtest;
using kind = ws_reader::kind;

namespace {

/// An unmasked server frame, with the length in the form `len_bytes`
/// asks for (0: 7-bit, 2: 16-bit, 8: 64-bit) whatever the size.
std::string server_frame(std::uint8_t first, std::string_view payload,
                         int len_bytes) {
  std::string f;
  f.push_back(static_cast<char>(first));
  auto len = payload.size();
  f.push_back(static_cast<char>(len_bytes == 0   ? len
                                : len_bytes == 2 ? 126
                                                 : 127));
  for (int i = len_bytes - 1; i >= 0; --i)
    f.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  f.append(payload);
  return f;
}

std::string text_frame(std::string_view payload) {
  int len_bytes = payload.size() < 126 ? 0 : payload.size() <= 0xFFFF ? 2 : 8;
  return server_frame(0x81, payload, len_bytes);
}

void feed(ws_reader& r, std::string_view bytes) {
  r.append(bytes);
}

} // namespace

BOOST_AUTO_TEST_SUITE(ws_frames)

BOOST_AUTO_TEST_CASE(all_three_length_forms) {
  for (std::size_t size : {0u, 125u, 126u, 65535u, 65536u, 200000u}) {
    ws_reader r{1 << 20};
    std::string payload(size, 'a');
    if (size > 0)
      payload.back() = 'z';
    feed(r, text_frame(payload));
    auto ev = r.next();
    BOOST_TEST_CONTEXT("size " << size) {
      BOOST_TEST(static_cast<int>(ev.what) == static_cast<int>(kind::message));
      BOOST_TEST(ev.payload == payload);
      BOOST_TEST(static_cast<int>(r.next().what) ==
                 static_cast<int>(kind::need_more));
    }
  }
}

BOOST_AUTO_TEST_CASE(frames_split_at_every_byte) {
  std::string wire = text_frame("first") + text_frame(std::string(300, 'x')) +
                     server_frame(0x89, "hb", 0) + text_frame("last");
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    ws_reader r{1 << 20};
    std::vector<std::string> got;
    auto drain = [&] {
      for (auto ev = r.next(); ev.what != kind::need_more; ev = r.next())
        got.push_back(std::to_string(static_cast<int>(ev.what)) + ":" +
                      std::string{ev.payload});
    };
    // Through prepare/commit, the way the runner reads the socket.
    std::size_t n = cut;
    std::memcpy(r.prepare(n), wire.data(), cut);
    r.commit(cut);
    drain();
    n = wire.size() - cut;
    std::memcpy(r.prepare(n), wire.data() + cut, wire.size() - cut);
    r.commit(wire.size() - cut);
    drain();
    BOOST_TEST_CONTEXT("cut at " << cut) {
      BOOST_REQUIRE_EQUAL(got.size(), 4u);
      BOOST_TEST(got[0] == "1:first");
      BOOST_TEST(got[1] == "1:" + std::string(300, 'x'));
      BOOST_TEST(got[2] == "2:hb");
      BOOST_TEST(got[3] == "1:last");
    }
  }
}

BOOST_AUTO_TEST_CASE(prepare_asks_for_the_rest_of_a_large_frame) {
  ws_reader r{1 << 20};
  auto wire = text_frame(std::string(100000, 'q'));
  feed(r, std::string_view{wire}.substr(0, 10));
  BOOST_TEST(static_cast<int>(r.next().what) ==
             static_cast<int>(kind::need_more));
  std::size_t n = 16;
  r.prepare(n);
  BOOST_TEST(n >= wire.size() - 10);
}

BOOST_AUTO_TEST_CASE(control_frames) {
  ws_reader r{1 << 20};
  feed(r, server_frame(0x89, "ping-data", 0));
  feed(r, server_frame(0x8A, "", 0));
  feed(r, server_frame(0x88,
                       std::string{"\x03\xe9"
                                   "bye",
                                   5},
                       0));
  auto ping = r.next();
  BOOST_TEST(static_cast<int>(ping.what) == static_cast<int>(kind::ping));
  BOOST_TEST(ping.payload == "ping-data");
  BOOST_TEST(static_cast<int>(r.next().what) == static_cast<int>(kind::pong));
  auto close = r.next();
  BOOST_TEST(static_cast<int>(close.what) == static_cast<int>(kind::close));
  BOOST_TEST(close.close_code == 1001);
}

BOOST_AUTO_TEST_CASE(close_without_status_has_code_zero) {
  ws_reader r{1 << 20};
  feed(r, server_frame(0x88, "", 0));
  auto close = r.next();
  BOOST_TEST(static_cast<int>(close.what) == static_cast<int>(kind::close));
  BOOST_TEST(close.close_code == 0);
}

BOOST_AUTO_TEST_CASE(fragmented_message_with_ping_between) {
  ws_reader r{1 << 20};
  feed(r, server_frame(0x01, "hel", 0));
  feed(r, server_frame(0x89, "p", 0));
  feed(r, server_frame(0x00, "lo ", 0));
  feed(r, server_frame(0x80, "world", 0));
  BOOST_TEST(static_cast<int>(r.next().what) == static_cast<int>(kind::ping));
  auto ev = r.next();
  BOOST_TEST(static_cast<int>(ev.what) == static_cast<int>(kind::message));
  BOOST_TEST(ev.payload == "hello world");
}

BOOST_AUTO_TEST_CASE(protocol_violations_fail) {
  std::vector<std::string> bad = {
      std::string{"\x81\x85"
                  "abcd"
                  "hello",
                  11},                              // masked
      server_frame(0xC1, "x", 0),                   // RSV1 (no deflate offered)
      server_frame(0x83, "x", 0),                   // reserved opcode
      server_frame(0x80, "x", 0),                   // stray continuation
      server_frame(0x09, "x", 0),                   // fragmented ping
      server_frame(0x89, std::string(126, 'p'), 2), // control frame too long
      server_frame(0x81, "short", 2),               // non-minimal length
      server_frame(0x88, "x", 0),                   // one-byte close payload
      server_frame(0x01, "a", 0) +
          server_frame(0x81, "b", 0), // no continuation
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    ws_reader r{1 << 20};
    feed(r, bad[i]);
    auto ev = r.next();
    if (ev.what != kind::failed) // the unfinished message's first fragment
      ev = r.next();
    BOOST_TEST_CONTEXT("case " << i) {
      BOOST_TEST(static_cast<int>(ev.what) == static_cast<int>(kind::failed));
      BOOST_TEST(!ev.error.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(message_size_limit) {
  ws_reader r{100};
  feed(r, text_frame(std::string(100, 'a')));
  BOOST_TEST(static_cast<int>(r.next().what) ==
             static_cast<int>(kind::message));
  // Checked from the header, before the payload arrives.
  feed(r, text_frame(std::string(101, 'a')).substr(0, 4));
  BOOST_TEST(static_cast<int>(r.next().what) == static_cast<int>(kind::failed));
  ws_reader f{100};
  feed(f, server_frame(0x01, std::string(60, 'a'), 0));
  feed(f, server_frame(0x80, std::string(60, 'a'), 0));
  BOOST_TEST(static_cast<int>(f.next().what) == static_cast<int>(kind::failed));
}

BOOST_AUTO_TEST_CASE(client_frames_are_masked) {
  for (std::size_t size : {5u, 126u, 70000u}) {
    std::string payload(size, 'm');
    std::string out;
    append_ws_frame(out, ws_opcode::text, payload, 0x01020304);
    auto len_bytes = size < 126 ? 0 : size <= 0xFFFF ? 2 : 8;
    BOOST_REQUIRE_EQUAL(out.size(), 2 + len_bytes + 4 + size);
    BOOST_TEST(static_cast<unsigned char>(out[0]) == 0x81);
    BOOST_TEST((static_cast<unsigned char>(out[1]) & 0x80) == 0x80);
    std::size_t len = static_cast<unsigned char>(out[1]) & 0x7F;
    if (len_bytes > 0) {
      len = 0;
      for (int i = 0; i < len_bytes; ++i)
        len = (len << 8) | static_cast<unsigned char>(out[2 + i]);
    }
    BOOST_TEST(len == size);
    const char* key = out.data() + 2 + len_bytes;
    BOOST_TEST(std::string(key, 4) == std::string("\x01\x02\x03\x04", 4));
    std::string unmasked;
    for (std::size_t i = 0; i < size; ++i)
      unmasked.push_back(out[6 + len_bytes + i] ^ key[i % 4]);
    BOOST_TEST(unmasked == payload);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rpc_scan)

BOOST_AUTO_TEST_CASE(output_notification) {
  rpc_scanner s;
  BOOST_REQUIRE(s.scan(
      R"({"jsonrpc":"2.0","method":"process.output",)"
      R"("params":{"seq":42,"type":"stdout",)"
      R"("data":"a\"b\\c\n\u00e9\ud83d\ude00","extra":[1,{"seq":9}]}})"));
  const auto& f = s.fields();
  BOOST_TEST(f.method.is_string);
  BOOST_TEST(f.method.text == "process.output");
  BOOST_TEST(f.params_object);
  BOOST_TEST(f.seq == 42u);
  BOOST_TEST(f.type.text == "stdout");
  BOOST_TEST(f.data.is_string);
  BOOST_TEST(f.data.text == "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
  BOOST_TEST(!f.encoding.present);
  BOOST_TEST(!f.id.has_value());
  BOOST_TEST(!f.error);
}

BOOST_AUTO_TEST_CASE(members_in_any_order_and_nested_lookalikes_ignored) {
  rpc_scanner s;
  BOOST_REQUIRE(s.scan(R"({"params":{"x":{"seq":1,"data":"no"},"seq":7},)"
                       R"("other":{"method":"nope"},"method":"stream.gap"})"));
  const auto& f = s.fields();
  BOOST_TEST(f.method.text == "stream.gap");
  BOOST_TEST(f.seq == 7u);
  BOOST_TEST(!f.data.present);
}

BOOST_AUTO_TEST_CASE(numbers_follow_to_number) {
  rpc_scanner s;
  BOOST_REQUIRE(s.scan(R"({"method":"m","params":{"seq":3.0,)"
                       R"("dropped_bytes":-1,"dropped_frames":1.5,)"
                       R"("exit_code":-9}})"));
  const auto& f = s.fields();
  BOOST_TEST(f.seq == 3u);
  BOOST_TEST(!f.dropped_bytes.has_value());
  BOOST_TEST(!f.dropped_frames.has_value());
  BOOST_TEST(f.exit_code == -9);
  BOOST_REQUIRE(
      s.scan(R"({"method":"m","params":{"seq":"3","exit_code":null}})"));
  BOOST_TEST(!s.fields().seq.has_value());
  BOOST_TEST(!s.fields().exit_code.has_value());
  BOOST_REQUIRE(
      s.scan(R"({"method":"m","params":{"seq":18446744073709551615}})"));
  BOOST_TEST(s.fields().seq == 18446744073709551615ull);
}

BOOST_AUTO_TEST_CASE(wrong_types_are_present_but_not_strings) {
  rpc_scanner s;
  BOOST_REQUIRE(s.scan(R"({"method":5,"params":[]})"));
  BOOST_TEST(s.fields().method.present);
  BOOST_TEST(!s.fields().method.is_string);
  BOOST_TEST(s.fields().params);
  BOOST_TEST(!s.fields().params_object);
  BOOST_REQUIRE(
      s.scan(R"({"method":"process.output","params":{"data":{"a":1}}})"));
  BOOST_TEST(s.fields().data.present);
  BOOST_TEST(!s.fields().data.is_string);
}

BOOST_AUTO_TEST_CASE(responses) {
  rpc_scanner s;
  BOOST_REQUIRE(s.scan(R"({"jsonrpc":"2.0","id":3,"result":{"last_seq":17}})"));
  BOOST_TEST(!s.fields().method.present);
  BOOST_TEST(s.fields().id == 3u);
  BOOST_TEST(!s.fields().error);
  BOOST_TEST(s.fields().result_object);
  BOOST_TEST(s.fields().result_last_seq == 17u);
  BOOST_REQUIRE(s.scan(R"({"id":4,"error":{"message":"x","code":-32002}})"));
  BOOST_TEST(s.fields().error);
  BOOST_TEST(s.fields().error_code == -32002);
  BOOST_TEST(!s.fields().result_object);
  BOOST_REQUIRE(s.scan(R"({"id":4,"error":"oops","result":7})"));
  BOOST_TEST(s.fields().error);
  BOOST_TEST(!s.fields().error_code.has_value());
  BOOST_TEST(!s.fields().result_object);
}

BOOST_AUTO_TEST_CASE(last_duplicate_wins_and_nothing_leaks_between_frames) {
  rpc_scanner s;
  BOOST_REQUIRE(s.scan(R"({"method":"a","params":{"seq":1,"data":"x"},)"
                       R"("params":{"seq":2},"method":"b"})"));
  BOOST_TEST(s.fields().method.text == "b");
  BOOST_TEST(s.fields().seq == 2u);
  BOOST_TEST(!s.fields().data.present);
  BOOST_REQUIRE(s.scan(R"({"id":1})"));
  BOOST_TEST(!s.fields().method.present);
  BOOST_TEST(!s.fields().seq.has_value());
}

BOOST_AUTO_TEST_CASE(accepts_and_rejects_what_json_parse_does) {
  std::vector<std::string> cases = {
      "{}",
      " {} ",
      "{}\n",
      "{} x",
      "{}{}",
      "[]",
      "3",
      "\"s\"",
      "",
      "{",
      R"({"a":1,})",
      "{/*c*/}",
      R"({"a":"\xff"})",
      "{\"a\":\"\xc3\xa9\"}",
      R"({"a":01})",
      R"({"a":1e400})",
      R"({"a":"\u12"})",
      "nul",
      std::string(40, '[') + std::string(40, ']'),
      "{\"a\":" + std::string(31, '[') + std::string(31, ']') + "}",
  };
  rpc_scanner s;
  for (const auto& text : cases) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    bool dom_ok = !ec && v.is_object();
    BOOST_TEST_CONTEXT("text " << text) {
      BOOST_TEST(s.scan(text) == dom_ok);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(long_data)

namespace {

/// A process.output frame of at least `rpc_scanner::fast_data_above` bytes:
/// `data` (JSON text, quotes included) padded with `members` around it.
std::string output_frame(const std::string& data,
                         const std::string& members = "") {
  std::string pad(rpc_scanner::fast_data_above, 'p');
  return R"({"jsonrpc":"2.0","method":"process.output","params":{"seq":5,)" +
         members + R"("pad":")" + pad + R"(","data":)" + data + "}}";
}

/// What the DOM says `params.data` is: "<rejected>" when the frame is not an
/// object, "<absent>" or "<not a string>" when it is no string.
std::string dom_data(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object())
    return "<rejected>";
  auto* params = v.as_object().if_contains("params");
  if (params == nullptr || !params->is_object())
    return std::string("<absent>");
  auto* data = params->as_object().if_contains("data");
  if (data == nullptr)
    return std::string("<absent>");
  if (!data->is_string())
    return std::string("<not a string>");
  return std::string(data->as_string());
}

/// What the scanner says, in the same terms.
std::string scanned_data(rpc_scanner& s, const std::string& text) {
  if (!s.scan(text))
    return "<rejected>";
  const auto& d = s.fields().data;
  if (!d.present)
    return std::string("<absent>");
  if (!d.is_string)
    return std::string("<not a string>");
  return d.text;
}

} // namespace

BOOST_AUTO_TEST_CASE(decodes_like_the_dom) {
  std::string lines;
  for (int i = 0; i < 300; ++i)
    lines += "line " + std::to_string(i) + R"(\n\t\"q\"\\)";
  std::vector<std::string> cases = {
      output_frame("\"" + lines + "\""),
      output_frame(R"("a\u00e9\ud83d\ude00\/\b\f\r\u0000z")"),
      output_frame("\"raw \xc3\xa9 \xf0\x9f\x98\x80 bytes\""),
      output_frame(R"("")"),
      output_frame(R"("x")", R"("data":"first",)"),
      output_frame(R"(7)", R"("data":"a string before",)"),
      output_frame(R"("inner \"data\":\"lookalike\" \\")"),
      output_frame(R"("y")", R"("x":{"data":"nested","k":["data"]},)"),
      output_frame(R"("z")") + R"(,"params":{"seq":1})",
      output_frame(R"("w")", R"("d\u0061ta":"escaped key",)"),
      R"({"params" : { "data" :  "spaced )" +
          std::string(rpc_scanner::fast_data_above, 's') + R"(\n" } })",
      R"({"error":{"data":")" + std::string(2000, 'e') + R"("},"id":1})",
      // Rejected by the parser: each must be rejected here too.
      output_frame("\"control \x01 char\""),
      output_frame(R"("bad \x escape")"),
      output_frame(R"("lone \ud800 high")"),
      output_frame(R"("lone \udc00 low")"),
      output_frame(R"("short \u12")"),
      output_frame("\"bad utf8 \xff\""),
      output_frame(R"("unterminated)"),
      output_frame(R"("x")") + "trailing",
  };
  rpc_scanner s;
  for (const auto& text : cases) {
    BOOST_TEST_CONTEXT("text " << text.substr(0, 200)) {
      BOOST_TEST(scanned_data(s, text) == dom_data(text));
    }
  }
}

BOOST_AUTO_TEST_CASE(finds_params_data_and_nothing_else) {
  std::string text = output_frame(R"("a\nb")", R"("x":{"data":"no"},)");
  auto span = find_params_data(text);
  BOOST_REQUIRE(span.has_value());
  BOOST_TEST(text.substr(span->begin, span->end - span->begin) == R"(a\nb)");
  BOOST_TEST(!find_params_data(R"({"data":"root","params":{}})"));
  BOOST_TEST(!find_params_data(R"({"params":{"data":1}})"));
  BOOST_TEST(!find_params_data(R"({"params":{"data":"a"},"params":{}})"));
  BOOST_TEST(!find_params_data(R"({"params":{"d\u0061ta":"a"}})"));
  BOOST_TEST(!find_params_data(R"({"params":{"data":"open)"));
  BOOST_TEST(!find_params_data(R"([{"params":{"data":"in an array"}}])"));
}

BOOST_AUTO_TEST_CASE(unescapes_or_refuses) {
  std::string out;
  BOOST_TEST(unescape_json_string(R"(a\"\\\/\b\f\n\r\t\u0041\u00e9)", out));
  BOOST_TEST(out == "a\"\\/\b\f\n\r\tA\xc3\xa9");
  out.clear();
  BOOST_TEST(unescape_json_string(R"(\ud83d\ude00)", out));
  BOOST_TEST(out == "\xf0\x9f\x98\x80");
  for (std::string bad :
       {R"(\)", R"(\q)", R"(\u00g0)", R"(\ud83d)", R"(\ud83dx\ude00)",
        R"(\ude00)", "a\"b", "\x1f", "\xc3", "\xed\xa0\x80"}) {
    out.clear();
    BOOST_TEST_CONTEXT("content " << bad) {
      BOOST_TEST(!unescape_json_string(bad, out));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(own_output_frames)

namespace {

/// The members the runner reads, as the DOM has them, printed: a scanner
/// that reads a frame differently prints differently.
std::string dom_fields(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object())
    return "<rejected>";
  const auto& o = v.as_object();
  std::string out;
  auto str = [&out](const char* name, const boost::json::value* m) {
    out += name;
    out += m == nullptr     ? "=absent"
           : m->is_string() ? "=\"" + std::string(m->as_string()) + "\""
                            : "=other";
    out += ' ';
  };
  str("method", o.if_contains("method"));
  const auto* params = o.if_contains("params");
  out += params == nullptr     ? "params=absent "
         : params->is_object() ? ""
                               : "params=other ";
  if (params == nullptr || !params->is_object())
    return out;
  const auto& p = params->as_object();
  str("type", p.if_contains("type"));
  str("data", p.if_contains("data"));
  str("encoding", p.if_contains("encoding"));
  const auto* seq = p.if_contains("seq");
  boost::system::error_code nec;
  auto n = seq == nullptr ? 0 : seq->to_number<std::uint64_t>(nec);
  out += seq == nullptr || nec ? "seq=none" : "seq=" + std::to_string(n);
  return out;
}

/// The same, as the scanner read it.
std::string scanned_fields(rpc_scanner& s, const std::string& text) {
  if (!s.scan(text))
    return "<rejected>";
  const auto& f = s.fields();
  std::string out;
  auto str = [&out](const char* name, const string_field& m) {
    out += name;
    out += !m.present    ? "=absent"
           : m.is_string ? "=\"" + m.text + "\""
                         : "=other";
    out += ' ';
  };
  str("method", f.method);
  out += !f.params ? "params=absent " : f.params_object ? "" : "params=other ";
  if (!f.params_object)
    return out;
  str("type", f.type);
  str("data", f.data);
  str("encoding", f.encoding);
  out += f.seq ? "seq=" + std::to_string(*f.seq) : "seq=none";
  return out;
}

actorexec::protocol::output_piece piece(std::string data, bool base64 = false,
                                        bool truncated = false,
                                        std::uint32_t index = 0,
                                        std::uint32_t total = 1) {
  actorexec::protocol::output_piece p;
  p.data = std::move(data);
  p.base64 = base64;
  p.truncated = truncated;
  p.chunk_index = index;
  p.total_chunks = total;
  return p;
}

} // namespace

BOOST_AUTO_TEST_CASE(reads_the_servers_frames_like_the_dom) {
  using actorexec::protocol::encode_output;
  using actorexec::protocol::stream_kind;
  std::vector<std::string> cases = {
      encode_output(stream_kind::out, piece("12345\n"), 12345),
      encode_output(stream_kind::err, piece("warn \"q\" \\ \t\x01\n"), 1),
      encode_output(stream_kind::out, piece(""), 0),
      encode_output(stream_kind::out, piece("\xc3\xa9\xf0\x9f\x98\x80"),
                    9223372036854775807ull),
      encode_output(stream_kind::out, piece("AAEC/w==", true), 7),
      encode_output(stream_kind::out, piece("part", false, true, 2, 3), 8),
      encode_output(stream_kind::out, piece(std::string(3000, 'x')), 9),
      encode_output(stream_kind::out, piece("back\\\"slash\\\\\"\\"), 10),
      encode_output(stream_kind::out, piece(std::string(70000, '"')), 11),
  };
  // Near misses: each must read as the DOM reads it (or be refused).
  auto base = cases[0];
  auto with = [&base](const std::string& from, const std::string& to) {
    auto t = base;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  for (auto t : {
           with(R"("seq":12345)", R"("seq":012345)"),
           with(R"("seq":12345)", R"("seq":12345678901234567890)"),
           with(R"("seq":12345)", R"("seq":1.5)"),
           with(R"("seq":12345)", R"("seq":"12345")"),
           with(R"("seq":12345)", R"("seq":12345,"seq":3)"),
           with(R"("type":"stdout")", R"("type":"stdin")"),
           with(R"("type":"stdout")", R"("type" : "stdout")"),
           with(R"("data":"12345\n")", R"("data":"a\qb")"),
           with(R"("data":"12345\n")", R"("data":"a\u00e9\ud83d\ude00")"),
           with(R"("data":"12345\n")", R"("data":"lone \ud800")"),
           with(R"("data":"12345\n")", "\"data\":\"bad \xff\""),
           with(R"("data":"12345\n")", "\"data\":\"ctl \x01\""),
           with(R"("data":"12345\n")", R"("data":"esc\\")"),
           with(R"("data":"12345\n")", R"("data":"\"")"),
           with(R"("truncated":false)", R"("truncated":null)"),
           with(R"("chunk_index":0)", R"("chunk_index":-1)"),
           with(R"("method":"process.output")",
                R"("method":"process.outputs")"),
           base + " ",
           base + "x",
           base.substr(0, base.size() - 1),
       })
    cases.push_back(t);
  rpc_scanner s;
  for (const auto& text : cases) {
    BOOST_TEST_CONTEXT("text " << text.substr(0, 200)) {
      BOOST_TEST(scanned_fields(s, text) == dom_fields(text));
    }
  }
}

// The runner reads most frames with `scan_own_output`, not the parser. It
// only knows the layout `protocol::append_output` writes: were the encoder to
// change (a member added or moved), every frame would fall back to the parser
// with the same fields, and only the runner's speed would tell. So the
// server's own frames must take the fast path.
BOOST_AUTO_TEST_CASE(the_servers_frames_take_the_fast_path) {
  using actorexec::protocol::append_output;
  using actorexec::protocol::encode_output;
  using actorexec::protocol::stream_kind;
  struct sample {
    stream_kind stream;
    actorexec::protocol::output_piece piece;
    std::uint64_t seq;
  };
  std::vector<sample> samples = {
      {stream_kind::out, piece("12345\n"), 12345},
      {stream_kind::err, piece("warn \"q\" \\ \t\x01\x1f\n"), 1},
      {stream_kind::out, piece(""), 0},
      {stream_kind::out, piece("\xc3\xa9\xf0\x9f\x98\x80"),
       9223372036854775807ull},
      {stream_kind::out, piece("AAEC/w==", true), 7},
      {stream_kind::err, piece("AA==", true, true, 4, 5), 8},
      {stream_kind::out, piece("part", false, true, 2, 3), 4294967296ull},
      {stream_kind::out, piece(std::string(70000, '"')), 11},
      {stream_kind::out, piece(std::string(65536, 'x')), 12},
  };
  std::string batch;
  std::vector<std::size_t> sizes;
  for (const auto& x : samples) {
    auto before = batch.size();
    append_output(batch, x.stream, x.piece, x.seq);
    sizes.push_back(batch.size() - before);
  }
  std::string_view rest = batch;
  rpc_fields f;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& x = samples[i];
    auto frame = encode_output(x.stream, x.piece, x.seq);
    // A frame of a batch is the frame alone.
    BOOST_TEST(rest.substr(0, sizes[i]) == frame);
    rest.remove_prefix(sizes[i]);
    BOOST_TEST_CONTEXT("sample " << i << ": " << frame.substr(0, 120)) {
      BOOST_TEST_REQUIRE(scan_own_output(frame, f));
      BOOST_TEST(f.method.text == "process.output");
      BOOST_TEST(f.params_object);
      BOOST_TEST(f.type.text == to_string(x.stream));
      BOOST_TEST(f.data.is_string);
      BOOST_TEST(f.data.text == x.piece.data);
      BOOST_TEST(f.encoding.present == x.piece.base64);
      BOOST_TEST(f.encoding.text == (x.piece.base64 ? "base64" : ""));
      BOOST_TEST((f.seq == x.seq));
      BOOST_TEST(!f.id);
      BOOST_TEST(!f.error);
      // The parser, which the runner falls back to, reads the same.
      rpc_scanner s;
      BOOST_TEST(scanned_fields(s, frame) == dom_fields(frame));
    }
  }
  BOOST_TEST(rest.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rpc_client_side)

/// An rpc_client's owner that records what it was told.
struct recorder : rpc_client::owner {
  std::vector<std::string> sent;
  std::vector<std::string> events;
  void send(std::string text) override { sent.push_back(std::move(text)); }
  void on_started() override { events.push_back("started"); }
  void on_output(const rpc_fields& f, bool replayed) override {
    events.push_back("output " + f.data.text + (replayed ? " (replay)" : ""));
  }
  void on_completed(const rpc_fields&) override {
    events.push_back("completed");
  }
  void on_response(std::optional<request_kind> kind,
                   const rpc_fields& f) override {
    events.push_back(std::string{"response "} +
                     (kind ? std::to_string(static_cast<int>(*kind)) : "-") +
                     (f.error ? " error" : ""));
  }
};

std::string event(const std::string& method, std::uint64_t seq,
                  const std::string& more = "") {
  return R"({"jsonrpc":"2.0","method":")" + method + R"(","params":{"seq":)" +
         std::to_string(seq) + more + "}}";
}

BOOST_AUTO_TEST_CASE(requests_are_valid_json_with_their_ids) {
  rpc_scanner scanner;
  phase_result counts;
  recorder owner;
  rpc_client rpc{scanner, counts, owner};
  session_spec spec;
  spec.argv = {"cat"};
  spec.attack.what = attack_spec::kind::input_flood;
  rpc.execute(spec);
  auto id = rpc.request_text(request_kind::input, "input", R"({"data":"x"})");
  rpc.ack();
  BOOST_TEST(id == 2u);
  BOOST_REQUIRE_EQUAL(owner.sent.size(), 3u);
  auto execute = boost::json::parse(owner.sent[0]);
  BOOST_TEST(execute.at("id") == 1);
  BOOST_TEST(execute.at("params").at("stdin") == true); // an input flood
  auto input = boost::json::parse(owner.sent[1]);
  BOOST_TEST(input == boost::json::parse(
                          R"({"jsonrpc":"2.0","id":2,"method":"input",
                              "params":{"data":"x"}})"));
  BOOST_TEST(boost::json::parse(owner.sent[2]).at("params").at("seq") == 0);
  // Responses find their request once; a stranger's id finds none.
  rpc.handle(R"({"jsonrpc":"2.0","id":2,"error":{"code":-32006}})");
  rpc.handle(R"({"jsonrpc":"2.0","id":2,"result":{}})");
  BOOST_TEST(owner.events ==
                 (std::vector<std::string>{"response 3 error", "response -"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(events_in_seq_order_and_replays_after_a_resume) {
  rpc_scanner scanner;
  phase_result counts;
  recorder owner;
  rpc_client rpc{scanner, counts, owner};
  rpc.handle(R"({"jsonrpc":"2.0","method":"connected","params":
    {"session_id":"s1","resume_token":"t1"}})");
  rpc.handle(event("process.started", 1));
  rpc.handle(event("process.output", 2, R"(,"data":"a")"));
  rpc.handle(event("process.output", 2, R"(,"data":"a")")); // duplicate
  rpc.handle(event("process.output", 4, R"(,"data":"c")")); // gap
  // A resume on a new connection: its throwaway session is ignored, and
  // events up to the response's last_seq are replays.
  rpc.handle(R"({"jsonrpc":"2.0","method":"connected","params":
    {"session_id":"s2","resume_token":"t2"}})");
  rpc.resume();
  auto resume = boost::json::parse(owner.sent.back());
  BOOST_TEST(resume.at("params") ==
             boost::json::parse(
                 R"({"session_id":"s1","resume_token":"t1","last_seq":4})"));
  rpc.handle(R"({"jsonrpc":"2.0","id":1,"result":{"last_seq":6}})");
  rpc.handle(event("process.output", 5, R"(,"data":"d")"));
  rpc.handle(event("process.output", 7, R"(,"data":"e")"));
  rpc.handle(event("process.completed", 8));
  BOOST_TEST(owner.events ==
                 (std::vector<std::string>{"started", "output a", "output c",
                                           "response 1", "output d (replay)",
                                           "output e", "completed"}),
             boost::test_tools::per_element());
  BOOST_TEST(counts.other_errors["duplicate seq"] == 1u);
  BOOST_TEST(counts.other_errors["seq gap"] == 2u);
  BOOST_TEST(counts.replay_frames == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
