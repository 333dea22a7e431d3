#define BOOST_TEST_MODULE protocol_decode
#include <boost/test/unit_test.hpp>

#include "protocol/messages.hpp"

#include <string>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>

using namespace actorexec::protocol;
using namespace std::string_literals;
namespace json = boost::json;

namespace {

/// Decodes `text` and requires a valid request.
request ok(const std::string& text) {
  auto r = decode(text);
  BOOST_TEST_INFO("frame: " << text);
  BOOST_REQUIRE_MESSAGE(
      r.req.has_value(),
      "unexpected error: " << (r.error ? r.error->message : "(none)"));
  BOOST_TEST(!r.error);
  BOOST_TEST(!r.ignore);
  return *r.req;
}

/// Decodes `text` and requires an error with `code` and `message`.
decode_result err(const std::string& text, int code,
                  const std::string& message) {
  auto r = decode(text);
  BOOST_TEST_INFO("frame: " << text);
  BOOST_REQUIRE(r.error.has_value());
  BOOST_TEST(!r.req);
  BOOST_TEST(!r.ignore);
  BOOST_TEST(static_cast<int>(r.error->code) == code);
  BOOST_TEST(r.error->message == message);
  BOOST_TEST(r.error->data.is_null());
  return r;
}

/// An `execute` frame with id 1 and the given params members.
std::string execute(const std::string& members) {
  return R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{)" + members +
         "}}";
}

execute_params exec_ok(const std::string& members) {
  return std::get<execute_params>(ok(execute(members)).params);
}

void exec_err(const std::string& members, int code, const std::string& msg) {
  auto r = err(execute(members), code, msg);
  BOOST_REQUIRE(r.id.has_value());
  BOOST_TEST(*r.id == json::value(1));
}

void invalid_exec(const std::string& members, const std::string& what) {
  exec_err(members, -32602, "Invalid params: " + what);
}

std::string with_params(const std::string& method, const std::string& members) {
  return R"({"jsonrpc":"2.0","id":"x","method":")" + method +
         R"(","params":{)" + members + "}}";
}

} // namespace

BOOST_AUTO_TEST_SUITE(protocol_decode)

// -- envelope
// ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parse_error_has_no_id) {
  for (auto text : {"", "{", "not json", R"({"id":1,"method":"ping")",
                    R"({"id":1,"method":"ping",})", "{'id':1}", "nul",
                    R"({"id":1} trailing)"}) {
    auto r = err(text, -32700, "Parse error");
    BOOST_TEST(!r.id);
  }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_json_is_a_parse_error) {
  auto r = err("{\"id\":1,\"method\":\"\xFF\"}", -32700, "Parse error");
  BOOST_TEST(!r.id);
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_a_parse_error) {
  std::string text = R"({"id":1,"method":"ping","params":)" +
                     std::string(10000, '[') + std::string(10000, ']') + "}";
  err(text, -32700, "Parse error");
}

BOOST_AUTO_TEST_CASE(batch_is_rejected) {
  auto r = err(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", -32600,
               "Invalid request: batch requests are not supported");
  BOOST_TEST(!r.id);
  err("[]", -32600, "Invalid request: batch requests are not supported");
}

BOOST_AUTO_TEST_CASE(non_object_is_rejected) {
  for (auto text : {"1", "\"ping\"", "null", "true", "2.5"}) {
    auto r = err(text, -32600, "Invalid request: expected a JSON object");
    BOOST_TEST(!r.id);
  }
}

BOOST_AUTO_TEST_CASE(string_and_integer_ids_are_kept_exactly) {
  auto r = decode(R"({"jsonrpc":"2.0","id":"abc-1","method":"ping"})");
  BOOST_REQUIRE(r.req);
  BOOST_REQUIRE(r.req->id);
  BOOST_TEST(r.req->id->is_string());
  BOOST_TEST(r.req->id->get_string() == "abc-1");
  BOOST_TEST(*r.id == *r.req->id);
  for (auto id : {"0", "-7", "42", "9223372036854775807",
                  "18446744073709551615", "-9223372036854775808"}) {
    auto text =
        R"({"jsonrpc":"2.0","id":)" + std::string{id} + R"(,"method":"ping"})";
    auto req = ok(text);
    BOOST_REQUIRE(req.id);
    BOOST_TEST(json::serialize(*req.id) == id);
  }
  auto empty = ok(R"({"jsonrpc":"2.0","id":"","method":"ping"})");
  BOOST_TEST(empty.id->get_string() == "");
}

