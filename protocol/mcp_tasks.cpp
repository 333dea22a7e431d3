#include "protocol/mcp_tasks.hpp"

#include <charconv>

namespace actorexec::protocol::mcp {

namespace json = boost::json;

std::string_view to_string(task_status s) {
  switch (s) {
  case task_status::working:
    return "working";
  case task_status::completed:
    return "completed";
  case task_status::failed:
    return "failed";
  default:
    return "cancelled";
  }
}

json::object task_object(const task_view& t) {
  json::object out{{"taskId", t.id},
                   {"status", to_string(t.status)},
                   {"createdAt", t.created_at},
                   {"lastUpdatedAt", t.updated_at},
                   {"ttl", t.ttl_ms},
                   {"pollInterval", t.poll_ms}};
  if (!t.status_message.empty())
    out["statusMessage"] = t.status_message;
  return out;
}

std::variant<std::string, rpc_error>
decode_task_id(const json::object& params) {
  auto v = params.if_contains("taskId");
  if (v == nullptr || !v->is_string())
    return make_error(error_code::invalid_params,
                      "Invalid params: 'taskId' must be a string");
  return std::string{v->get_string().data(), v->get_string().size()};
}

std::variant<std::uint64_t, rpc_error>
decode_task_cursor(const json::object& params) {
  auto v = params.if_contains("cursor");
  if (v == nullptr || v->is_null())
    return std::uint64_t{0};
  auto bad = make_error(error_code::invalid_params,
                        "Invalid params: 'cursor' is not a cursor this "
                        "server gave out");
  if (!v->is_string())
    return bad;
  auto s = v->get_string();
  std::uint64_t n = 0;
  if (s.size() < 2 || s.front() != 't')
    return bad;
  auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size())
    return bad;
  return n;
}

std::string encode_task_cursor(std::uint64_t from) {
  return "t" + std::to_string(from);
}

void relate_to_task(json::object& result, std::string_view task_id) {
  auto& meta = result["_meta"];
  if (!meta.is_object())
    meta = json::object{};
  meta.get_object()["io.modelcontextprotocol/related-task"] =
      json::object{{"taskId", task_id}};
}

rpc_error unknown_task(std::string_view task_id) {
  return make_error(error_code::invalid_params,
                    "Failed to retrieve task: no task '" +
                        std::string{task_id} +
                        "' in this session (never created, or its ttl "
                        "passed)");
}

} // namespace actorexec::protocol::mcp
