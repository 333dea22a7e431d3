#include "app/parse_config.hpp"

#include <algorithm>
#include <utility>

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>

#include "actors/run_as.hpp"
#include "app/config_checks.hpp"
#include "app/option_table.hpp"

extern char** environ;

namespace actorexec::app {

namespace po = boost::program_options;

namespace {

/// Long flags only, spelled out in full: no `--max-sess` for
/// `--max-sessions`, and a value may begin with `-`.
constexpr int flag_style = po::command_line_style::allow_long |
                           po::command_line_style::long_allow_adjacent |
                           po::command_line_style::long_allow_next;

/// `-h`, the one short flag, as `--help`.
std::pair<std::string, std::string> short_help(const std::string& token) {
  if (token == "-h")
    return {"help", ""};
  return {};
}

/// The arguments after the program's name, `--flag=` as `--flag ""`:
/// Program_options refuses an empty value after `=`, the seed took it for
/// the empty value (`--allowed-commands=` is no list, `--host=` is refused
/// as a bad host).
std::vector<std::string> arguments(int argc, const char* const* argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool empty_value = arg.size() > 3 && arg.rfind("--", 0) == 0 &&
                       arg.find('=') == arg.size() - 1;
    out.push_back(empty_value ? arg.substr(0, arg.size() - 1) : arg);
    if (empty_value)
      out.emplace_back();
  }
  return out;
}

/// The command line, with Program_options' errors said as the seed said
/// them. Unknown flags are collected rather than thrown, so that the first
/// one can be named.
std::optional<std::string> read_flags(int argc, const char* const* argv,
                                      po::parsed_options& out) {
  try {
    out = po::command_line_parser(arguments(argc, argv))
              .options(*out.description)
              .style(flag_style)
              .extra_parser(short_help)
              .allow_unregistered()
              .run();
  } catch (const po::invalid_command_line_syntax& e) {
    if (e.kind() == po::invalid_syntax::missing_parameter)
      return "missing value for " + e.get_option_name();
    return std::string{e.what()};
  } catch (const po::error& e) {
    return std::string{e.what()};
  }
  auto stray = po::collect_unrecognized(out.options, po::include_positional);
  if (stray.empty())
    return std::nullopt;
  auto& first = stray.front();
  if (first.rfind('-', 0) == 0)
    return "unknown flag: " + first.substr(0, first.find('='));
  return "unexpected argument: " + first;
}

/// The flag whose variable is `name` (the seed's variable when `seed`), or
/// nothing: a name mapper as po::parse_environment takes.
std::string flag_of(const std::string& name, bool seed) {
  for (auto& o : option_table()) {
    auto var = seed ? o.seed_env : o.env;
    if (var && name == var)
      return o.flag;
  }
  return {};
}

/// What po::parse_environment does, over `env` instead of `environ` (tests
/// pass their own), keeping each variable's name for error messages.
po::parsed_options read_variables(const po::options_description& desc,
                                  const environment& env, bool seed) {
  po::parsed_options out{&desc};
  for (auto& [name, value] : env) {
    auto flag = flag_of(name, seed);
    if (flag.empty())
      continue;
    po::option opt{flag, {value}};
    opt.original_tokens = {name};
    out.options.push_back(std::move(opt));
  }
  return out;
}

/// Puts every value of `source` through its reader: a bad value is refused
/// even where another source overrides it, as the seed did.
std::optional<std::string> check_values(const po::parsed_options& source,
                                        bool variables) {
  for (auto& opt : source.options) {
    auto o = find_option(opt.string_key);
    if (o == nullptr)
      continue; // --help, --version
    config scratch;
    for (auto& value : opt.value)
      if (!o->value.set(scratch, value))
        return "invalid value for " +
               (variables ? opt.original_tokens.front()
                          : "--" + opt.string_key) +
               ": '" + value + "'";
  }
  return std::nullopt;
}

/// Checks the values of the command line and of both kinds of variables,
/// then stores them in `vm`, the command line first: po::store keeps the
/// first source's value of an option, so flags win over ACTOREXEC_*
/// variables, which win over the seed's names.
std::optional<std::string> store_sources(const po::parsed_options& flags,
                                         const environment& env,
                                         po::variables_map& vm) {
  const auto ours = read_variables(*flags.description, env, false);
  const auto seeds = read_variables(*flags.description, env, true);
  if (auto err = check_values(seeds, true))
    return err;
  if (auto err = check_values(ours, true))
    return err;
  if (auto err = check_values(flags, false))
    return err;
  for (auto source : {&flags, &ours, &seeds})
    po::store(*source, vm);
  return std::nullopt;
}

bool given(const po::variables_map& vm, const char* flag) {
  return vm.count(flag) > 0 && !vm[flag].defaulted();
}

/// Stores the winning values into `out`. A flag given twice: the last one,
/// unless it is repeatable.
void take_winners(const po::variables_map& vm, config& out) {
  for (auto& o : option_table()) {
    if (!given(vm, o.flag))
      continue;
    auto& values = vm[o.flag].as<std::vector<std::string>>();
    if (o.kind == option_kind::repeatable)
      for (auto& value : values)
        o.value.set(out, value);
    else
      o.value.set(out, values.back());
  }
}

bool on_command_line(const po::parsed_options& flags, const char* flag) {
  return std::any_of(flags.options.begin(), flags.options.end(),
                     [flag](auto& opt) { return opt.string_key == flag; });
}

} // namespace

environment environment_map() {
  environment env;
  for (auto p = environ; p && *p; ++p) {
    std::string entry{*p};
    auto eq = entry.find('=');
    if (eq != std::string::npos)
      env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::optional<std::string> parse_config(int argc, const char* const* argv,
                                        const environment& env, config& out) {
  auto desc = describe_options();
  po::parsed_options flags{&desc};
  if (auto err = read_flags(argc, argv, flags))
    return err;
  po::variables_map vm;
  if (auto err = store_sources(flags, env, vm))
    return err;
  take_winners(vm, out);
  out.show_help = vm["help"].as<bool>();
  out.show_version = vm["version"].as<bool>();
  derive_settings(given(vm, "heartbeat-timeout-ms"), out);
  if (out.show_help || out.show_version)
    return std::nullopt;
  auto token = env.find("ACTOREXEC_AUTH_TOKEN");
  if (auto err =
          check_config(token == env.end() ? std::string{} : token->second,
                       on_command_line(flags, "auth-token-file"), out))
    return err;
  if (out.run_as.empty())
    return std::nullopt;
  return actorexec::resolve_run_as(out.run_as, out.actors.run_as);
}

} // namespace actorexec::app