BOOST_AUTO_TEST_CASE(absent_id_stays_absent) {
  auto req = ok(R"({"jsonrpc":"2.0","method":"ping"})");
  BOOST_TEST(!req.id);
  auto r = decode(R"({"jsonrpc":"2.0","method":"ping"})");
  BOOST_TEST(!r.id);
}

BOOST_AUTO_TEST_CASE(other_ids_are_invalid_requests_without_id) {
  for (auto id : {"1.5", "1.0", "1e3", "null", "true", "false", "{}", "[1]",
                  "{\"a\":1}", "99999999999999999999999"}) {
    auto text =
        R"({"jsonrpc":"2.0","id":)" + std::string{id} + R"(,"method":"ping"})";
    auto r = err(text, -32600,
                 "Invalid request: 'id' must be a string or an integer");
    BOOST_TEST(!r.id, text);
  }
}

BOOST_AUTO_TEST_CASE(jsonrpc_member_is_optional_but_must_be_2_0) {
  BOOST_TEST(ok(R"({"id":1,"method":"ping"})").method == "ping");
  for (auto v : {"\"1.0\"", "2.0", "\"2\"", "null", "\"\""}) {
    auto text =
        R"({"jsonrpc":)" + std::string{v} + R"(,"id":3,"method":"ping"})";
    auto r = err(text, -32600, R"(Invalid request: 'jsonrpc' must be "2.0")");
    BOOST_REQUIRE(r.id);
    BOOST_TEST(*r.id == json::value(3));
  }
}

BOOST_AUTO_TEST_CASE(missing_method) {
  auto r = err(R"({"jsonrpc":"2.0","id":"q"})", -32600,
               "Invalid request: missing 'method'");
  BOOST_TEST(r.id->get_string() == "q");
  r = err(R"({"jsonrpc":"2.0","id":5,"result":{}})", -32600,
          "Invalid request: missing 'method'");
  BOOST_TEST(*r.id == json::value(5));
  r = err(R"({})", -32600, "Invalid request: missing 'method'");
  BOOST_TEST(!r.id);
}

BOOST_AUTO_TEST_CASE(non_string_method) {
  for (auto m : {"1", "null", "[]", "{}", "true"}) {
    auto text = R"({"jsonrpc":"2.0","id":1,"method":)" + std::string{m} + "}";
    auto r = err(text, -32600, "Invalid request: 'method' must be a string");
    BOOST_TEST(*r.id == json::value(1));
  }
  auto r = err(R"({"jsonrpc":"2.0","method":7})", -32600,
               "Invalid request: 'method' must be a string");
  BOOST_TEST(!r.id);
}

BOOST_AUTO_TEST_CASE(unknown_method_with_id) {
  auto r = err(R"({"jsonrpc":"2.0","id":9,"method":"frobnicate"})", -32601,
               "Unknown method: frobnicate");
  BOOST_TEST(*r.id == json::value(9));
  err(R"({"jsonrpc":"2.0","id":"s","method":"EXECUTE"})", -32601,
      "Unknown method: EXECUTE");
  err(R"({"jsonrpc":"2.0","id":"s","method":""})", -32601, "Unknown method: ");
}

BOOST_AUTO_TEST_CASE(unknown_notification_is_ignored) {
  for (auto text : {R"({"jsonrpc":"2.0","method":"frobnicate"})",
                    R"({"jsonrpc":"2.0","method":"x","params":[1,2]})",
                    R"({"method":"notifications/initialized","params":{}})"}) {
    auto r = decode(text);
    BOOST_TEST(r.ignore, text);
    BOOST_TEST(!r.req);
    BOOST_TEST(!r.error);
    BOOST_TEST(!r.id);
  }
}

