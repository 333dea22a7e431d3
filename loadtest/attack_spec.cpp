// The `attack` of a hostile session template (issue 25), and what the
// hardened server answers each attack with by default.

#include "loadtest/json_fields.hpp"
#include "loadtest/scenario.hpp"

namespace json = boost::json;

namespace actorexec::loadtest {

using namespace json_fields;

namespace {

struct attack_kind_name {
  attack_spec::kind what;
  std::string_view name;
};

constexpr attack_kind_name attack_names[] = {
    {attack_spec::kind::input_flood, "input_flood"},
    {attack_spec::kind::reply_flood, "reply_flood"},
    {attack_spec::kind::frame_flood, "frame_flood"},
    {attack_spec::kind::ping_flood, "ping_flood"},
    {attack_spec::kind::slow_close, "slow_close"},
};

attack_spec::kind parse_kind(const json::value& v, const std::string& path) {
  auto text = as_string(v, path);
  for (const auto& k : attack_names)
    if (text == k.name)
      return k.what;
  fail(path, "must be input_flood, reply_flood, frame_flood, ping_flood or "
             "slow_close");
}

/// What docs/protocol.md promises for each attack: -32006 for input beyond
/// the pending bound (and -32005 for the inputs still pending when the
/// CANCEL ends the child), -32029 beyond the request rate, close 1008 for
/// pings beyond their budget. A slow close ends with the server's Close or
/// its reset, neither an error.
void apply_defaults(attack_spec& a, bool rpc_given, bool close_given) {
  using k = attack_spec::kind;
  if (!rpc_given) {
    if (a.what == k::input_flood)
      a.expect_rpc_errors = {-32006, -32029, -32005};
    else if (a.what == k::reply_flood || a.what == k::frame_flood)
      a.expect_rpc_errors = {-32029};
  }
  if (!close_given && a.what == k::ping_flood)
    a.expect_close_codes = {1008};
}

} // namespace

std::string attack_spec::name() const {
  for (const auto& k : attack_names)
    if (what == k.what)
      return std::string{k.name};
  return "none";
}

attack_spec parse_attack_spec(const json::value& v, const std::string& path) {
  const auto& obj = as_object(v, path);
  reject_unknown(obj, path,
                 {"type", "count", "bytes", "numbers", "hold_ms", "rounds",
                  "expect_rpc_errors", "expect_close_codes"});
  attack_spec a;
  a.what = parse_kind(required(obj, path, "type"), join(path, "type"));
  a.count = static_cast<std::uint32_t>(
      as_uint(required(obj, path, "count"), join(path, "count"), 1, 10000000));
  read_u32(obj, path, "bytes", a.bytes, 0, 16 << 20);
  read_u32(obj, path, "numbers", a.numbers, 1, 10000000);
  read_u32(obj, path, "hold_ms", a.hold_ms, 0, 600000);
  read_u32(obj, path, "rounds", a.rounds, 1, 100000);
  auto* rpc = obj.if_contains("expect_rpc_errors");
  if (rpc != nullptr)
    a.expect_rpc_errors = as_ints(*rpc, join(path, "expect_rpc_errors"));
  auto* close = obj.if_contains("expect_close_codes");
  if (close != nullptr)
    a.expect_close_codes = as_ints(*close, join(path, "expect_close_codes"));
  apply_defaults(a, rpc != nullptr, close != nullptr);
  return a;
}

} // namespace actorexec::loadtest
