#include "protocol/env_policy.hpp"

#include <algorithm>

#include "protocol/allow_list.hpp"

namespace actorexec::protocol {

namespace {

constexpr std::string_view functions_reason =
    "bash imports shell functions from it";
constexpr std::string_view loader_reason =
    "it makes the dynamic loader or the C library load other code";
constexpr std::string_view shell_reason =
    "it changes what the shell runs at start or how it parses";
constexpr std::string_view path_reason =
    "it changes where programs are looked up";
constexpr std::string_view interpreter_reason =
    "it makes an interpreter load or run other code";

/// A fixed refusal: a name, or every name it begins when `prefix`.
struct rule {
  std::string_view name;
  bool prefix;
  std::string_view reason;
};

/// Variables that make a program run code the allow-list never saw, before
/// or around the listed program, whatever that program is. Program-specific
/// switches (GIT_*, PAGER, EDITOR, ...) cannot all be listed here: that is
/// what `--allowed-env` is for.
constexpr rule fixed_rules[] = {
    // `BASH_FUNC_echo%%=() { id; }` replaces the builtin `echo` with a
    // function before the command runs.
    {"BASH_FUNC_", true, functions_reason},
    // The loader and glibc: preloaded or audit libraries, library paths,
    // iconv modules (GCONV_PATH), getconf's helper programs, tunables
    // (CVE-2023-4911), allocator hooks, locale and message-catalogue files
    // parsed by every program. glibc drops these for set-user-ID programs
    // for the same reason: the caller must not steer a program it is not
    // trusted to replace.
    {"LD_", true, loader_reason},
    {"MALLOC_", true, loader_reason},
    {"GCONV_PATH", false, loader_reason},
    {"GETCONF_DIR", false, loader_reason},
    {"GLIBC_TUNABLES", false, loader_reason},
    {"LOCPATH", false, loader_reason},
    {"NLSPATH", false, loader_reason},
    // The shell that runs `command` (bash, dash or zsh): start-up files
    // (BASH_ENV; ENV; zsh's $ZDOTDIR/.zshenv, which defaults to
    // $HOME/.zshenv), options (SHELLOPTS=xtrace with PS4='$(id)' runs id),
    // prompts and traces expanded as code, parsing (IFS, GLOBIGNORE,
    // EXECIGNORE) and files it reads or writes. Most are for interactive
    // shells only; refusing them costs nothing.
    {"BASH_ENV", false, shell_reason},
    {"ENV", false, shell_reason},
    {"ZDOTDIR", false, shell_reason},
    {"HOME", false, shell_reason},
    {"SHELLOPTS", false, shell_reason},
    {"BASHOPTS", false, shell_reason},
    {"BASH_COMPAT", false, shell_reason},
    {"POSIXLY_CORRECT", false, shell_reason},
    {"BASH_XTRACEFD", false, shell_reason},
    {"PS1", false, shell_reason},
    {"PS2", false, shell_reason},
    {"PS3", false, shell_reason},
    {"PS4", false, shell_reason},
    {"PROMPT_COMMAND", false, shell_reason},
    {"IFS", false, shell_reason},
    {"GLOBIGNORE", false, shell_reason},
    {"EXECIGNORE", false, shell_reason},
    {"HISTFILE", false, shell_reason},
    {"INPUTRC", false, shell_reason},
    // Lookup paths: which program a listed name runs, which directory `cd`
    // enters, where bash's loadable builtins and zsh's autoloaded functions
    // and modules come from.
    {"PATH", false, path_reason},
    {"CDPATH", false, path_reason},
    {"BASH_LOADABLES_PATH", false, path_reason},
    {"FPATH", false, path_reason},
    {"MODULE_PATH", false, path_reason},
    // Common interpreters' start-up hooks (defence in depth when one of
    // them is allowed; the list cannot be complete).
    {"PYTHONSTARTUP", false, interpreter_reason},
    {"PYTHONPATH", false, interpreter_reason},
    {"PYTHONHOME", false, interpreter_reason},
    {"PYTHONUSERBASE", false, interpreter_reason},
    {"PYTHONINSPECT", false, interpreter_reason},
    {"PYTHONBREAKPOINT", false, interpreter_reason},
    {"PERL5OPT", false, interpreter_reason},
    {"PERL5LIB", false, interpreter_reason},
    {"PERLLIB", false, interpreter_reason},
    {"PERL5DB", false, interpreter_reason},
    {"RUBYOPT", false, interpreter_reason},
    {"RUBYLIB", false, interpreter_reason},
    {"NODE_OPTIONS", false, interpreter_reason},
    {"NODE_PATH", false, interpreter_reason},
    {"JAVA_TOOL_OPTIONS", false, interpreter_reason},
    {"_JAVA_OPTIONS", false, interpreter_reason},
    {"JDK_JAVA_OPTIONS", false, interpreter_reason},
};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

/// Whether `name` begins with `prefix`, ignoring case.
bool starts_with_ignoring_case(std::string_view name, std::string_view prefix) {
  if (name.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower(name[i]) != lower(prefix[i]))
      return false;
  return true;
}

/// Case is ignored: zsh ties `path` to PATH, and a lower-case twin of a
/// name above has no business in a request either.
std::optional<std::string_view> fixed_refusal(std::string_view name) {
  for (const auto& r : fixed_rules)
    if (starts_with_ignoring_case(name, r.name) &&
        (r.prefix || name.size() == r.name.size()))
      return r.reason;
  return std::nullopt;
}

/// Letters, digits and '_', not starting with a digit: what every shell
/// takes as a variable. Anything else is a name no program needs and some
/// shells interpret (bash's `name%%` functions).
bool is_identifier(std::string_view name) {
  auto name_char = [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
  };
  return !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
         std::all_of(name.begin(), name.end(), name_char);
}

} // namespace

env_policy env_policy::parse(std::string_view comma_list) {
  env_policy result;
  result.names_ = parse_name_list(comma_list);
  return result;
}

std::optional<std::string_view>
env_policy::refusal(std::string_view name) const {
  if (auto why = fixed_refusal(name))
    return why;
  if (!is_identifier(name))
    return "only names of letters, digits and '_' may be set";
  if (!names_.empty() &&
      std::find(names_.begin(), names_.end(), name) == names_.end())
    return "it is not in --allowed-env";
  return std::nullopt;
}

std::optional<rpc_error> env_policy::check(const execute_params& p) const {
  for (const auto& [name, value] : p.env)
    if (auto why = refusal(name))
      return make_error(error_code::invalid_params,
                        "Invalid params: env variable '" + name +
                            "' is not allowed when ALLOWED_COMMANDS is set: " +
                            std::string{*why});
  return std::nullopt;
}

} // namespace actorexec::protocol
