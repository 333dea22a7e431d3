#define BOOST_TEST_MODULE protocol_allow_list
#include <boost/test/unit_test.hpp>

#include "protocol/allow_list.hpp"

#include <string>
#include <vector>

using namespace actorexec::protocol;

namespace {

execute_params shell(std::string command) {
  execute_params p;
  p.command = std::move(command);
  return p;
}

execute_params exec(std::vector<std::string> argv) {
  execute_params p;
  p.argv = std::move(argv);
  return p;
}

/// The message of the refusal, or "" when allowed.
std::string refusal(const allow_list& list, const execute_params& p) {
  auto err = list.check(p);
  if (!err)
    return {};
  BOOST_TEST(static_cast<int>(err->code) == -32001);
  BOOST_TEST(err->data.is_null());
  return err->message;
}

std::string op_message(const std::string& command, const std::string& op) {
  return "Command '" + command + "' is not allowed: shell control operator '" +
         op + "' is not permitted when ALLOWED_COMMANDS is set";
}

} // namespace

BOOST_AUTO_TEST_SUITE(protocol_allow_list)

BOOST_AUTO_TEST_CASE(parse_trims_and_skips_blanks) {
  auto list = allow_list::parse(" echo, ls ,,python3,  ,\tcat\t");
  std::vector<std::string> expected{"echo", "ls", "python3", "cat"};
  BOOST_TEST(list.names() == expected, boost::test_tools::per_element());
  BOOST_TEST(!list.empty());
}

BOOST_AUTO_TEST_CASE(parse_of_nothing_is_empty) {
  BOOST_TEST(allow_list::parse("").empty());
  BOOST_TEST(allow_list::parse(" , ,, ").empty());
  BOOST_TEST(allow_list{}.empty());
}

BOOST_AUTO_TEST_CASE(empty_list_allows_everything) {
  allow_list list;
  BOOST_TEST(refusal(list, shell("rm -rf /tmp/x; echo $(id) | cat > f")) == "");
  BOOST_TEST(refusal(list, exec({"/bin/anything", "x"})) == "");
}

BOOST_AUTO_TEST_CASE(argv_executable_must_be_listed_exactly) {
  auto list = allow_list::parse("echo,python3");
  BOOST_TEST(refusal(list, exec({"echo", "a; rm -rf x", "$(id)"})) == "");
  BOOST_TEST(refusal(list, exec({"python3"})) == "");
  BOOST_TEST(refusal(list, exec({"rm", "-rf", "x"})) ==
             "Command 'rm' is not allowed");
  BOOST_TEST(refusal(list, exec({"/bin/echo"})) ==
             "Command '/bin/echo' is not allowed");
  BOOST_TEST(refusal(list, exec({"python"})) ==
             "Command 'python' is not allowed");
  BOOST_TEST(refusal(list, exec({"echo "})) ==
             "Command 'echo ' is not allowed");
}

BOOST_AUTO_TEST_CASE(command_first_word_must_be_listed) {
  auto list = allow_list::parse("echo,ls");
  BOOST_TEST(refusal(list, shell("echo hello world")) == "");
  BOOST_TEST(refusal(list, shell("  \tls -la")) == "");
  BOOST_TEST(refusal(list, shell("ls")) == "");
  BOOST_TEST(refusal(list, shell("rm -rf x")) == "Command 'rm' is not allowed");
  BOOST_TEST(refusal(list, shell("FOO=1 echo x")) ==
             "Command 'FOO=1' is not allowed");
  BOOST_TEST(refusal(list, shell("echox")) == "Command 'echox' is not allowed");
  BOOST_TEST(refusal(list, shell("/bin/ls")) ==
             "Command '/bin/ls' is not allowed");
}

BOOST_AUTO_TEST_CASE(command_with_shell_operators_is_refused) {
  auto list = allow_list::parse("echo");
  struct example {
    std::string command;
    std::string op;
  };
  std::vector<example> examples{
      {"echo ok; rm -rf x", ";"},     {"echo ok && rm -rf x", "&"},
      {"echo ok & rm -rf x", "&"},    {"echo ok | sh", "|"},
      {"echo ok || rm x", "|"},       {"echo $(rm -rf x)", "$("},
      {"echo `rm -rf x`", "`"},       {"echo ok\nrm -rf x", "\\n"},
      {"echo ok > /etc/passwd", ">"}, {"echo ok >> f", ">"},
      {"echo < /etc/shadow", "<"},    {"echo a; b | c", ";"},
      {"echo a | b; c", "|"},
  };
  for (const auto& ex : examples)
    BOOST_TEST(refusal(list, shell(ex.command)) ==
                   op_message(ex.command, ex.op),
               ex.command);
}

BOOST_AUTO_TEST_CASE(harmless_shell_syntax_passes) {
  auto list = allow_list::parse("echo");
  BOOST_TEST(refusal(list, shell("echo $HOME 'quoted' \"double\" 1+1=2")) ==
             "");
  BOOST_TEST(refusal(list, shell("echo ${HOME}")) == "");
}

BOOST_AUTO_TEST_CASE(unlisted_word_is_reported_before_operators) {
  auto list = allow_list::parse("echo");
  BOOST_TEST(refusal(list, shell("rm x; echo y")) ==
             "Command 'rm' is not allowed");
  BOOST_TEST(refusal(list, shell("echo;rm")) ==
             "Command 'echo;rm' is not allowed");
}

BOOST_AUTO_TEST_SUITE_END()
