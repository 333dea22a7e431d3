#define BOOST_TEST_MODULE protocol_encode
#include <boost/test/unit_test.hpp>

#include "protocol/encode.hpp"

#include <limits>
#include <random>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/base64.hpp"
#include "protocol/utf8.hpp"

using namespace actorexec::protocol;
using namespace std::string_literals;
namespace json = boost::json;

namespace {

/// Parses a frame strictly (no invalid UTF-8, no trailing data).
json::object parse(const std::string& frame) {
  boost::system::error_code ec;
  auto v = json::parse(frame, ec);
  BOOST_REQUIRE_MESSAGE(!ec, "not JSON: " << frame);
  BOOST_REQUIRE(v.is_object());
  return v.as_object();
}

/// Requires `frame` to equal `expected` as JSON, member order aside.
void same_json(const std::string& frame, const std::string& expected) {
  auto got = parse(frame);
  auto want = json::parse(expected);
  BOOST_TEST(json::value(got) == want,
             "\n  got:  " << frame << "\n  want: " << expected);
}

/// The params of a notification frame, after checking its envelope.
json::object notification(const std::string& frame, const char* method) {
  auto obj = parse(frame);
  BOOST_TEST(obj.size() == 3u);
  BOOST_TEST(obj.at("jsonrpc") == "2.0");
  BOOST_TEST(obj.at("method") == method);
  BOOST_TEST(!obj.contains("id"));
  return obj.at("params").as_object();
}

std::string escaped(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(protocol_encode)

// -- responses
// -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(result_with_integer_id) {
  same_json(encode_result(
                json::value(7),
                json::object{{"status", "started"}, {"pid", 12}, {"pgid", 12}}),
            R"({"jsonrpc":"2.0","id":7,
                "result":{"status":"started","pid":12,"pgid":12}})");
}

BOOST_AUTO_TEST_CASE(result_echoes_ids_exactly) {
  for (auto id : {R"("abc")", R"("")", "0", "-5", "18446744073709551615",
                  "-9223372036854775808", R"("\u00e9\n")"}) {
    auto v = json::parse(id);
    auto frame = encode_result(v, json::value(nullptr));
    auto obj = parse(frame);
    BOOST_TEST(obj.at("id") == v);
    BOOST_TEST(obj.at("id").kind() == v.kind());
    BOOST_TEST(obj.at("result").is_null());
  }
}

BOOST_AUTO_TEST_CASE(result_without_id_has_no_id_key) {
  auto frame = encode_result(std::nullopt, json::object{{"pong", true}});
  auto obj = parse(frame);
  BOOST_TEST(!obj.contains("id"));
  BOOST_TEST(obj.size() == 2u);
  same_json(frame, R"({"jsonrpc":"2.0","result":{"pong":true}})");
}

BOOST_AUTO_TEST_CASE(error_with_null_data) {
  auto frame =
      encode_error(json::value("r1"), make_error(error_code::method_not_found,
                                                 "Unknown method: foo"));
  same_json(frame, R"({"jsonrpc":"2.0","id":"r1","error":{
                      "code":-32601,"message":"Unknown method: foo",
                      "data":null}})");
  // data is present even when null.
  BOOST_TEST(parse(frame).at("error").as_object().contains("data"));
}

BOOST_AUTO_TEST_CASE(error_without_id_has_no_id_key) {
  auto frame = encode_error(std::nullopt,
                            make_error(error_code::parse_error, "Parse error"));
  auto obj = parse(frame);
  BOOST_TEST(!obj.contains("id"));
  same_json(frame, R"({"jsonrpc":"2.0","error":{"code":-32700,
                      "message":"Parse error","data":null}})");
}

BOOST_AUTO_TEST_CASE(error_with_data) {
  rpc_error e = make_error(error_code::resume_refused, "Resume refused");
  e.data = json::object{{"reason", "expired"}};
  same_json(encode_error(json::value(3), e),
            R"({"jsonrpc":"2.0","id":3,"error":{"code":-32010,
                "message":"Resume refused","data":{"reason":"expired"}}})");
}

