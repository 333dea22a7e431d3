#include "protocol/messages.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "protocol/base64.hpp"
#include "protocol/errors.hpp"
#include "protocol/params_reader.hpp"

namespace json = boost::json;

namespace actorexec::protocol {

rpc_error make_error(error_code code, std::string message) {
  return rpc_error{code, std::move(message), nullptr};
}

const char* to_string(stream_kind kind) {
  return kind == stream_kind::out ? "stdout" : "stderr";
}

namespace {

std::string to_std(const json::string& s) {
  return {s.data(), s.size()};
}

std::string_view view_of(const json::string& s) {
  return {s.data(), s.size()};
}

/// Whether `s` holds a NUL byte, which the exec layer would silently
/// truncate at.
bool has_nul(std::string_view s) {
  return s.find('\0') != s.npos;
}

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\n\r\v\f") == s.npos;
}

std::vector<std::string> parse_argv(params_reader& r, const json::value& v) {
  constexpr auto err = "'argv' must be a non-empty array of strings";
  auto arr = v.if_array();
  if (arr == nullptr || arr->empty()) {
    r.invalid(err);
    return {};
  }
  std::vector<std::string> argv;
  argv.reserve(arr->size());
  for (const auto& x : *arr) {
    if (!x.is_string()) {
      r.invalid(err);
      return {};
    }
    argv.push_back(to_std(x.get_string()));
    if (has_nul(argv.back()))
      r.invalid("'argv' must not contain NUL characters");
  }
  return argv;
}

std::vector<std::pair<std::string, std::string>>
parse_env(params_reader& r, const json::value& v) {
  constexpr auto err = "'env' must be an object of strings";
  auto obj = v.if_object();
  if (obj == nullptr) {
    r.invalid(err);
    return {};
  }
  std::vector<std::pair<std::string, std::string>> env;
  env.reserve(obj->size());
  for (const auto& kv : *obj) {
    if (!kv.value().is_string()) {
      r.invalid(err);
      return {};
    }
    std::string_view name{kv.key().data(), kv.key().size()};
    auto value = view_of(kv.value().get_string());
    // execve() cannot express these; refuse rather than pass a mangled name.
    if (name.empty() || name.find('=') != name.npos || has_nul(name) ||
        has_nul(value))
      r.invalid("'env' names must be non-empty and contain no '=', and no "
                "name or value may contain NUL");
    env.emplace_back(std::string{name}, std::string{value});
  }
  return env;
}

execute_params parse_execute(params_reader& r) {
  execute_params p;
  auto command = r.find("command");
  auto argv = r.find("argv");
  if ((command == nullptr) == (argv == nullptr))
    r.invalid("exactly one of 'command' or 'argv' is required");
  else if (command != nullptr)
    p.command = r.string("command");
  else
    p.argv = parse_argv(r, *argv);
  if (p.command && has_nul(*p.command))
    r.invalid("'command' must not contain NUL characters");
  p.timeout = r.seconds("timeout");
  p.idle_timeout = r.seconds("idle_timeout");
  p.cwd = r.string("cwd");
  if (p.cwd && has_nul(*p.cwd))
    r.invalid("'cwd' must not contain NUL characters");
  if (auto env = r.find("env"))
    p.env = parse_env(r, *env);
  p.stdin_pipe = r.boolean("stdin").value_or(false);
  if (r.choice("framing", "lines", "chunks").value_or(0) == 1)
    p.framing = framing_mode::chunks;
  if (r.choice("on_overflow", "block", "drop_oldest").value_or(0) == 1)
    p.on_overflow = overflow_policy::drop_oldest;
  // Checked last: the params are well-formed, the command is just empty.
  if ((p.command && is_blank(*p.command)) ||
      (!p.argv.empty() && p.argv.front().empty()))
    r.fail(error_code::command_not_allowed, "Command cannot be empty");
  return p;
}

/// Case-insensitive comparison against an uppercase ASCII keyword.
bool equals_upper(std::string_view s, std::string_view keyword) {
  if (s.size() != keyword.size())
    return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
    if (c != keyword[i])
      return false;
  }
  return true;
}

control_params parse_control(params_reader& r) {
  auto type = r.find("type");
  if (type != nullptr && type->is_string()) {
    auto s = view_of(type->get_string());
    if (equals_upper(s, "PAUSE"))
      return {control_type::pause};
    if (equals_upper(s, "RESUME"))
      return {control_type::resume};
    if (equals_upper(s, "CANCEL"))
      return {control_type::cancel};
  }
  r.invalid("'type' must be PAUSE, RESUME or CANCEL");
  return {};
}

input_params parse_input(params_reader& r) {
  input_params p;
  auto data = r.required_string("data");
  p.eof = r.boolean("eof").value_or(false);
  auto base64 = r.choice("encoding", "utf8", "base64").value_or(0) == 1;
  if (!data || r.error)
    return p;
  if (!base64) {
    p.data = std::move(*data);
  } else if (auto bytes = base64_decode(*data)) {
    p.data = std::move(*bytes);
  } else {
    r.invalid("'data' is not valid base64");
  }
  return p;
}

