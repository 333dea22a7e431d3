#include "protocol/mcp_tools.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/base64.hpp"
#include "protocol/limits.hpp"
#include "protocol/utf8.hpp"

namespace actorexec::protocol::mcp {

namespace json = boost::json;

namespace {

// -- arguments
// ------------------------------------------------------------------

/// Reads a tool's arguments; records the first error (-32602 naming the
/// argument) and which arguments were read.
class arg_reader {
public:
  explicit arg_reader(const json::object& args) : args_(args) {}

  std::optional<rpc_error> error;

  void invalid(std::string what) {
    if (!error)
      error = make_error(error_code::invalid_params,
                         "Invalid arguments: " + std::move(what));
  }

  const json::value* find(std::string_view key) {
    known_.push_back(key);
    auto v = args_.if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  std::optional<std::string> string(std::string_view key) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    if (!v->is_string()) {
      invalid("'" + std::string{key} + "' must be a string");
      return std::nullopt;
    }
    return std::string{v->get_string().data(), v->get_string().size()};
  }

  std::string required_string(std::string_view key) {
    auto s = string(key);
    if (!s)
      invalid("'" + std::string{key} + "' is required (a string)");
    return s.value_or(std::string{});
  }

  std::optional<bool> boolean(std::string_view key) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    if (!v->is_bool()) {
      invalid("'" + std::string{key} + "' must be a boolean");
      return std::nullopt;
    }
    return v->get_bool();
  }

  /// A number of seconds from 0 (if `zero_ok`) up to `max`.
  std::optional<double> seconds(std::string_view key, bool zero_ok,
                                double max) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    boost::system::error_code ec;
    auto d = v->to_number<double>(ec);
    if (ec || !std::isfinite(d) || d < 0 || (d == 0 && !zero_ok) || d > max) {
      invalid("'" + std::string{key} + "' must be a number of seconds " +
              (zero_ok ? "from 0" : "above 0") + " to " +
              std::to_string(static_cast<std::uint64_t>(max)));
      return std::nullopt;
    }
    return d;
  }

