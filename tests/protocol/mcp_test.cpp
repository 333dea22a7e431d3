#define BOOST_TEST_MODULE protocol_mcp
#include <boost/test/unit_test.hpp>

#include <boost/json.hpp>

#include "protocol/mcp_message.hpp"
#include "protocol/mcp_tools.hpp"

using namespace actorexec::protocol;
namespace json = boost::json;

namespace {

json::object obj(const char* text) {
  return json::parse(text).as_object();
}

std::variant<mcp::tool_call, rpc_error> call(const char* text) {
  return mcp::decode_tool_call(obj(text), request_limits{});
}

std::string error_of(const char* text) {
  auto r = call(text);
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<rpc_error>(r), text);
  BOOST_TEST(static_cast<int>(std::get<rpc_error>(r).code) == -32602);
  return std::get<rpc_error>(r).message;
}

} // namespace

BOOST_AUTO_TEST_CASE(versions_are_negotiated) {
  BOOST_TEST(mcp::negotiate("2025-06-18") == "2025-06-18");
  BOOST_TEST(mcp::negotiate("2025-03-26") == "2025-03-26");
  BOOST_TEST(mcp::negotiate("2024-11-05") == "2025-11-25");
  BOOST_TEST(mcp::negotiate("") == "2025-11-25");
  BOOST_TEST(mcp::supported("2025-11-25"));
  BOOST_TEST(!mcp::supported("1999-01-01"));
}

BOOST_AUTO_TEST_CASE(messages_are_classified) {
  auto req = mcp::decode(R"({"jsonrpc":"2.0","id":7,"method":"ping"})");
  BOOST_TEST((req.kind == mcp::message_kind::request));
  BOOST_TEST(req.id->as_int64() == 7);
  auto note =
      mcp::decode(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  BOOST_TEST((note.kind == mcp::message_kind::notification));
  auto resp = mcp::decode(R"({"jsonrpc":"2.0","id":"a","result":{}})");
  BOOST_TEST((resp.kind == mcp::message_kind::response));
  auto params = mcp::decode(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}})");
  BOOST_TEST(params.params.at("name").as_string() == "x");
}

BOOST_AUTO_TEST_CASE(invalid_messages_say_why) {
  struct {
    const char* text;
    int code;
  } cases[] = {
      {"{", -32700},
      {R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", -32600},
      {"42", -32600},
      {R"({"id":1,"method":"ping"})", -32600},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", -32600},
      {R"({"jsonrpc":"2.0","id":1})", -32600},
      {R"({"jsonrpc":"2.0","id":1,"method":3})", -32600},
      {R"({"jsonrpc":"2.0","id":1,"method":"x","params":[1]})", -32602},
  };
  for (auto& c : cases) {
    auto m = mcp::decode(c.text);
    BOOST_TEST_INFO(c.text);
    BOOST_REQUIRE(m.error.has_value());
    BOOST_TEST(static_cast<int>(m.error->code) == c.code);
  }
}

BOOST_AUTO_TEST_CASE(the_five_tools_are_described) {
  auto tools = mcp::tool_definitions();
  std::vector<std::string> names;
  for (auto& t : tools) {
    auto& o = t.as_object();
    names.emplace_back(o.at("name").as_string());
    BOOST_TEST(o.at("description").as_string().size() > 20u);
    BOOST_TEST(o.at("inputSchema").at("type").as_string() == "object");
    BOOST_TEST(o.at("inputSchema").at("additionalProperties").as_bool() ==
               false);
    BOOST_TEST(o.at("outputSchema").at("type").as_string() == "object");
    BOOST_TEST(o.at("annotations").is_object());
  }
  BOOST_TEST(names == (std::vector<std::string>{"run_command", "read_output",
                                                "send_input", "signal_process",
                                                "list_processes"}));
}

BOOST_AUTO_TEST_CASE(run_command_arguments) {
  auto r = call(R"({"name":"run_command","arguments":{"command":"ls -l",
      "cwd":"/tmp","env":{"A":"1"},"timeout_s":5,"wait_s":0,
      "max_output_bytes":100,"on_overflow":"drop_oldest","stdin":"in"},
      "_meta":{"progressToken":"p"}})");
  BOOST_REQUIRE(std::holds_alternative<mcp::tool_call>(r));
  auto& c = std::get<mcp::tool_call>(r);
  auto& a = std::get<mcp::run_command_args>(c.args);
  BOOST_TEST(*a.exec.command == "ls -l");
  BOOST_TEST(*a.exec.cwd == "/tmp");
  BOOST_TEST(*a.exec.timeout == 5.0);
  BOOST_TEST(a.wait_s == 0.0);
  BOOST_TEST(a.max_output_bytes == 100u);
  BOOST_TEST(*a.stdin_data == "in");
  BOOST_TEST(a.exec.stdin_pipe);
  BOOST_TEST((a.exec.framing == framing_mode::chunks));
  BOOST_TEST((a.exec.on_overflow == overflow_policy::drop_oldest));
  BOOST_TEST(c.progress_token->as_string() == "p");
  auto argv =
      call(R"({"name":"run_command","arguments":{"argv":["ls","-l"]}})");
  auto& b =
      std::get<mcp::run_command_args>(std::get<mcp::tool_call>(argv).args);
  BOOST_TEST(b.exec.argv.size() == 2u);
  BOOST_TEST(b.wait_s == 10.0);
  BOOST_TEST(b.max_output_bytes == 65536u);
}