BOOST_AUTO_TEST_CASE(every_error_code_goes_out_as_its_number) {
  struct example {
    error_code code;
    int number;
  };
  for (auto ex : {example{error_code::parse_error, -32700},
                  example{error_code::invalid_request, -32600},
                  example{error_code::method_not_found, -32601},
                  example{error_code::invalid_params, -32602},
                  example{error_code::internal_error, -32603},
                  example{error_code::command_not_allowed, -32001},
                  example{error_code::no_process, -32002},
                  example{error_code::session_limit, -32003},
                  example{error_code::stdin_unavailable, -32005},
                  example{error_code::stdin_busy, -32006},
                  example{error_code::resume_refused, -32010},
                  example{error_code::unauthorized, -32011},
                  example{error_code::rate_limited, -32029}}) {
    auto obj = parse(encode_error(json::value(1), make_error(ex.code, "m")));
    BOOST_TEST(obj.at("error").at("code") == ex.number);
  }
}

BOOST_AUTO_TEST_CASE(error_message_is_escaped_and_kept_valid) {
  auto e = make_error(error_code::command_not_allowed,
                      "Command 'a\"b\\c\nd' is not allowed");
  auto obj = parse(encode_error(json::value(1), e));
  BOOST_TEST(obj.at("error").at("message").as_string() == e.message);
  // Invalid UTF-8 in a message cannot break the frame.
  auto bad = make_error(error_code::internal_error, "spawn: \xFF\xC3 x");
  obj = parse(encode_error(json::value(1), bad));
  BOOST_TEST(obj.at("error").at("message") ==
             "spawn: \xEF\xBF\xBD\xEF\xBF\xBD x");
}

BOOST_AUTO_TEST_CASE(make_error_has_null_data) {
  auto e = make_error(error_code::no_process, "No process is running");
  BOOST_TEST(static_cast<int>(e.code) == -32002);
  BOOST_TEST(e.message == "No process is running");
  BOOST_TEST(e.data.is_null());
}

// -- notifications
// -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(generic_notification) {
  same_json(encode_notification("custom.event", json::object{{"a", 1}}),
            R"({"jsonrpc":"2.0","method":"custom.event","params":{"a":1}})");
  same_json(encode_notification("empty", json::object{}),
            R"({"jsonrpc":"2.0","method":"empty","params":{}})");
}

BOOST_AUTO_TEST_CASE(connected) {
  auto frame = encode_connected("5b2c3c1e-aaaa-4bbb-8ccc-123456789abc",
                                "tok_abc", 20000);
  same_json(frame, R"({"jsonrpc":"2.0","method":"connected","params":{
    "session_id":"5b2c3c1e-aaaa-4bbb-8ccc-123456789abc","version":"1.0.0",
    "capabilities":["execute","control","stream","input","resume","ack",
                    "status"],
    "resume_token":"tok_abc","heartbeat_interval_ms":20000}})");
  BOOST_TEST(protocol_version == "1.0.0");
}

BOOST_AUTO_TEST_CASE(output_stdout_text) {
  output_piece piece;
  piece.data = "hello\n";
  same_json(encode_output(stream_kind::out, piece, 3),
            R"({"jsonrpc":"2.0","method":"process.output","params":{
                "type":"stdout","data":"hello\n","truncated":false,
                "chunk_index":0,"total_chunks":1,"seq":3}})");
  auto params =
      notification(encode_output(stream_kind::out, piece, 3), "process.output");
  BOOST_TEST(!params.contains("encoding"));
}