  /// A positive integer up to `max`.
  std::optional<std::uint64_t> count(std::string_view key, std::uint64_t max) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    std::uint64_t n = 0;
    if (v->is_uint64())
      n = v->get_uint64();
    else if (v->is_int64() && v->get_int64() > 0)
      n = static_cast<std::uint64_t>(v->get_int64());
    if (n == 0 || n > max) {
      invalid("'" + std::string{key} + "' must be an integer from 1 to " +
              std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  /// Refuses arguments no lookup asked for (the schemas say
  /// additionalProperties false: a misspelt `timout_s` must not pass).
  void no_others() {
    for (auto& kv : args_) {
      std::string_view key{kv.key().data(), kv.key().size()};
      if (std::find(known_.begin(), known_.end(), key) == known_.end())
        return invalid("unknown argument '" + std::string{key} + "'");
    }
  }

private:
  const json::object& args_;
  std::vector<std::string_view> known_;
};

/// The longest wait a call may ask for: an hour (a client holds a request
/// open meanwhile; longer waits are a loop of read_output calls).
constexpr double max_wait_s = 3600;

/// The largest page: 16 MiB.
constexpr std::uint64_t max_page_bytes = 16 << 20;

run_command_args run_command(arg_reader& r, const json::object& args,
                             const request_limits& limits) {
  run_command_args a;
  // What the seed protocol's `execute` knows is checked by its own rules
  // (command or argv, cwd, env, on_overflow), with `timeout` from
  // `timeout_s`.
  json::object exec;
  for (auto key : {"command", "argv", "cwd", "env", "on_overflow"})
    if (auto v = r.find(key))
      exec[key] = *v;
  if (auto t = r.seconds("timeout_s", false, max_timeout_seconds))
    exec["timeout"] = *t;
  exec["framing"] = "chunks";
  exec["stdin"] = true;
  if (auto err = decode_execute(exec, a.exec, nullptr))
    if (!r.error)
      r.error = std::move(err);
  a.stdin_data = r.string("stdin");
  a.wait_s = r.seconds("wait_s", true, max_wait_s).value_or(10.0);
  a.max_output_bytes =
      r.count("max_output_bytes", max_page_bytes).value_or(65536);
  request req{std::nullopt, "execute", a.exec, {}};
  if (!r.error)
    if (auto err = check_limits(req, limits))
      r.error = std::move(err);
  if (!r.error && a.stdin_data && limits.max_input_bytes != 0 &&
      a.stdin_data->size() > limits.max_input_bytes)
    r.invalid("'stdin' exceeds the limit of " +
              std::to_string(limits.max_input_bytes) + " bytes");
  (void)args;
  return a;
}

read_output_args read_output(arg_reader& r) {
  read_output_args a;
  a.process_id = r.required_string("process_id");
  if (auto c = r.string("cursor")) {
    a.cursor = decode_cursor(*c);
    if (!a.cursor)
      r.invalid("'cursor' is not a cursor this server gave out");
  }
  a.max_bytes = r.count("max_bytes", max_page_bytes).value_or(65536);
  a.wait_s = r.seconds("wait_s", true, max_wait_s).value_or(0.0);
  if (auto s = r.string("stream")) {
    if (*s == "stdout")
      a.stream = stream_filter::stdout_only;
    else if (*s == "stderr")
      a.stream = stream_filter::stderr_only;
    else if (*s != "both")
      r.invalid("'stream' must be \"both\", \"stdout\" or \"stderr\"");
  }
  return a;
}

send_input_args send_input(arg_reader& r, const request_limits& limits) {
  send_input_args a;
  a.process_id = r.required_string("process_id");
  a.data = r.string("data").value_or(std::string{});
  a.eof = r.boolean("eof").value_or(false);
  if (limits.max_input_bytes != 0 && a.data.size() > limits.max_input_bytes)
    r.invalid("'data' exceeds the limit of " +
              std::to_string(limits.max_input_bytes) + " bytes");
  return a;
}

signal_process_args signal_process(arg_reader& r) {
  signal_process_args a;
  a.process_id = r.required_string("process_id");
  auto action = r.required_string("action");
  constexpr std::pair<std::string_view, signal_action> names[] = {
      {"pause", signal_action::pause},
      {"resume", signal_action::resume},
      {"interrupt", signal_action::interrupt},
      {"terminate", signal_action::terminate},
      {"kill", signal_action::kill},
      {"cancel", signal_action::cancel}};
  for (auto& [name, value] : names)
    if (action == name)
      return {a.process_id, value};
  r.invalid("'action' must be pause, resume, interrupt, terminate, kill or "
            "cancel");
  return a;
}

/// Reads `params.task`, if there: an object with an optional `ttl`.
std::optional<rpc_error> read_task(const json::object& params,
                                   tool_call& call) {
  auto tv = params.if_contains("task");
  if (tv == nullptr || tv->is_null())
    return std::nullopt;
  if (!tv->is_object())
    return make_error(error_code::invalid_params,
                      "Invalid params: 'task' must be an object");
  task_request task;
  if (auto ttl = tv->get_object().if_contains("ttl"); ttl && !ttl->is_null()) {
    boost::system::error_code ec;
    auto ms = ttl->to_number<double>(ec);
    if (ec || !std::isfinite(ms) || ms < 0)
      return make_error(error_code::invalid_params,
                        "Invalid params: 'task.ttl' must be a number of "
                        "milliseconds from 0");
    task.ttl_ms = ms >= 1e18 ? std::uint64_t{1000000000000000000}
                             : static_cast<std::uint64_t>(ms);
  }
  call.task = task;
  return std::nullopt;
}

} // namespace

std::variant<tool_call, rpc_error>
decode_tool_call(const json::object& params, const request_limits& limits) {
  auto invalid = [](std::string text) {
    return make_error(error_code::invalid_params, std::move(text));
  };
  auto nv = params.if_contains("name");
  if (nv == nullptr || !nv->is_string())
    return invalid("Invalid params: 'name' must be a string");
  tool_call call;
  call.name = std::string{nv->get_string().data(), nv->get_string().size()};
  static const json::object none;
  const json::object* args = &none;
  if (auto av = params.if_contains("arguments"); av && !av->is_null()) {
    if (!av->is_object())
      return invalid("Invalid params: 'arguments' must be an object");
    args = &av->get_object();
  }
  if (auto meta = params.if_contains("_meta"); meta && meta->is_object())
    if (auto t = meta->get_object().if_contains("progressToken");
        t && (t->is_string() || t->is_int64() || t->is_uint64()))
      call.progress_token = *t;
  arg_reader r{*args};
  if (call.name == "run_command")
    call.args = run_command(r, *args, limits);
  else if (call.name == "read_output")
    call.args = read_output(r);
  else if (call.name == "send_input")
    call.args = send_input(r, limits);
  else if (call.name == "signal_process")
    call.args = signal_process(r);
  else if (call.name == "list_processes")
    call.args = list_processes_args{};
  else
    return invalid("Unknown tool: " + call.name);
  r.no_others();
  if (r.error)
    return *r.error;
  if (auto err = read_task(params, call))
    return *err;
  // Only run_command declares taskSupport; for the others it is forbidden.
  if (call.task && call.name != "run_command")
    return make_error(error_code::method_not_found,
                      "Tool " + call.name +
                          " does not support task-augmented execution");
  return call;
}

std::string encode_cursor(std::uint64_t offset) {
  return "o" + std::to_string(offset);
}

std::optional<std::uint64_t> decode_cursor(std::string_view cursor) {
  if (cursor.size() < 2 || cursor.front() != 'o')
    return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] =
      std::from_chars(cursor.data() + 1, cursor.data() + cursor.size(), n);
  if (ec != std::errc{} || end != cursor.data() + cursor.size())
    return std::nullopt;
  return n;
}