BOOST_AUTO_TEST_CASE(known_methods_without_params) {
  BOOST_TEST(std::holds_alternative<status_params>(
      ok(R"({"id":1,"method":"status"})").params));
  BOOST_TEST(std::holds_alternative<detach_params>(
      ok(R"({"id":1,"method":"detach"})").params));
  BOOST_TEST(std::holds_alternative<ping_params>(
      ok(R"({"id":1,"method":"ping"})").params));
  BOOST_TEST(std::holds_alternative<pong_params>(
      ok(R"({"method":"pong","params":{"timestamp":1.5}})").params));
  BOOST_TEST(std::holds_alternative<hook_status_params>(
      ok(R"({"id":1,"method":"hook_status"})").params));
}

BOOST_AUTO_TEST_CASE(ignored_params_may_have_any_type) {
  // Old clients may answer the server's ping with anything.
  ok(R"({"method":"pong","params":[1,2,3]})");
  ok(R"({"method":"pong","params":12})");
  ok(R"({"id":1,"method":"hook_status","params":"x"})");
  ok(R"({"id":1,"method":"status","params":null})");
}

BOOST_AUTO_TEST_CASE(params_must_be_an_object_where_they_matter) {
  for (auto method : {"execute", "control", "input", "ack", "resume"}) {
    for (auto params : {"[]", "[1]", "\"x\"", "3", "true"}) {
      auto text = R"({"id":1,"method":")" + std::string{method} +
                  R"(","params":)" + params + "}";
      auto r = err(text, -32602, "Invalid params: 'params' must be an object");
      BOOST_TEST(*r.id == json::value(1));
    }
  }
}

BOOST_AUTO_TEST_CASE(method_name_is_kept) {
  BOOST_TEST(ok(R"({"id":1,"method":"detach"})").method == "detach");
}

BOOST_AUTO_TEST_CASE(notification_errors_have_no_id) {
  auto r = err(R"({"jsonrpc":"2.0","method":"control","params":{}})", -32602,
               "Invalid params: 'type' must be PAUSE, RESUME or CANCEL");
  BOOST_TEST(!r.id);
}

// -- execute
// -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(execute_command_with_defaults) {
  auto req = ok(R"({"jsonrpc":"2.0","id":1,"method":"execute",
                    "params":{"command":"echo hi"}})");
  BOOST_TEST(req.method == "execute");
  auto p = std::get<execute_params>(req.params);
  BOOST_TEST(p.command.value() == "echo hi");
  BOOST_TEST(p.argv.empty());
  BOOST_TEST(!p.timeout);
  BOOST_TEST(!p.idle_timeout);
  BOOST_TEST(!p.cwd);
  BOOST_TEST(p.env.empty());
  BOOST_TEST(!p.stdin_pipe);
  BOOST_TEST((p.framing == framing_mode::lines));
  BOOST_TEST((p.on_overflow == overflow_policy::block));
}

BOOST_AUTO_TEST_CASE(execute_argv_with_every_option) {
  auto p = exec_ok(R"j("argv":["python3","-c","print(1)"],"timeout":2.5,
                      "idle_timeout":3,"cwd":"/tmp",
                      "env":{"B":"2","A":"1","EMPTY":""},"stdin":true,
                      "framing":"chunks","on_overflow":"drop_oldest",
                      "unknown_param":{"x":1})j");
  BOOST_TEST(!p.command);
  std::vector<std::string> argv{"python3", "-c", "print(1)"};
  BOOST_TEST(p.argv == argv, boost::test_tools::per_element());
  BOOST_TEST(p.timeout.value() == 2.5);
  BOOST_TEST(p.idle_timeout.value() == 3.0);
  BOOST_TEST(p.cwd.value() == "/tmp");
  std::vector<std::pair<std::string, std::string>> env{
      {"B", "2"}, {"A", "1"}, {"EMPTY", ""}};
  BOOST_TEST((p.env == env)); // request order is kept
  BOOST_TEST(p.stdin_pipe);
  BOOST_TEST((p.framing == framing_mode::chunks));
  BOOST_TEST((p.on_overflow == overflow_policy::drop_oldest));
}