BOOST_AUTO_TEST_CASE(output_stderr_chunk_base64) {
  output_piece piece;
  piece.data = base64_encode("\xFF\xFEok");
  piece.base64 = true;
  piece.truncated = true;
  piece.chunk_index = 2;
  piece.total_chunks = 5;
  same_json(encode_output(stream_kind::err, piece, 18446744073709551615ull),
            R"({"jsonrpc":"2.0","method":"process.output","params":{
                "type":"stderr","data":"//5vaw==","encoding":"base64",
                "truncated":true,"chunk_index":2,"total_chunks":5,
                "seq":18446744073709551615}})");
}

BOOST_AUTO_TEST_CASE(output_data_round_trips_through_json) {
  std::string all;
  for (int c = 0; c < 0x80; ++c)
    all.push_back(static_cast<char>(c));
  all += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xE2\x80\xA8\xEF\xBF\xBF";
  output_piece piece;
  piece.data = all;
  auto params =
      notification(encode_output(stream_kind::out, piece, 1), "process.output");
  BOOST_TEST(params.at("data").as_string() == all);
}

BOOST_AUTO_TEST_CASE(process_events) {
  for (auto status : {"started", "paused", "resumed", "canceled"}) {
    auto method = "process."s + status;
    auto frame = encode_process_event(method, status, 4242, 4240, 9);
    same_json(frame, R"({"jsonrpc":"2.0","method":")" + method +
                         R"(","params":{"status":")" + status +
                         R"(","pid":4242,"pgid":4240,"exit_code":null,
                             "error":null,"seq":9}})");
  }
}

BOOST_AUTO_TEST_CASE(completed_with_everything) {
  completion c;
  c.status = end_status::canceled;
  c.pid = 100;
  c.pgid = 100;
  c.exit_code = -15;
  c.signal = 15;
  c.error = "Canceled by client";
  c.execution_time = 1.25;
  same_json(encode_completed(c, 44),
            R"({"jsonrpc":"2.0","method":"process.completed","params":{
                "status":"canceled","pid":100,"pgid":100,"exit_code":-15,
                "signal":15,"error":"Canceled by client",
                "execution_time":1.25,"seq":44}})");
}

BOOST_AUTO_TEST_CASE(completed_with_nulls) {
  completion c;
  c.pid = 7;
  c.pgid = 7;
  c.exit_code = 0;
  c.execution_time = 2;
  auto frame = encode_completed(c, 2);
  same_json(frame, R"({"jsonrpc":"2.0","method":"process.completed","params":{
    "status":"completed","pid":7,"pgid":7,"exit_code":0,"signal":null,
    "error":null,"execution_time":2.0,"seq":2}})");
  // A whole number of seconds still reads as a float.
  auto params = notification(frame, "process.completed");
  BOOST_TEST(params.at("execution_time").is_double());
  completion unknown;
  unknown.status = end_status::failed;
  unknown.error = "spawn failed: No such file or directory";
  params = notification(encode_completed(unknown, 1), "process.completed");
  BOOST_TEST(params.at("exit_code").is_null());
  BOOST_TEST(params.at("signal").is_null());
  BOOST_TEST(params.at("error") == "spawn failed: No such file or directory");
}

BOOST_AUTO_TEST_CASE(completed_non_finite_time_is_null) {
  completion c;
  c.execution_time = std::numeric_limits<double>::infinity();
  auto params = notification(encode_completed(c, 1), "process.completed");
  BOOST_TEST(params.at("execution_time").is_null());
}

BOOST_AUTO_TEST_CASE(process_error) {
  same_json(encode_process_error("write to stdin failed: Broken pipe", 5),
            R"({"jsonrpc":"2.0","method":"process.error","params":{
                "error":"write to stdin failed: Broken pipe","seq":5}})");
}

BOOST_AUTO_TEST_CASE(stream_gap) {
  same_json(encode_stream_gap(stream_kind::err, 1048576, 12, 30),
            R"({"jsonrpc":"2.0","method":"stream.gap","params":{
                "type":"stderr","dropped_bytes":1048576,"dropped_frames":12,
                "seq":30}})");
}

