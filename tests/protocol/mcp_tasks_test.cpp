#define BOOST_TEST_MODULE protocol_mcp_tasks
#include <boost/test/unit_test.hpp>

#include <boost/json.hpp>

#include "protocol/mcp_message.hpp"
#include "protocol/mcp_tasks.hpp"
#include "protocol/mcp_tools.hpp"

using namespace actorexec::protocol;
namespace json = boost::json;

namespace {

json::object obj(const char* text) {
  return json::parse(text).as_object();
}

int code_of(const std::variant<mcp::tool_call, rpc_error>& r) {
  BOOST_REQUIRE(std::holds_alternative<rpc_error>(r));
  return static_cast<int>(std::get<rpc_error>(r).code);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_task_field_makes_run_command_a_task) {
  auto r = mcp::decode_tool_call(
      obj(R"({"name": "run_command", "arguments": {"command": "true"},
              "task": {"ttl": 60000}})"),
      request_limits{});
  BOOST_REQUIRE(std::holds_alternative<mcp::tool_call>(r));
  auto& call = std::get<mcp::tool_call>(r);
  BOOST_REQUIRE(call.task.has_value());
  BOOST_TEST(call.task->ttl_ms.value() == 60000u);
  r = mcp::decode_tool_call(
      obj(R"({"name": "run_command", "arguments": {"command": "true"},
              "task": {}})"),
      request_limits{});
  BOOST_REQUIRE(std::holds_alternative<mcp::tool_call>(r));
  BOOST_TEST(!std::get<mcp::tool_call>(r).task->ttl_ms.has_value());
  r = mcp::decode_tool_call(
      obj(R"({"name": "run_command", "arguments": {"command": "true"}})"),
      request_limits{});
  BOOST_TEST(!std::get<mcp::tool_call>(r).task.has_value());
}

BOOST_AUTO_TEST_CASE(bad_task_fields_get_the_spec_errors) {
  // taskSupport forbidden (absent) on the other tools: -32601.
  BOOST_TEST(code_of(mcp::decode_tool_call(
                 obj(R"({"name": "list_processes", "task": {}})"),
                 request_limits{})) == -32601);
  BOOST_TEST(code_of(mcp::decode_tool_call(
                 obj(R"({"name": "run_command", "arguments": {"command":
                 "true"}, "task": 5})"),
                 request_limits{})) == -32602);
  BOOST_TEST(code_of(mcp::decode_tool_call(
                 obj(R"({"name": "run_command", "arguments": {"command":
                 "true"}, "task": {"ttl": -1}})"),
                 request_limits{})) == -32602);
}

BOOST_AUTO_TEST_CASE(run_command_alone_declares_task_support) {
  auto tools = mcp::tool_definitions();
  for (auto& t : tools) {
    auto& o = t.as_object();
    if (o.at("name") == "run_command")
      BOOST_TEST(json::serialize(o.at("execution")) ==
                 R"({"taskSupport":"optional"})");
    else
      BOOST_TEST(!o.contains("execution"));
  }
}

BOOST_AUTO_TEST_CASE(the_capability_is_the_spec_shape) {
  auto init = mcp::initialize_result("2025-11-25", "1", true);
  BOOST_TEST(json::serialize(init.at("capabilities").at("tasks")) ==
             R"({"list":{},"cancel":{},"requests":{"tools":{"call":{}}}})");
  init = mcp::initialize_result("2025-06-18", "1", false);
  BOOST_TEST(!init.at("capabilities").as_object().contains("tasks"));
}

BOOST_AUTO_TEST_CASE(a_task_renders_every_field_the_spec_requires) {
  mcp::task_view t{"id1",
                   mcp::task_status::failed,
                   "exited with code 3",
                   "2026-01-01T00:00:00Z",
                   "2026-01-01T00:00:01Z",
                   5000,
                   1000};
  BOOST_TEST(json::serialize(mcp::task_object(t)) ==
             R"({"taskId":"id1","status":"failed",)"
             R"("createdAt":"2026-01-01T00:00:00Z",)"
             R"("lastUpdatedAt":"2026-01-01T00:00:01Z","ttl":5000,)"
             R"("pollInterval":1000,"statusMessage":"exited with code 3"})");
  t.status_message.clear();
  BOOST_TEST(!mcp::task_object(t).contains("statusMessage"));
  BOOST_TEST(mcp::terminal(mcp::task_status::cancelled));
  BOOST_TEST(!mcp::terminal(mcp::task_status::working));
}

BOOST_AUTO_TEST_CASE(task_ids_and_cursors_are_checked) {
  auto id = mcp::decode_task_id(obj(R"({"taskId": "abc"})"));
  BOOST_TEST(std::get<std::string>(id) == "abc");
  BOOST_TEST(std::holds_alternative<rpc_error>(
      mcp::decode_task_id(obj(R"({"taskId": 5})"))));
  BOOST_TEST(std::holds_alternative<rpc_error>(mcp::decode_task_id({})));
  BOOST_TEST(std::get<std::uint64_t>(mcp::decode_task_cursor({})) == 0u);
  json::object p{{"cursor", mcp::encode_task_cursor(21)}};
  BOOST_TEST(std::get<std::uint64_t>(mcp::decode_task_cursor(p)) == 21u);
  for (auto bad : {R"({"cursor": "x1"})", R"({"cursor": "t"})",
                   R"({"cursor": "t1x"})", R"({"cursor": 3})"})
    BOOST_TEST(
        std::holds_alternative<rpc_error>(mcp::decode_task_cursor(obj(bad))),
        bad);
}

BOOST_AUTO_TEST_CASE(a_result_is_related_to_its_task) {
  json::object result{{"content", json::array{}}};
  mcp::relate_to_task(result, "t-1");
  BOOST_TEST(json::serialize(result.at("_meta")) ==
             R"({"io.modelcontextprotocol/related-task":{"taskId":"t-1"}})");
  BOOST_TEST(static_cast<int>(mcp::unknown_task("x").code) == -32602);
}