BOOST_AUTO_TEST_CASE(execute_explicit_defaults) {
  auto p = exec_ok(R"("command":"ls","framing":"lines","on_overflow":"block",
                      "stdin":false,"env":{})");
  BOOST_TEST((p.framing == framing_mode::lines));
  BOOST_TEST((p.on_overflow == overflow_policy::block));
  BOOST_TEST(!p.stdin_pipe);
}

BOOST_AUTO_TEST_CASE(execute_null_means_absent) {
  auto p = exec_ok(R"("command":"ls","argv":null,"timeout":null,
                      "idle_timeout":null,"cwd":null,"env":null,"stdin":null,
                      "framing":null,"on_overflow":null)");
  BOOST_TEST(p.command.value() == "ls");
  BOOST_TEST(!p.timeout);
  BOOST_TEST(!p.cwd);
  auto q = exec_ok(R"("command":null,"argv":["ls"])");
  BOOST_TEST(!q.command);
  BOOST_TEST(q.argv.size() == 1u);
}

BOOST_AUTO_TEST_CASE(execute_needs_exactly_one_of_command_and_argv) {
  const auto msg = "exactly one of 'command' or 'argv' is required"s;
  invalid_exec(R"("command":"ls","argv":["ls"])", msg);
  invalid_exec(R"("timeout":1)", msg);
  invalid_exec("", msg);
  invalid_exec(R"("command":null)", msg);
  err(R"({"id":1,"method":"execute"})", -32602, "Invalid params: " + msg);
}

BOOST_AUTO_TEST_CASE(execute_command_type) {
  for (auto v : {"1", "true", "[\"ls\"]", "{}"})
    invalid_exec(R"("command":)" + std::string{v},
                 "'command' must be a string");
}

BOOST_AUTO_TEST_CASE(execute_argv_type) {
  const auto msg = "'argv' must be a non-empty array of strings"s;
  for (auto v : {"[]", "\"ls\"", "[1]", "[\"ls\",2]", "[null]", "{}", "7"})
    invalid_exec(R"("argv":)" + std::string{v}, msg);
}

BOOST_AUTO_TEST_CASE(execute_blank_command_is_not_allowed) {
  for (auto v : {R"("")", R"(" ")", R"("\t\n  \r")"})
    exec_err(R"("command":)" + std::string{v}, -32001,
             "Command cannot be empty");
  exec_err(R"("argv":[""])", -32001, "Command cannot be empty");
  exec_err(R"("argv":["","x"])", -32001, "Command cannot be empty");
  // Only argv[0] matters; empty arguments are fine.
  BOOST_TEST(exec_ok(R"("argv":["echo",""])").argv.size() == 2u);
}

BOOST_AUTO_TEST_CASE(execute_type_errors_come_before_emptiness) {
  invalid_exec(R"("command":"","timeout":-1)",
               "'timeout' must be a positive number");
}

BOOST_AUTO_TEST_CASE(execute_timeouts) {
  BOOST_TEST(exec_ok(R"("command":"x","timeout":1)").timeout.value() == 1.0);
  BOOST_TEST(exec_ok(R"("command":"x","timeout":0.001)").timeout.value() ==
             0.001);
  BOOST_TEST(exec_ok(R"("command":"x","timeout":1e3)").timeout.value() ==
             1000.0);
  for (auto key : {"timeout", "idle_timeout"}) {
    for (auto v :
         {"0", "-1", "-0.5", "0.0", "\"10\"", "true", "[]", "{}", "1e999"}) {
      invalid_exec(R"("command":"x",")" + std::string{key} + "\":" + v,
                   "'" + std::string{key} + "' must be a positive number");
    }
  }
}

