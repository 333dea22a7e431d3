#define BOOST_TEST_MODULE protocol_env_policy
#include <boost/test/unit_test.hpp>

#include "protocol/env_policy.hpp"

#include <string>
#include <utility>
#include <vector>

using namespace actorexec::protocol;

namespace {

using env_list = std::vector<std::pair<std::string, std::string>>;

/// The message of the refusal of a request setting `env`, or "" when
/// allowed.
std::string refusal(const env_policy& policy, env_list env) {
  execute_params p;
  p.argv = {"echo"};
  p.env = std::move(env);
  auto err = policy.check(p);
  if (!err)
    return {};
  BOOST_TEST(static_cast<int>(err->code) == -32602);
  BOOST_TEST(err->data.is_null());
  return err->message;
}

std::string refusal(const env_policy& policy, const std::string& name) {
  return refusal(policy, {{name, "x"}});
}

std::string message(const std::string& name, const std::string& why) {
  return "Invalid params: env variable '" + name +
         "' is not allowed when ALLOWED_COMMANDS is set: " + why;
}

const std::string functions = "bash imports shell functions from it";
const std::string loader =
    "it makes the dynamic loader or the C library load other code";
const std::string shell =
    "it changes what the shell runs at start or how it parses";
const std::string path = "it changes where programs are looked up";
const std::string interpreter =
    "it makes an interpreter load or run other code";
const std::string not_identifier =
    "only names of letters, digits and '_' may be set";
const std::string not_listed = "it is not in --allowed-env";

void expect_refused(const env_policy& policy,
                    const std::vector<std::string>& names,
                    const std::string& why) {
  for (const auto& name : names)
    BOOST_TEST(refusal(policy, name) == message(name, why), name);
}

} // namespace

BOOST_AUTO_TEST_SUITE(protocol_env_policy)

BOOST_AUTO_TEST_CASE(parse_trims_and_skips_blanks) {
  auto policy = env_policy::parse(" LANG, TZ ,,NO_COLOR,  ");
  std::vector<std::string> expected{"LANG", "TZ", "NO_COLOR"};
  BOOST_TEST(policy.names() == expected, boost::test_tools::per_element());
  BOOST_TEST(env_policy::parse(" , ").empty());
  BOOST_TEST(env_policy{}.empty());
}

BOOST_AUTO_TEST_CASE(ordinary_names_pass_without_an_operator_list) {
  env_policy policy;
  BOOST_TEST(refusal(policy, env_list{}) == "");
  for (std::string name :
       {"FOO", "_x", "LANG", "LC_ALL", "TERM", "A1", "TZ", "NO_COLOR",
        "LDFLAGS", "LD", "MY_PATH", "PATHS", "HOMEDIR", "ENVIRONMENT", "PS5",
        "MALLOC", "PYTHONUNBUFFERED", "X_LD_PRELOAD"})
    BOOST_TEST(refusal(policy, name) == "", name);
  // Values are never looked at: the command check keeps them from being
  // evaluated.
  BOOST_TEST(refusal(policy, {{"x", "$(id)"}, {"y", "() { id; }"}}) == "");
}

// Issue 25: with `--allowed-commands echo`, `BASH_FUNC_echo%%` replaced the
// builtin with a function running id.
BOOST_AUTO_TEST_CASE(bash_functions_are_refused) {
  expect_refused({}, {"BASH_FUNC_echo%%", "BASH_FUNC_echo()", "BASH_FUNC_x"},
                 functions);
  expect_refused({}, {"echo%%", "x()", "1X", "A-B", "a.b", "a b", "\xc3\xa9"},
                 not_identifier);
}

BOOST_AUTO_TEST_CASE(loader_variables_are_refused) {
  expect_refused({},
                 {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "LD_DEBUG",
                  "LD_", "ld_preload", "Ld_Preload", "GCONV_PATH",
                  "GETCONF_DIR", "GLIBC_TUNABLES", "MALLOC_CHECK_",
                  "MALLOC_PERTURB_", "LOCPATH", "NLSPATH"},
                 loader);
}

BOOST_AUTO_TEST_CASE(shell_variables_are_refused) {
  expect_refused({},
                 {"BASH_ENV",
                  "ENV",
                  "ZDOTDIR",
                  "HOME",
                  "SHELLOPTS",
                  "BASHOPTS",
                  "BASH_COMPAT",
                  "POSIXLY_CORRECT",
                  "BASH_XTRACEFD",
                  "PS1",
                  "PS2",
                  "PS3",
                  "PS4",
                  "ps4",
                  "PROMPT_COMMAND",
                  "IFS",
                  "GLOBIGNORE",
                  "EXECIGNORE",
                  "HISTFILE",
                  "INPUTRC"},
                 shell);
}

BOOST_AUTO_TEST_CASE(lookup_paths_are_refused) {
  expect_refused({},
                 {"PATH", "path", "Path", "CDPATH", "BASH_LOADABLES_PATH",
                  "FPATH", "fpath", "MODULE_PATH"},
                 path);
}

BOOST_AUTO_TEST_CASE(interpreter_hooks_are_refused) {
  expect_refused({},
                 {"PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE",
                  "PYTHONINSPECT", "PYTHONBREAKPOINT", "PERL5OPT", "PERL5LIB",
                  "PERLLIB", "PERL5DB", "RUBYOPT", "RUBYLIB", "NODE_OPTIONS",
                  "NODE_PATH", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
                  "JDK_JAVA_OPTIONS"},
                 interpreter);
}

BOOST_AUTO_TEST_CASE(operator_list_admits_only_its_names) {
  auto policy = env_policy::parse("LANG,TZ,LD_PRELOAD,PATH,x%%");
  BOOST_TEST(refusal(policy, {{"LANG", "C"}, {"TZ", "UTC"}}) == "");
  expect_refused(policy, {"FOO", "lang", "LANGUAGE", "TZ2"}, not_listed);
  // The fixed refusals win over the operator's list.
  BOOST_TEST(refusal(policy, "LD_PRELOAD") == message("LD_PRELOAD", loader));
  BOOST_TEST(refusal(policy, "PATH") == message("PATH", path));
  BOOST_TEST(refusal(policy, "x%%") == message("x%%", not_identifier));
}

BOOST_AUTO_TEST_CASE(first_refused_name_in_request_order_is_reported) {
  env_policy policy;
  BOOST_TEST(
      refusal(policy, {{"A", "1"}, {"PS4", "$(id)"}, {"SHELLOPTS", ""}}) ==
      message("PS4", shell));
  BOOST_TEST(refusal(policy, {{"SHELLOPTS", "xtrace"}, {"PS4", "$(id)"}}) ==
             message("SHELLOPTS", shell));
}

BOOST_AUTO_TEST_SUITE_END()
