#include "protocol/allow_list.hpp"

#include <algorithm>

#include "protocol/utf8.hpp"

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

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_name_start(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

/// `s` from `pos` through the whole character at `end` (or to the end of
/// `s`): an excerpt for an error message that never splits a UTF-8
/// character, so the message stays valid UTF-8.
std::string excerpt(std::string_view s, std::size_t pos, std::size_t end) {
  if (end >= s.size())
    return std::string{s.substr(pos)};
  auto len = utf8_offset_of_char(s.substr(end), 1);
  return std::string{s.substr(pos, end - pos + len)};
}

/// A finding, or the position where scanning goes on.
struct step {
  std::size_t next = 0;
  std::optional<unsafe_syntax> unsafe;
};

step refuse(std::string kind, std::string text) {
  return {0, unsafe_syntax{std::move(kind), std::move(text)}};
}

/// Special parameters of one character (besides digits) that all three
/// shells expand without evaluating anything.
constexpr std::string_view special_parameters = "?$!#*@-";

/// The end of `${NAME}` or `${N}` starting at `pos`, or the refusal: every
/// operator after the name (`${x:-y}`, `${x@P}`, `${x:y}`, `${!x}`, `${#x}`,
/// zsh's `${(e)x}` ...) can evaluate or transform a value into code.
step scan_braced(std::string_view s, std::size_t pos) {
  auto at = [s](std::size_t k) { return k < s.size() ? s[k] : '\0'; };
  auto k = pos + 2;
  if (is_name_start(at(k)))
    while (is_name_char(at(k)))
      ++k;
  else
    while (is_digit(at(k)))
      ++k;
  if (k == pos + 2 || at(k) != '}')
    return refuse("parameter expansion", excerpt(s, pos, k));
  return {k + 1, {}};
}

/// What the `$` at `pos` starts: the position after a harmless reference (or
/// after a `$` the shells take literally), or the construct to refuse.
/// Whatever is not known to be harmless is refused.
step scan_dollar(std::string_view s, std::size_t pos, bool in_double) {
  auto at = [s](std::size_t k) { return k < s.size() ? s[k] : '\0'; };
  char c = at(pos + 1);
  if (pos + 1 == s.size() || c == ' ' || c == '\t' || c == '\n' ||
      (in_double && c == '"'))
    return {pos + 1, {}};
  if (c == '(')
    return at(pos + 2) == '(' ? refuse("arithmetic expansion", "$((")
                              : refuse("command substitution", "$(");
  if (c == '[')
    return refuse("arithmetic expansion", "$[");
  std::size_t end = pos + 2;
  if (c == '{') {
    auto braced = scan_braced(s, pos);
    if (braced.unsafe)
      return braced;
    end = braced.next;
  } else if (is_name_start(c)) {
    while (is_name_char(at(end)))
      ++end;
  } else if (c == '#' && (is_name_char(at(end)) || at(end) == '{')) {
    // zsh's `$#NAME` is a length whose subscripts are arithmetic.
    return refuse("parameter expansion", excerpt(s, pos, end));
  } else if (!is_digit(c) &&
             special_parameters.find(c) == std::string_view::npos) {
    // `$'...'`, `$"..."` (bash translates it, then expands the result),
    // zsh's `$~x` (x's value as a pattern, glob qualifiers included),
    // `$=x`, `$^x`, `$+x`, `{$,}{x@P}` (bash's brace expansion, which
    // comes first, makes it `${x@P}`) and whatever else a shell may make
    // of it.
    return refuse("expansion", excerpt(s, pos, pos + 1));
  }
  // zsh evaluates a subscript as arithmetic, which runs `$(...)` found in
  // the value of a variable it names.
  if (at(end) == '[')
    return refuse("subscript", excerpt(s, pos, end));
  return {end, {}};
}

/// Unquoted characters that end or chain a command, or redirect it.
constexpr std::string_view control_operators = ";&|()<>\n";

/// One step outside quotes from `pos` (a quote is skipped whole, a double
/// quote only entered: `in_double` is set).
step scan_unquoted(std::string_view s, std::size_t pos, bool& in_double) {
  char c = s[pos];
  if (c == '\'') {
    auto close = s.find('\'', pos + 1);
    if (close == s.npos)
      return refuse("unterminated quote", "'");
    return {close + 1, {}};
  }
  if (c == '"') {
    in_double = true;
    return {pos + 1, {}};
  }
  if ((c == '<' || c == '>') && pos + 1 < s.size() && s[pos + 1] == '(')
    return refuse("process substitution", std::string{c} + "(");
  if (control_operators.find(c) != std::string_view::npos)
    return refuse("shell control operator",
                  c == '\n' ? std::string{"\\n"} : std::string{c});
  return {pos + 1, {}};
}

rpc_error not_allowed(std::string_view what) {
  return make_error(error_code::command_not_allowed,
                    "Command '" + std::string{what} + "' is not allowed");
}

} // namespace

std::optional<unsafe_syntax> find_unsafe_syntax(std::string_view s) {
  bool in_double = false;
  std::size_t pos = 0;
  while (pos < s.size()) {
    char c = s[pos];
    step next{pos + 1, {}};
    if (c == '\\')
      next.next = pos + 2; // the next character is literal
    else if (c == '`')
      next = refuse("command substitution", "`");
    else if (c == '$')
      next = scan_dollar(s, pos, in_double);
    else if (in_double)
      in_double = c != '"';
    else
      next = scan_unquoted(s, pos, in_double);
    if (next.unsafe)
      return next.unsafe;
    pos = next.next;
  }
  if (in_double)
    return unsafe_syntax{"unterminated quote", "\""};
  return std::nullopt;
}

std::vector<std::string> parse_name_list(std::string_view comma_list) {
  std::vector<std::string> names;
  while (!comma_list.empty()) {
    auto comma = comma_list.find(',');
    auto name = trim(comma_list.substr(0, comma));
    if (!name.empty())
      names.emplace_back(name);
    comma_list.remove_prefix(comma == comma_list.npos ? comma_list.size()
                                                      : comma + 1);
  }
  return names;
}

allow_list allow_list::parse(std::string_view comma_list) {
  allow_list result;
  result.names_ = parse_name_list(comma_list);
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
  // passed; and `echo ${x@P}` runs x's value: refuse anything beyond words
  // and plain variable references.
  if (auto found = find_unsafe_syntax(command))
    return make_error(
        error_code::command_not_allowed,
        "Command '" + command + "' is not allowed: " + found->kind + " '" +
            found->text + "' is not permitted when ALLOWED_COMMANDS is set");
  return std::nullopt;
}

} // namespace actorexec::protocol
