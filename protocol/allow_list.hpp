#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/messages.hpp"

namespace actorexec::protocol {

/// Splits a comma list such as "echo, ls,python3" into its names, trimmed;
/// blank entries are skipped.
std::vector<std::string> parse_name_list(std::string_view comma_list);

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
  /// first word must be listed and the rest must pass `find_unsafe_syntax`.
  /// Only the command is checked here; `env` is `env_policy`'s.
  std::optional<rpc_error> check(const execute_params& p) const;

private:
  std::vector<std::string> names_;
};

/// Shell syntax that would make a shell run or evaluate more than the words
/// of the command: what it is (e.g. "command substitution") and its text as
/// written (e.g. "$(").
struct unsafe_syntax {
  std::string kind;
  std::string text;
};

/// The first construct of `command` outside what an allow-listed command may
/// contain, or nothing. Allowed: plain words, glob characters, single and
/// double quotes, backslash escapes, and references `$NAME`, `${NAME}`, `$N`
/// and `$?` `$$` `$!` `$#` `$*` `$@` `$-` (not followed by `[`). Everything
/// else that bash, dash or zsh could execute or evaluate is reported: control
/// operators and redirections (unquoted `;` `&` `|` `(` `)` `<` `>` and
/// newline), `$(`, backquotes, `$((`, `$[`, `${` with anything but a name or
/// digits before the `}`, `<(` `>(`, `$'` `$"` and zsh's `$~` `$=` `$^` `$+`
/// `$#NAME` and subscripts; also an unterminated quote. Quoting is honoured
/// as the shells do: nothing is special inside single quotes, and inside
/// double quotes only `$`, the backquote and the backslash are.
std::optional<unsafe_syntax> find_unsafe_syntax(std::string_view command);

} // namespace actorexec::protocol