// Beyond 1e9 s the clocks' nanoseconds overflowed: 1e10, 1e19 and 1e300
// killed the process at once (issue 25, item 8).
BOOST_AUTO_TEST_CASE(execute_timeouts_have_a_maximum) {
  for (auto key : {"timeout"s, "idle_timeout"s}) {
    auto params = R"("command":"x",")" + key + "\":";
    for (auto v : {"1e10", "1e19", "1e300", "9.2e9", "1000000000.5",
                   "18446744073709551615", "100000000000000000000000"})
      invalid_exec(params + v,
                   "'" + key + "' must be at most 1000000000 seconds");
    auto at_most = exec_ok(params + "1000000000");
    BOOST_TEST(
        (key == "timeout" ? at_most.timeout : at_most.idle_timeout).value() ==
        1e9);
  }
}

BOOST_AUTO_TEST_CASE(execute_cwd) {
  for (auto v : {"1", "[]", "{}", "false"})
    invalid_exec(R"("command":"x","cwd":)" + std::string{v},
                 "'cwd' must be a string");
  invalid_exec(R"("command":"x","cwd":"/tm\u0000p")",
               "'cwd' must not contain NUL characters");
}

BOOST_AUTO_TEST_CASE(execute_env) {
  const auto msg = "'env' must be an object of strings"s;
  for (auto v : {"[]", "\"A=1\"", "{\"A\":1}", "{\"A\":\"1\",\"B\":null}",
                 "{\"A\":[]}", "7"})
    invalid_exec(R"("command":"x","env":)" + std::string{v}, msg);
  const auto names = "'env' names must be non-empty and contain no '=', and "
                     "no name or value may contain NUL"s;
  invalid_exec(R"("command":"x","env":{"":"1"})", names);
  invalid_exec(R"("command":"x","env":{"A=B":"1"})", names);
  invalid_exec(R"("command":"x","env":{"A":"1\u0000"})", names);
  invalid_exec(R"("command":"x","env":{"A\u0000":"1"})", names);
  auto p = exec_ok(R"("command":"x","env":{"V":"a=b c\nd"})");
  BOOST_TEST(p.env.at(0).second == "a=b c\nd");
}

BOOST_AUTO_TEST_CASE(execute_nul_in_command_or_argv) {
  invalid_exec(R"("command":"ls\u0000 -la")",
               "'command' must not contain NUL characters");
  invalid_exec(R"("argv":["ls","\u0000"])",
               "'argv' must not contain NUL characters");
}

BOOST_AUTO_TEST_CASE(execute_stdin) {
  for (auto v : {"1", "\"true\"", "[]"})
    invalid_exec(R"("command":"x","stdin":)" + std::string{v},
                 "'stdin' must be a boolean");
}

BOOST_AUTO_TEST_CASE(execute_framing_and_overflow) {
  for (auto v : {"\"line\"", "\"LINES\"", "\"\"", "1", "true"})
    invalid_exec(R"("command":"x","framing":)" + std::string{v},
                 R"('framing' must be "lines" or "chunks")");
  for (auto v : {"\"drop\"", "\"Block\"", "0", "[]"})
    invalid_exec(R"("command":"x","on_overflow":)" + std::string{v},
                 R"('on_overflow' must be "block" or "drop_oldest")");
}

BOOST_AUTO_TEST_CASE(execute_reports_the_first_bad_param) {
  invalid_exec(R"("command":"x","stdin":1,"timeout":"x")",
               "'timeout' must be a positive number");
}

BOOST_AUTO_TEST_CASE(execute_keeps_unicode_commands) {
  auto p = exec_ok(R"("command":"echo \u00e9 \ud83d\ude00")");
  BOOST_TEST(*p.command == "echo \xC3\xA9 \xF0\x9F\x98\x80");
}

