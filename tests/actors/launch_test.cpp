#define BOOST_TEST_MODULE actors_launch
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "actors/launch.hpp"

using namespace actorexec;

namespace {

/// A plan for `/bin/sh -c script` whose stdout and stderr go to one pipe.
struct shell_run {
  launch_plan plan;
  unique_fd out_read;
  unique_fd out_write;
  unique_fd null_in{::open("/dev/null", O_RDONLY | O_CLOEXEC)};

  explicit shell_run(const std::string& script) {
    int fds[2];
    BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    out_read.reset(fds[0]);
    out_write.reset(fds[1]);
    plan.exe = "/bin/sh";
    plan.argv = {"/bin/sh", "-c", script};
    plan.env = {"PATH=/usr/bin:/bin"};
    plan.stdio = {{null_in.get(), out_write.get(), out_write.get()}};
  }

  /// Launches, reads everything the child writes, reaps it.
  std::string output(std::error_code& ec, int* status = nullptr) {
    auto child = launch(plan, ec);
    out_write.reset();
    if (ec)
      return {};
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out_read.get(), buf, sizeof buf)) > 0)
      text.append(buf, static_cast<std::size_t>(n));
    int st = 0;
    ::waitpid(child.pid, &st, 0);
    if (status)
      *status = st;
    return text;
  }

  std::string output() {
    std::error_code ec;
    auto text = output(ec);
    BOOST_TEST(!ec, ec.message());
    return text;
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(stdio_installed_and_other_descriptors_closed) {
  shell_run run{"echo out; echo err >&2; ls /proc/self/fd"};
  // Inheritable on purpose: the child must close it itself.
  // High, so that no descriptor of the child's own can have its number.
  unique_fd null{::open("/dev/null", O_RDONLY)};
  unique_fd stray{::fcntl(null.get(), F_DUPFD, 200)};
  unique_fd kept{::open("/dev/null", O_RDONLY)};
  run.plan.keep_fds = {kept.get()};
  auto text = run.output();
  // ls lists 0, 1, 2, the kept one and its own directory's.
  auto kept_line = std::to_string(kept.get()) + "\n";
  BOOST_TEST(text.rfind("out\nerr\n0\n1\n2\n", 0) == 0u, text);
  BOOST_TEST(text.find(kept_line) != std::string::npos, text);
  BOOST_TEST(text.find("\n" + std::to_string(stray.get()) + "\n") ==
                 std::string::npos,
             text);
}

BOOST_AUTO_TEST_CASE(stdio_fds_below_3_are_not_overwritten) {
  shell_run run{"echo to-stdout; echo to-stderr >&2"};
  // Swapped: the child's stdout is our stderr's number and the other way
  // round; a naive dup2 in order would send both to one.
  int fds[2];
  BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  unique_fd err_read{fds[0]}, err_write{fds[1]};
  int saved1 = ::dup(1), saved2 = ::dup(2);
  ::dup2(run.out_write.get(), 2);
  ::dup2(err_write.get(), 1);
  run.plan.stdio = {{run.null_in.get(), 2, 1}};
  std::error_code ec;
  auto child = launch(run.plan, ec);
  ::dup2(saved1, 1);
  ::dup2(saved2, 2);
  ::close(saved1);
  ::close(saved2);
  run.out_write.reset();
  err_write.reset();
  BOOST_REQUIRE(!ec);
  char buf[256];
  auto n = ::read(run.out_read.get(), buf, sizeof buf);
  BOOST_TEST(std::string(buf, n > 0 ? n : 0) == "to-stdout\n");
  n = ::read(err_read.get(), buf, sizeof buf);
  BOOST_TEST(std::string(buf, n > 0 ? n : 0) == "to-stderr\n");
  ::waitpid(child.pid, nullptr, 0);
}

BOOST_AUTO_TEST_CASE(signals_default_and_unblocked_whatever_the_server_has) {
  // What a server started with `&` from a script has, and more.
  struct sigaction ign {
  }, old_usr2{}, old_quit{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGUSR2, &ign, &old_usr2);
  ::sigaction(SIGQUIT, &ign, &old_quit);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGHUP);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  shell_run run{"exec grep -E 'SigIgn|SigBlk' /proc/self/status"};
  auto text = run.output();
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGUSR2, &old_usr2, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  BOOST_TEST(text == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

BOOST_AUTO_TEST_CASE(a_new_session_and_group) {
  shell_run run{"exec sleep 30"};
  std::error_code ec;
  auto child = launch(run.plan, ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST(child.pidfd.get() >= 0);
  BOOST_TEST(::getpgid(child.pid) == child.pid);
  BOOST_TEST(::getsid(child.pid) == child.pid);
  ::kill(-child.pid, SIGKILL);
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
}

BOOST_AUTO_TEST_CASE(rlimits_environment_and_cwd) {
  shell_run run{"ulimit -n; ulimit -t; ulimit -H -t; echo $GREETING; pwd"};
  run.plan.rlimits = {{RLIMIT_NOFILE, 64}, {RLIMIT_CPU, 7}};
  run.plan.env.push_back("GREETING=hello");
  run.plan.cwd = "/tmp";
  BOOST_TEST(run.output() == "64\n7\n8\nhello\n/tmp\n");
}

BOOST_AUTO_TEST_CASE(failures_before_exec_are_errors_and_leave_no_child) {
  auto expect = [](shell_run& run, int err) {
    std::error_code ec;
    auto child = launch(run.plan, ec);
    BOOST_TEST(ec.value() == err, ec.message());
    BOOST_TEST(child.pid == -1);
  };
  shell_run bad_cwd{"true"};
  bad_cwd.plan.cwd = "/nonexistent/dir";
  expect(bad_cwd, ENOENT);
  shell_run not_executable{"true"};
  not_executable.plan.exe = "/etc/passwd";
  expect(not_executable, EACCES);
  shell_run no_stdin{"true"};
  no_stdin.plan.stdio[0] = -1;
  expect(no_stdin, EBADF);
  // Every failed child was reaped by launch.
  BOOST_TEST(::waitpid(-1, nullptr, WNOHANG) == -1);
}

BOOST_AUTO_TEST_CASE(run_as_drops_to_the_user_and_its_groups) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("not root: --run-as cannot be tested");
    return;
  }
  std::shared_ptr<const run_as_user> user;
  BOOST_REQUIRE(!resolve_run_as("nobody", user));
  shell_run run{"id -u; id -g; id -G | wc -w"};
  run.plan.run_as = user;
  auto want = std::to_string(user->uid) + "\n" + std::to_string(user->gid) +
              "\n" + std::to_string(user->groups.size()) + "\n";
  BOOST_TEST(run.output() == want);
  std::shared_ptr<const run_as_user> root;
  BOOST_TEST(resolve_run_as("root", root).has_value());
  BOOST_TEST(resolve_run_as("no-such-user-xyz", root).has_value());
}

BOOST_AUTO_TEST_CASE(controlling_tty_for_a_pty_child) {
  unique_fd master{::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)};
  BOOST_REQUIRE(master);
  BOOST_REQUIRE(::grantpt(master.get()) == 0);
  BOOST_REQUIRE(::unlockpt(master.get()) == 0);
  char name[128];
  BOOST_REQUIRE(::ptsname_r(master.get(), name, sizeof name) == 0);
  unique_fd slave{::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)};
  BOOST_REQUIRE(slave);
  // /dev/tty opens only for a process with a controlling terminal.
  auto script = ": </dev/tty && echo has-tty";
  shell_run with{script};
  with.plan.stdio[0] = slave.get();
  with.plan.controlling_tty = true;
  BOOST_TEST(with.output() == "has-tty\n");
  shell_run without{script};
  without.plan.stdio[0] = slave.get();
  BOOST_TEST(without.output().find("has-tty") == std::string::npos);
}
