#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/messages.hpp"

namespace actorexec::protocol {

/// `ALLOWED_COMMANDS` (spec section 10). Empty: every command may run.
class allow_list {
public:
  allow_list() = default;

  /// Parses a comma list such as "echo, ls,python3"; blanks are skipped.
  static allow_list parse(std::string_view comma_list);

  bool empty() const { return names_.empty(); }
  const std::vector<std::string>& names() const { return names_; }

  /// An error (-32001, naming the rule that refused) when `p` may not run:
  /// for `argv` the executable (argv[0]) must be listed; for `command` the
  /// first word must be listed and the command may contain no shell control
  /// operator (`;`, `&`, `|`, `$(`, a backquote, a newline) nor redirection
  /// (`<`, `>`).
  std::optional<rpc_error> check(const execute_params& p) const;

private:
  std::vector<std::string> names_;
};

} // namespace actorexec::protocol