// -- control
// -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(control_types_any_case) {
  struct example {
    const char* type;
    control_type expected;
  };
  for (auto ex : {example{"PAUSE", control_type::pause},
                  example{"pause", control_type::pause},
                  example{"Pause", control_type::pause},
                  example{"RESUME", control_type::resume},
                  example{"resume", control_type::resume},
                  example{"CANCEL", control_type::cancel},
                  example{"cancel", control_type::cancel},
                  example{"cAnCeL", control_type::cancel}}) {
    auto req =
        ok(with_params("control", R"("type":")" + std::string{ex.type} + "\""));
    BOOST_TEST((std::get<control_params>(req.params).type == ex.expected));
  }
}

BOOST_AUTO_TEST_CASE(control_bad_type) {
  const auto msg = "Invalid params: 'type' must be PAUSE, RESUME or CANCEL"s;
  for (auto v :
       {R"("type":"STOP")", R"("type":"")", R"("type":1)", R"("type":null)",
        R"("type":["PAUSE"])", "", R"("type":"PAUSE ")", R"("type":"kill")"}) {
    auto r = err(with_params("control", v), -32602, msg);
    BOOST_TEST(r.id->get_string() == "x");
  }
  err(R"({"id":1,"method":"control"})", -32602, msg);
}

// -- input
// ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(input_utf8) {
  auto p = std::get<input_params>(
      ok(with_params("input", R"("data":"hello\n")")).params);
  BOOST_TEST(p.data == "hello\n");
  BOOST_TEST(!p.eof);
  p = std::get<input_params>(
      ok(with_params("input", R"("data":"x","encoding":"utf8","eof":false)"))
          .params);
  BOOST_TEST(p.data == "x");
}

BOOST_AUTO_TEST_CASE(input_base64_is_decoded) {
  auto p = std::get<input_params>(
      ok(with_params("input", R"("data":"AP8K","encoding":"base64")")).params);
  BOOST_TEST(p.data == "\x00\xFF\n"s);
}

BOOST_AUTO_TEST_CASE(input_empty_data_with_eof) {
  auto p = std::get<input_params>(
      ok(with_params("input", R"("data":"","eof":true)")).params);
  BOOST_TEST(p.data.empty());
  BOOST_TEST(p.eof);
  p = std::get<input_params>(
      ok(with_params("input", R"("data":"","encoding":"base64","eof":true)"))
          .params);
  BOOST_TEST(p.data.empty());
}

BOOST_AUTO_TEST_CASE(input_errors) {
  auto bad = [](const std::string& members, const std::string& what) {
    err(with_params("input", members), -32602, "Invalid params: " + what);
  };
  bad("", "'data' must be a string");
  bad(R"("eof":true)", "'data' must be a string");
  bad(R"("data":null)", "'data' must be a string");
  bad(R"("data":5)", "'data' must be a string");
  bad(R"("data":["a"])", "'data' must be a string");
  bad(R"("data":"a","encoding":"hex")",
      R"('encoding' must be "utf8" or "base64")");
  bad(R"("data":"a","encoding":1)", R"('encoding' must be "utf8" or "base64")");
  bad(R"("data":"a","eof":"yes")", "'eof' must be a boolean");
  bad(R"("data":"not base64!","encoding":"base64")",
      "'data' is not valid base64");
  bad(R"("data":"AP8","encoding":"base64")", "'data' is not valid base64");
}

// -- ack and resume
// ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(ack_seq) {
  auto seq = [](const std::string& v) {
    return std::get<ack_params>(
               ok(R"({"method":"ack","params":{"seq":)" + v + "}}").params)
        .seq;
  };
  BOOST_TEST(seq("0") == 0u);
  BOOST_TEST(seq("17") == 17u);
  BOOST_TEST(seq("18446744073709551615") == 18446744073709551615ull);
  const auto msg = "Invalid params: 'seq' must be a non-negative integer"s;
  for (auto v : {"-1", "1.5", "2.0", "\"3\"", "null", "true", "[]"})
    err(R"({"method":"ack","params":{"seq":)" + std::string{v} + "}}", -32602,
        msg);
  err(R"({"method":"ack","params":{}})", -32602, msg);
  err(R"({"method":"ack"})", -32602, msg);
}

