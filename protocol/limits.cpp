#include "protocol/limits.hpp"

#include <string>
#include <variant>

namespace actorexec::protocol {

namespace {

/// The first limit exceeded, as an error naming the param and the limit.
class limit_check {
public:
  std::optional<rpc_error> error;

  /// Records an error when `limit` is set and `value` exceeds it.
  void at_most(std::size_t value, std::size_t limit, const char* what,
               const char* unit) {
    if (error || limit == 0 || value <= limit)
      return;
    error = make_error(error_code::invalid_params,
                       std::string{"Invalid params: "} + what +
                           " exceeds the limit of " + std::to_string(limit) +
                           " " + unit + " (got " + std::to_string(value) + ")");
  }
};

void check_execute(limit_check& c, const execute_params& p,
                   const request_limits& lim) {
  if (p.command)
    c.at_most(p.command->size(), lim.max_command_bytes, "'command'", "bytes");
  std::size_t argv_bytes = 0;
  for (auto& a : p.argv)
    argv_bytes += a.size();
  c.at_most(p.argv.size(), lim.max_argv_entries, "'argv'", "entries");
  c.at_most(argv_bytes, lim.max_argv_bytes, "'argv'", "bytes in total");
  std::size_t env_bytes = 0;
  for (auto& [name, value] : p.env)
    env_bytes += name.size() + value.size();
  c.at_most(p.env.size(), lim.max_env_entries, "'env'", "entries");
  c.at_most(env_bytes, lim.max_env_bytes, "'env'", "bytes of names and values");
}

} // namespace

std::optional<rpc_error> check_limits(const request& req,
                                      const request_limits& limits) {
  limit_check c;
  if (auto exec = std::get_if<execute_params>(&req.params))
    check_execute(c, *exec, limits);
  else if (auto in = std::get_if<input_params>(&req.params))
    c.at_most(in->data.size(), limits.max_input_bytes, "'data'", "bytes");
  return c.error;
}

} // namespace actorexec::protocol
