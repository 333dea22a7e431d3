#define BOOST_TEST_MODULE actors_child_io
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <caf/all.hpp>

#include "actors/child_io.hpp"

using namespace actorexec;
using namespace std::chrono_literals;

namespace {

/// Real children on an io_context of their own; a scoped actor is the owner
/// that receives what child_io reports.
struct fixture {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work = boost::asio::make_work_guard(ioc);
  std::thread io_thread{[this] { ioc.run(); }};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  ~fixture() {
    work.reset();
    ioc.stop();
    io_thread.join();
  }

  std::shared_ptr<child_io> spawn(std::vector<std::string> argv,
                                  bool stdin_pipe = false) {
    spawn_spec spec;
    spec.params.argv = std::move(argv);
    spec.params.stdin_pipe = stdin_pipe;
    boost::system::error_code ec;
    auto io = child_io::spawn(ioc, spec, caf::actor_cast<caf::actor>(self), ec);
    BOOST_REQUIRE_MESSAGE(io, ec.message());
    return io;
  }
};

/// Whether `pid` is gone for good: not even a zombie left to reap.
bool reaped(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info,
                  WEXITED | WNOHANG | WNOWAIT) < 0 &&
         errno == ECHILD;
}

bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(child_io_tests, fixture)

// Before: the destructor sent SIGKILL and reaped with WNOHANG at once,
// before the child had died, so it stayed a zombie for the server's life.
BOOST_AUTO_TEST_CASE(a_dropped_child_io_kills_and_reaps_its_child) {
  auto io = spawn({"sleep", "30"});
  auto pid = io->pid();
  io.reset();
  BOOST_TEST(eventually([pid] { return reaped(pid); }));
}

// Before: every failed write was reported as EPIPE.
BOOST_AUTO_TEST_CASE(a_stdin_write_error_reports_its_own_errno) {
  auto io = spawn({"sleep", "30"}, true);
  io->wait();
  // More than the pipe holds: the write is still pending when stdin closes.
  io->write(std::string(1 << 20, 'x'), false);
  std::this_thread::sleep_for(50ms);
  io->close_pipes();
  int err = -1;
  self->receive([&](wrote_atom, std::uint64_t, int e) { err = e; },
                caf::after(10s) >> [] { BOOST_FAIL("no wrote_atom"); });
  BOOST_TEST(err == ECANCELED);
  // Later writes find stdin closed: that is EPIPE.
  io->write("late", false);
  self->receive([&](wrote_atom, std::uint64_t, int e) { err = e; },
                caf::after(10s) >> [] { BOOST_FAIL("no wrote_atom"); });
  BOOST_TEST(err == EPIPE);
  auto pid = io->pid();
  io->release(true);
  io.reset();
  BOOST_TEST(eventually([pid] { return reaped(pid); }));
}

BOOST_AUTO_TEST_CASE(an_exit_is_reported_and_reaped_on_release) {
  auto io = spawn({"sh", "-c", "exit 3"});
  io->wait();
  int status = -1;
  self->receive([&](exited_atom, int s) { status = s; },
                caf::after(10s) >> [] { BOOST_FAIL("no exited_atom"); });
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 3));
  auto pid = io->pid();
  BOOST_TEST(!reaped(pid)); // the zombie keeps the group's number
  io->release(false);
  BOOST_TEST(eventually([pid] { return reaped(pid); }));
}

BOOST_AUTO_TEST_SUITE_END()

// Before: a waitid result that is no exit (stopped, continued) was taken
// for status 0, and the process announced `completed` with exit code 0.
BOOST_AUTO_TEST_CASE(only_an_exit_or_a_signal_is_a_wait_status) {
  siginfo_t info{};
  info.si_code = CLD_EXITED;
  info.si_status = 3;
  BOOST_TEST(wait_status_of(info).value() == W_EXITCODE(3, 0));
  info.si_code = CLD_KILLED;
  info.si_status = SIGKILL;
  BOOST_TEST(WTERMSIG(wait_status_of(info).value()) == SIGKILL);
  info.si_code = CLD_DUMPED;
  info.si_status = SIGSEGV;
  BOOST_TEST(WCOREDUMP(wait_status_of(info).value()));
  for (int code : {int{CLD_STOPPED}, int{CLD_CONTINUED}, int{CLD_TRAPPED}, 0}) {
    info.si_code = code;
    BOOST_TEST(!wait_status_of(info).has_value());
  }
}

// Before: errors from adopting an output pipe were ignored, and the spawn
// went on with a descriptor nobody could wait on.
BOOST_AUTO_TEST_CASE(an_output_pipe_that_cannot_be_watched_is_an_error) {
  boost::asio::io_context ioc;
  boost::asio::posix::stream_descriptor d{ioc};
  int unused = 1000;
  BOOST_REQUIRE(::fcntl(unused, F_GETFD) < 0);
  BOOST_TEST(watch_output_pipe(d, unique_fd{unused}).value() == EBADF);
  BOOST_TEST(!d.is_open());
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  unique_fd write_end{fds[1]};
  BOOST_TEST(!watch_output_pipe(d, unique_fd{fds[0]}));
  BOOST_TEST((::fcntl(d.native_handle(), F_GETFL) & O_NONBLOCK) != 0);
}