BOOST_AUTO_TEST_CASE(resume_params_decoded) {
  auto p = std::get<resume_params>(
      ok(with_params(
             "resume",
             R"("session_id":"s-1","resume_token":"t0k","last_seq":12)"))
          .params);
  BOOST_TEST(p.session_id == "s-1");
  BOOST_TEST(p.resume_token == "t0k");
  BOOST_TEST(p.last_seq == 12u);
  p = std::get<resume_params>(
      ok(with_params("resume", R"("session_id":"s","resume_token":"t")"))
          .params);
  BOOST_TEST(p.last_seq == 0u);
}

BOOST_AUTO_TEST_CASE(resume_errors) {
  auto bad = [](const std::string& members, const std::string& what) {
    err(with_params("resume", members), -32602, "Invalid params: " + what);
  };
  bad(R"("resume_token":"t")", "'session_id' must be a string");
  bad(R"("session_id":1,"resume_token":"t")", "'session_id' must be a string");
  bad(R"("session_id":"s")", "'resume_token' must be a string");
  bad(R"("session_id":"s","resume_token":["t"])",
      "'resume_token' must be a string");
  bad(R"("session_id":"s","resume_token":"t","last_seq":-1)",
      "'last_seq' must be a non-negative integer");
  bad(R"("session_id":"s","resume_token":"t","last_seq":"5")",
      "'last_seq' must be a non-negative integer");
  bad(R"("session_id":"s","resume_token":"t","last_seq":0.5)",
      "'last_seq' must be a non-negative integer");
}

// -- robustness
// ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(never_throws_on_odd_input) {
  std::vector<std::string> frames{
      "\0"s,
      std::string(100000, '{'),
      std::string(1 << 20, ' '),
      R"({"id":1,"method":"execute","params":{"command":")" +
          std::string(1 << 20, 'a') + "\"}}",
      R"({"id":1,"id":2,"method":"ping"})",
      R"({"id":1,"method":"ping","method":"status"})",
      "\xEF\xBB\xBF{\"id\":1,\"method\":\"ping\"}",
  };
  for (const auto& f : frames)
    BOOST_CHECK_NO_THROW(decode(f));
}

BOOST_AUTO_TEST_SUITE_END()

// Issue 26: a misspelt param is named, not silently lost.
BOOST_AUTO_TEST_CASE(unknown_params_are_listed_in_order) {
  auto r = ok(R"({"jsonrpc":"2.0","id":1,"method":"execute","params":)"
              R"({"command":"true","timout":0.1,"cwd":null,"x":[1]}})");
  BOOST_TEST(r.unknown_params == (std::vector<std::string>{"timout", "x"}));
  auto known = ok(R"({"id":2,"method":"execute","params":{"argv":["a"],)"
                  R"("timeout":1,"idle_timeout":1,"cwd":"/","env":{},)"
                  R"("stdin":true,"framing":"lines","on_overflow":"block"}})");
  BOOST_TEST(known.unknown_params.empty());
  BOOST_TEST(ok(R"({"id":3,"method":"input","params":{"data":"x","eof":true,)"
                R"("encoding":"utf8","extra":1}})")
                 .unknown_params == std::vector<std::string>{"extra"});
  BOOST_TEST(ok(R"({"id":4,"method":"ack","params":{"seq":1,"sq":2}})")
                 .unknown_params == std::vector<std::string>{"sq"});
  BOOST_TEST(ok(R"({"id":5,"method":"control","params":{"type":"PAUSE",)"
                R"("typ":1}})")
                 .unknown_params == std::vector<std::string>{"typ"});
  BOOST_TEST(ok(R"({"id":6,"method":"resume","params":{"session_id":"s",)"
                R"("resume_token":"t","last_seq":0,"lastseq":3}})")
                 .unknown_params == std::vector<std::string>{"lastseq"});
}

BOOST_AUTO_TEST_CASE(methods_without_params_have_none_unknown) {
  for (auto m : {"status", "detach", "ping", "pong", "hook_status"})
    BOOST_TEST(ok(R"({"id":1,"method":")"s + m + R"(","params":{"a":1}})")
                   .unknown_params.empty());
}
