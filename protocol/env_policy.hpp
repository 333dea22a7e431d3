#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/messages.hpp"

namespace actorexec::protocol {

/// Which variables a request's `env` may set while `ALLOWED_COMMANDS` is in
/// force (spec section 10). A name is refused when it is not a plain
/// identifier, when it is on the fixed list of variables that make the
/// dynamic loader, the C library, the shell or a common interpreter run
/// other code (or look programs up elsewhere), or, when the operator gave
/// `--allowed-env`, when it is not on that list. The fixed list wins over
/// the operator's.
class env_policy {
public:
  env_policy() = default;

  /// Parses `--allowed-env`, a comma list such as "LANG, TZ,NO_COLOR";
  /// blanks are skipped. Empty: any name off the fixed list.
  static env_policy parse(std::string_view comma_list);

  bool empty() const { return names_.empty(); }
  const std::vector<std::string>& names() const { return names_; }

  /// The -32602 error naming the first variable of `p.env`, in request
  /// order, that may not be set, or nothing. Only meaningful with an
  /// allow-list: without one a client sets any variable in the command
  /// itself, so the caller checks only then.
  std::optional<rpc_error> check(const execute_params& p) const;

private:
  /// Why `name` may not be set, or nothing.
  std::optional<std::string_view> refusal(std::string_view name) const;

  std::vector<std::string> names_;
};

} // namespace actorexec::protocol