ack_params parse_ack(params_reader& r) {
  return {r.required_count("seq").value_or(0)};
}

resume_params parse_resume(params_reader& r) {
  resume_params p;
  p.session_id = r.required_string("session_id").value_or(std::string{});
  p.resume_token = r.required_string("resume_token").value_or(std::string{});
  p.last_seq = r.count("last_seq").value_or(0);
  return p;
}

/// A known method. `needs_object` is false for the methods whose params
/// are ignored: any value is accepted there, as old clients may send
/// whatever they like with `pong` or `hook_status`.
struct method_entry {
  std::string_view name;
  bool needs_object;
  request_params (*parse)(params_reader&);
};

template <auto Parse>
request_params parse_as(params_reader& r) {
  return Parse(r);
}

template <class T>
request_params no_params(params_reader&) {
  return T{};
}

constexpr method_entry methods[] = {
    {"execute", true, parse_as<parse_execute>},
    {"control", true, parse_as<parse_control>},
    {"input", true, parse_as<parse_input>},
    {"status", false, no_params<status_params>},
    {"ack", true, parse_as<parse_ack>},
    {"resume", true, parse_as<parse_resume>},
    {"detach", false, no_params<detach_params>},
    {"ping", false, no_params<ping_params>},
    {"pong", false, no_params<pong_params>},
    {"hook_status", false, no_params<hook_status_params>},
};

const method_entry* find_method(std::string_view name) {
  for (const auto& m : methods)
    if (m.name == name)
      return &m;
  return nullptr;
}

decode_result error_result(request_id id, error_code code,
                           std::string message) {
  decode_result r;
  r.error = make_error(code, std::move(message));
  r.id = std::move(id);
  return r;
}

/// Checks the envelope: id, jsonrpc and method. Returns the method's entry,
/// or nullptr with `out` already holding the outcome.
const method_entry* check_envelope(const json::object& obj,
                                   decode_result& out) {
  // The id first, so that every later error can echo it.
  if (auto idv = obj.if_contains("id")) {
    if (!idv->is_string() && !idv->is_int64() && !idv->is_uint64()) {
      out = error_result(std::nullopt, error_code::invalid_request,
                         "Invalid request: 'id' must be a string or an "
                         "integer");
      return nullptr;
    }
    out.id = *idv;
  }
  auto reject = [&](const char* message) {
    out.error = make_error(error_code::invalid_request, message);
    return nullptr;
  };
  // Lenient: clients of the original service may omit `jsonrpc`.
  if (auto ver = obj.if_contains("jsonrpc"))
    if (!ver->is_string() || ver->get_string() != "2.0")
      return reject(R"(Invalid request: 'jsonrpc' must be "2.0")");
  auto mv = obj.if_contains("method");
  if (mv == nullptr)
    return reject("Invalid request: missing 'method'");
  if (!mv->is_string())
    return reject("Invalid request: 'method' must be a string");
  auto name = view_of(mv->get_string());
  if (auto entry = find_method(name))
    return entry;
  if (out.id)
    out.error = make_error(error_code::method_not_found,
                           "Unknown method: " + std::string{name});
  else
    out.ignore = true; // spec section 2: unknown notifications are ignored
  return nullptr;
}

/// Decodes a parsed frame; may throw only std::bad_alloc.
decode_result decode_value(const json::value& v) {
  if (v.is_array())
    return error_result(std::nullopt, error_code::invalid_request,
                        "Invalid request: batch requests are not supported");
  auto obj = v.if_object();
  if (obj == nullptr)
    return error_result(std::nullopt, error_code::invalid_request,
                        "Invalid request: expected a JSON object");
  decode_result out;
  auto entry = check_envelope(*obj, out);
  if (entry == nullptr)
    return out;
  static const json::object no_members;
  const json::object* params = &no_members;
  if (auto pv = obj->if_contains("params"); pv && !pv->is_null()) {
    if (pv->is_object())
      params = &pv->get_object();
    else if (entry->needs_object)
      return error_result(std::move(out.id), error_code::invalid_params,
                          "Invalid params: 'params' must be an object");
  }
  params_reader reader{*params};
  auto parsed = entry->parse(reader);
  if (reader.error)
    out.error = std::move(reader.error);
  else
    out.req = request{out.id, std::string{entry->name}, std::move(parsed),
                      entry->needs_object ? reader.unknown()
                                          : std::vector<std::string>{}};
  return out;
}

} // namespace

decode_result decode(std::string_view text) {
  try {
    boost::system::error_code ec;
    auto v = json::parse(json::string_view{text.data(), text.size()}, ec);
    if (ec)
      return error_result(std::nullopt, error_code::parse_error, "Parse error");
    return decode_value(v);
  } catch (const std::exception&) {
    // Only allocation failure can get here; answer rather than crash.
    return error_result(std::nullopt, error_code::internal_error,
                        "Internal error");
  }
}

std::optional<rpc_error> decode_execute(const json::object& params,
                                        execute_params& out,
                                        std::vector<std::string>* unknown) {
  params_reader reader{params};
  out = parse_execute(reader);
  if (unknown)
    *unknown = reader.unknown();
  return reader.error;
}

} // namespace actorexec::protocol
