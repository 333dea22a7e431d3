#include "protocol/mcp_message.hpp"

#include <exception>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace actorexec::protocol::mcp {

namespace json = boost::json;

std::string_view negotiate(std::string_view requested) {
  return supported(requested) ? requested : versions[0];
}

bool supported(std::string_view version) {
  for (auto v : versions)
    if (v == version)
      return true;
  return false;
}

namespace {

message invalid(error_code code, std::string text, request_id id = {}) {
  message m;
  m.error = make_error(code, std::move(text));
  m.id = std::move(id);
  return m;
}

/// Reads the envelope of an object: id, method, params (or result/error).
message classify(const json::object& obj) {
  request_id id;
  if (auto idv = obj.if_contains("id"); idv && !idv->is_null()) {
    if (!idv->is_string() && !idv->is_int64() && !idv->is_uint64())
      return invalid(error_code::invalid_request,
                     "Invalid request: 'id' must be a string or an integer");
    id = *idv;
  }
  if (auto ver = obj.if_contains("jsonrpc");
      !ver || !ver->is_string() || ver->get_string() != "2.0")
    return invalid(error_code::invalid_request,
                   R"(Invalid request: 'jsonrpc' must be "2.0")", id);
  message m;
  m.id = std::move(id);
  auto mv = obj.if_contains("method");
  if (mv == nullptr) {
    if (m.id && (obj.contains("result") || obj.contains("error"))) {
      m.kind = message_kind::response;
      return m;
    }
    return invalid(error_code::invalid_request,
                   "Invalid request: missing 'method'", m.id);
  }
  if (!mv->is_string())
    return invalid(error_code::invalid_request,
                   "Invalid request: 'method' must be a string", m.id);
  m.method = std::string{mv->get_string().data(), mv->get_string().size()};
  if (auto pv = obj.if_contains("params"); pv && !pv->is_null()) {
    if (!pv->is_object())
      return invalid(error_code::invalid_params,
                     "Invalid params: 'params' must be an object", m.id);
    m.params = pv->get_object();
  }
  m.kind = m.id ? message_kind::request : message_kind::notification;
  return m;
}

} // namespace

message decode(std::string_view text) {
  try {
    boost::system::error_code ec;
    auto v = json::parse(json::string_view{text.data(), text.size()}, ec);
    if (ec)
      return invalid(error_code::parse_error, "Parse error");
    if (v.is_array())
      return invalid(error_code::invalid_request,
                     "Invalid request: batches are not supported");
    if (!v.is_object())
      return invalid(error_code::invalid_request,
                     "Invalid request: expected a JSON object");
    return classify(v.get_object());
  } catch (const std::exception&) {
    return invalid(error_code::internal_error, "Internal error");
  }
}

boost::json::object initialize_result(std::string_view version,
                                      std::string_view server_version,
                                      bool with_tasks) {
  json::object caps{{"tools", json::object{{"listChanged", false}}},
                    {"logging", json::object{}}};
  if (with_tasks)
    caps["tasks"] = json::object{
        {"list", json::object{}},
        {"cancel", json::object{}},
        {"requests",
         json::object{{"tools", json::object{{"call", json::object{}}}}}}};
  return json::object{
      {"protocolVersion", version},
      {"capabilities", std::move(caps)},
      {"serverInfo",
       json::object{{"name", "actorexec"}, {"version", server_version}}},
      {"instructions",
       "Run shell commands on this host with run_command; it waits up to "
       "wait_s seconds and returns the first page of output with a cursor. "
       "Use read_output with that cursor for the rest of a long or still "
       "running process, send_input for its stdin, and signal_process to "
       "pause, resume or stop it."}};
}

std::string encode_result(const request_id& id, json::value result) {
  json::object out{{"jsonrpc", "2.0"}};
  if (id)
    out["id"] = *id;
  out["result"] = std::move(result);
  return json::serialize(out);
}

std::string encode_error(const request_id& id, const rpc_error& error) {
  json::object err{{"code", static_cast<int>(error.code)},
                   {"message", error.message}};
  if (!error.data.is_null())
    err["data"] = error.data;
  json::object out{{"jsonrpc", "2.0"}};
  out["id"] = id ? *id : json::value(nullptr);
  out["error"] = std::move(err);
  return json::serialize(out);
}

std::string encode_notification(std::string_view method, json::object params) {
  return json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
}

std::string encode_progress(const json::value& token, std::uint64_t progress,
                            std::string_view text) {
  json::object params{{"progressToken", token}, {"progress", progress}};
  if (!text.empty())
    params["message"] = text;
  return encode_notification("notifications/progress", std::move(params));
}

} // namespace actorexec::protocol::mcp
