#include "protocol/allow_list.hpp"

#include <algorithm>

namespace actorexec::protocol {

namespace {

constexpr std::string_view blanks = " \t\n\r\v\f";

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(blanks);
  if (first == s.npos)
    return {};
  auto last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

/// The first whitespace-separated word of a shell command.
std::string_view first_word(std::string_view command) {
  auto first = command.find_first_not_of(blanks);
  if (first == command.npos)
    return {};
  command.remove_prefix(first);
  return command.substr(0, command.find_first_of(blanks));
}

/// Shell syntax that would run or redirect more than the listed command.
constexpr std::string_view shell_operators[] = {"$(", ";",  "&", "|",
                                                "`",  "\n", "<", ">"};

/// The operator that occurs first in `command`, if any.
std::optional<std::string_view> find_operator(std::string_view command) {
  std::optional<std::string_view> found;
  auto best = command.npos;
  for (auto op : shell_operators) {
    auto pos = command.find(op);
    if (pos < best) {
      best = pos;
      found = op;
    }
  }
  return found;
}

/// How an operator is named in an error message.
std::string_view display(std::string_view op) {
  return op == "\n" ? std::string_view{"\\n"} : op;
}

rpc_error not_allowed(std::string_view what) {
  return make_error(error_code::command_not_allowed,
                    "Command '" + std::string{what} + "' is not allowed");
}

} // namespace

allow_list allow_list::parse(std::string_view comma_list) {
  allow_list result;
  while (!comma_list.empty()) {
    auto comma = comma_list.find(',');
    auto name = trim(comma_list.substr(0, comma));
    if (!name.empty())
      result.names_.emplace_back(name);
    comma_list.remove_prefix(comma == comma_list.npos ? comma_list.size()
                                                      : comma + 1);
  }
  return result;
}

std::optional<rpc_error> allow_list::check(const execute_params& p) const {
  if (names_.empty())
    return std::nullopt;
  auto listed = [this](std::string_view name) {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
  };
  if (!p.command) {
    // argv runs without a shell: only the executable matters.
    auto exe = p.argv.empty() ? std::string_view{} : p.argv.front();
    if (!listed(exe))
      return not_allowed(exe);
    return std::nullopt;
  }
  const auto& command = *p.command;
  if (auto word = first_word(command); !listed(word))
    return not_allowed(word);
  // The original service checked only the first word, so `echo ok; rm -rf x`
  // passed; refuse anything that could chain or redirect.
  if (auto op = find_operator(command))
    return make_error(error_code::command_not_allowed,
                      "Command '" + command +
                          "' is not allowed: shell control operator '" +
                          std::string{display(*op)} +
                          "' is not permitted when ALLOWED_COMMANDS is set");
  return std::nullopt;
}

} // namespace actorexec::protocol