stream_text render_bytes(std::string_view bytes) {
  if (is_valid_utf8(bytes))
    return {std::string{bytes}, false};
  return {base64_encode(bytes), true};
}

json::object tool_result(json::object structured, std::string text,
                         bool is_error) {
  json::array content;
  content.push_back(json::object{{"type", "text"}, {"text", std::move(text)}});
  json::object out{{"content", std::move(content)},
                   {"structuredContent", std::move(structured)}};
  if (is_error)
    out["isError"] = true;
  return out;
}

json::object tool_error(std::string reason) {
  json::array content;
  content.push_back(
      json::object{{"type", "text"}, {"text", std::move(reason)}});
  return json::object{{"content", std::move(content)}, {"isError", true}};
}

std::string render_output_text(const json::object& s) {
  std::string out;
  auto str = [&s](const char* key) -> std::string {
    auto v = s.if_contains(key);
    return v && v->is_string()
               ? std::string{v->get_string().data(), v->get_string().size()}
               : std::string{};
  };
  if (s.contains("process_id")) {
    out += "process " + str("process_id");
    if (auto pid = s.if_contains("pid"))
      out += " (pid " + json::serialize(*pid) + ")";
    out += ": ";
  }
  out += str("status");
  if (auto code = s.if_contains("exit_code"); code && !code->is_null())
    out += ", exit code " + json::serialize(*code);
  if (auto sig = s.if_contains("signal"); sig && !sig->is_null())
    out += ", signal " + json::serialize(*sig);
  out += "\n";
  for (auto stream : {"stdout", "stderr"}) {
    auto text = str(stream);
    if (text.empty())
      continue;
    auto enc = str((std::string{stream} + "_encoding").c_str());
    out += std::string{stream} + (enc == "base64" ? " (base64):\n" : ":\n");
    out += text;
    if (text.back() != '\n')
      out += "\n";
  }
  auto more = s.if_contains("truncated");
  auto eof = s.if_contains("eof");
  bool continued = (more && more->is_bool() && more->get_bool()) ||
                   (eof && eof->is_bool() && !eof->get_bool()) ||
                   str("status") == "running";
  if (continued)
    out += "[continued: read_output with cursor \"" + str("cursor") + "\"]\n";
  if (auto d = s.if_contains("dropped_bytes");
      d && d->is_number() && d->to_number<double>() > 0)
    out += "[" + json::serialize(*d) + " bytes of output were dropped]\n";
  return out;
}

} // namespace actorexec::protocol::mcp