BOOST_AUTO_TEST_CASE(ping) {
  auto frame = encode_ping(1717243200.125);
  same_json(frame, R"({"jsonrpc":"2.0","method":"ping",
                       "params":{"timestamp":1717243200.125}})");
  auto params = notification(encode_ping(1717243200), "ping");
  BOOST_TEST(params.at("timestamp").is_double());
  BOOST_TEST(params.at("timestamp").as_double() == 1717243200.0);
}

BOOST_AUTO_TEST_CASE(server_shutdown) {
  same_json(encode_server_shutdown(10000),
            R"({"jsonrpc":"2.0","method":"server.shutdown",
                "params":{"grace_ms":10000}})");
}

BOOST_AUTO_TEST_CASE(every_frame_carries_jsonrpc) {
  output_piece piece;
  completion c;
  for (const auto& frame :
       {encode_result(std::nullopt, nullptr),
        encode_error(std::nullopt, make_error(error_code::internal_error, "x")),
        encode_notification("n", {}), encode_connected("s", "t", 1),
        encode_output(stream_kind::out, piece, 1),
        encode_process_event("process.started", "started", 1, 1, 1),
        encode_completed(c, 1), encode_process_error("e", 1),
        encode_stream_gap(stream_kind::out, 1, 1, 1), encode_ping(0),
        encode_server_shutdown(0)}) {
    BOOST_TEST(parse(frame).at("jsonrpc") == "2.0", frame);
  }
}

// -- the string escaper
// --------------------------------------------------------

BOOST_AUTO_TEST_CASE(escapes_quotes_backslashes_and_controls) {
  BOOST_TEST(escaped("") == R"("")");
  BOOST_TEST(escaped("plain") == R"("plain")");
  BOOST_TEST(escaped("a\"b") == R"("a\"b")");
  BOOST_TEST(escaped("a\\b") == R"("a\\b")");
  BOOST_TEST(escaped("\n\r\t\b\f") == R"("\n\r\t\b\f")");
  BOOST_TEST(escaped("\x01\x1F"s) == R"("\u0001\u001f")");
  BOOST_TEST(escaped("\0"s) == R"("\u0000")");
  BOOST_TEST(escaped("\x7F") == "\"\x7F\"");
  BOOST_TEST(escaped("/") == R"("/")");
}

BOOST_AUTO_TEST_CASE(escaper_passes_utf8_through) {
  std::string s = "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8";
  BOOST_TEST(escaped(s) == "\"" + s + "\"");
}

BOOST_AUTO_TEST_CASE(escaper_handles_escapes_at_every_block_position) {
  // The escaper skips clean 8-byte blocks; put the special byte at every
  // offset of a block and at the ends of the string.
  for (std::size_t len = 1; len <= 24; ++len) {
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (char special : {'"', '\\', '\n', '\x01', '\x1F'}) {
        std::string s(len, 'x');
        s[pos] = special;
        auto v = json::parse(escaped(s));
        BOOST_TEST(v.as_string() == s);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(escaper_agrees_with_boost_json) {
  std::mt19937 rng{1234};
  std::uniform_int_distribution<int> byte(0, 0x7F);
  std::uniform_int_distribution<int> len(0, 64);
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    auto n = len(rng);
    for (int k = 0; k < n; ++k) {
      auto c = byte(rng);
      if (c == 0x7F)
        s += "\xE2\x82\xAC"; // and some multibyte text
      else
        s.push_back(static_cast<char>(c));
    }
    auto out = escaped(s);
    BOOST_TEST(json::parse(out).as_string() == s);
    BOOST_TEST(is_valid_utf8(out));
  }
}

BOOST_AUTO_TEST_CASE(escaper_appends) {
  std::string out = "prefix:";
  append_json_string(out, "x");
  BOOST_TEST(out == R"(prefix:"x")");
}

BOOST_AUTO_TEST_SUITE_END()