BOOST_AUTO_TEST_CASE(bad_arguments_name_themselves) {
  BOOST_TEST(error_of(R"({"name":"nope"})") == "Unknown tool: nope");
  BOOST_TEST(error_of(R"({"name":"run_command","arguments":{"command":"x",
      "timout_s":1}})") == "Invalid arguments: unknown argument 'timout_s'");
  BOOST_TEST(error_of(R"({"name":"run_command","arguments":{"command":"x",
      "wait_s":-1}})") ==
             "Invalid arguments: 'wait_s' must be a number of seconds from 0 "
             "to 3600");
  BOOST_TEST(error_of(R"({"name":"run_command","arguments":{}})") ==
             "Invalid params: exactly one of 'command' or 'argv' is required");
  BOOST_TEST(error_of(R"({"name":"read_output","arguments":{}})") ==
             "Invalid arguments: 'process_id' is required (a string)");
  BOOST_TEST(
      error_of(R"({"name":"read_output","arguments":{
      "process_id":"p1","cursor":"zz"}})") ==
      "Invalid arguments: 'cursor' is not a cursor this server gave out");
  BOOST_TEST(error_of(R"({"name":"signal_process","arguments":{
      "process_id":"p1","action":"explode"}})")
                 .find("'action' must be") != std::string::npos);
  BOOST_TEST(error_of(R"({"name":"send_input","arguments":{
      "process_id":"p1","data":5}})") ==
             "Invalid arguments: 'data' must be a string");
  BOOST_TEST(error_of(R"({"name":"run_command","arguments":"x"})") ==
             "Invalid params: 'arguments' must be an object");
}

BOOST_AUTO_TEST_CASE(cursors_round_trip_and_refuse_forgeries) {
  for (std::uint64_t n : {0ull, 1ull, 65536ull, 18446744073709551615ull})
    BOOST_TEST(mcp::decode_cursor(mcp::encode_cursor(n)).value() == n);
  for (auto bad : {"", "o", "x1", "o1x", "o-1", "o99999999999999999999999"})
    BOOST_TEST(!mcp::decode_cursor(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_goes_as_base64_never_replaced) {
  auto ok = mcp::render_bytes("h\xc3\xa9llo");
  BOOST_TEST(!ok.base64);
  BOOST_TEST(ok.text == "h\xc3\xa9llo");
  auto bad = mcp::render_bytes(std::string{"\xff\xfe\x00x", 4});
  BOOST_TEST(bad.base64);
  BOOST_TEST(bad.text == "//4AeA==");
}

BOOST_AUTO_TEST_CASE(results_render_for_a_model) {
  json::object s{{"process_id", "p1"},  {"pid", 5},
                 {"status", "running"}, {"exit_code", nullptr},
                 {"signal", nullptr},   {"stdout", "a\n"},
                 {"stderr", ""},        {"cursor", "o2"},
                 {"truncated", false},  {"dropped_bytes", 0}};
  auto text = mcp::render_output_text(s);
  BOOST_TEST(text.find("process p1 (pid 5): running") == 0u);
  BOOST_TEST(text.find("stdout:\na\n") != std::string::npos);
  BOOST_TEST(text.find("read_output with cursor \"o2\"") != std::string::npos);
  auto r = mcp::tool_result(s, text);
  BOOST_TEST(r.at("content").as_array().size() == 1u);
  BOOST_TEST(!r.contains("isError"));
  BOOST_TEST(mcp::tool_error("no").at("isError").as_bool());
}
