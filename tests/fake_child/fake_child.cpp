// fake_child: a small multi-mode child program for actorexec's integration
// tests.
//
// Flags are actions (or settings) executed strictly in command-line order, so a
// test composes a scenario, e.g.
//   fake_child --ignore-term --grandchildren 3 --print-pid --sleep-ms 60000
//
// Every byte goes out through write(2) directly: nothing is buffered, so what a
// test sees never depends on stdio flushing.
//
// Settings
//   --width W            width of numbered lines, newline included (default
//   100)
//   --tag T              prefix of numbered lines and stderr lines (default "")
//   --interval-ms N      pause between ticks (default 100)
// Actions
//   --lines N [--width W]  N numbered lines "<tag>line 000001 xxxx...\n" to
//   stdout
//   --flood BYTES          BYTES of the numbered-line stream (width 100), in
//   large
//                          write() calls; the last line may be cut short
//   --stderr-lines N       N lines "<tag>err 000001\n" to stderr
//   --text STR             STR + "\n" to stdout
//   --invalid-utf8         a fixed byte sequence that is not valid UTF-8, then
//   a
//                          valid line whose 4-byte character is written in two
//                          write() calls 50 ms apart (see kInvalidUtf8* below)
//   --all-bytes            the 256 byte values 0x00..0xff, then "\n"
//   --long-line N          one line of N chars ('a'..'z' cycling) + "\n"
//   --ticks N              N lines "tick K\n" (K from 1), one every
//   --interval-ms
//   --sleep-ms N           sleep N ms
//   --ignore-term          ignore SIGTERM from now on
//   --grandchildren N      fork N grandchildren (same process group) that
//   ignore
//                          SIGTERM, keep stdout/stderr open, print
//                          "grandchild PID\n" and sleep 300 s
//   --print-pid            "pid PID pgid PGID\n"
//   --print-cwd            "cwd PATH\n"
//   --getenv NAME          "NAME=VALUE\n", or "NAME unset\n"
//   --echo-stdin           copy stdin to stdout until EOF, then "stdin-eof\n"
//   --exit N               exit with code N (the default at the end is 0)
//   --kill-self SIG        raise(SIG) with its default action
//
// Bad arguments: a message on stderr and exit code 2.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <unistd.h>

namespace {

// The fixed invalid sequence: a lone 0xff 0xfe, a 2-byte lead followed by '(',
// an encoded UTF-16 surrogate (U+D800), all on one line.
constexpr char kInvalidUtf8Line[] = "\xff\xfe ok \xc3\x28 \xed\xa0\x80\n";
// Then "emoji U+1F600 done\n" with the character split across two writes.
constexpr char kSplitCharHead[] = "emoji \xf0\x9f";
constexpr char kSplitCharTail[] = "\x98\x80 done\n";

int width = 100;
std::string tag;
long interval_ms = 100;

[[noreturn]] void usage(const std::string& why) {
  std::string msg = "fake_child: " + why + "\n";
  (void)!::write(2, msg.data(), msg.size());
  _exit(2);
}

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      _exit(3); // the reader went away
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void write_all(int fd, const std::string& s) {
  write_all(fd, s.data(), s.size());
}

void sleep_ms(long ms) {
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) ==
         EINTR) {
  }
}

long to_number(const char* flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 0)
    usage(std::string("bad number for ") + flag + ": " + text);
  return v;
}

// "<tag>line 000042 xxxx...x\n", `w` bytes long unless the prefix is longer.
void append_numbered_line(std::string& out, long i, int w) {
  char num[32];
  std::snprintf(num, sizeof num, "%06ld", i);
  size_t start = out.size();
  out += tag;
  out += "line ";
  out += num;
  out += ' ';
  size_t len = out.size() - start;
  if (w > 1 && len < static_cast<size_t>(w - 1))
    out.append(static_cast<size_t>(w - 1) - len, 'x');
  out += '\n';
}

void lines(long n) {
  std::string buf;
  for (long i = 1; i <= n; ++i) {
    append_numbered_line(buf, i, width);
    if (buf.size() >= 64 * 1024) {
      write_all(1, buf);
      buf.clear();
    }
  }
  write_all(1, buf);
}

void flood(long bytes) {
  constexpr size_t block = 1 << 20;
  std::string buf;
  long i = 0;
  long left = bytes;
  while (left > 0) {
    while (buf.size() < block)
      append_numbered_line(buf, ++i, 100);
    size_t n = std::min(buf.size(), static_cast<size_t>(left));
    write_all(1, buf.data(), n);
    buf.erase(0, n);
    left -= static_cast<long>(n);
  }
}

void stderr_lines(long n) {
  std::string buf;
  char line[64];
  for (long i = 1; i <= n; ++i) {
    std::snprintf(line, sizeof line, "err %06ld\n", i);
    buf += tag;
    buf += line;
  }
  write_all(2, buf);
}

void invalid_utf8() {
  write_all(1, kInvalidUtf8Line, sizeof kInvalidUtf8Line - 1);
  write_all(1, kSplitCharHead, sizeof kSplitCharHead - 1);
  sleep_ms(50);
  write_all(1, kSplitCharTail, sizeof kSplitCharTail - 1);
}

void all_bytes() {
  std::string buf;
  for (int b = 0; b < 256; ++b)
    buf += static_cast<char>(b);
  buf += '\n';
  write_all(1, buf);
}

void long_line(long n) {
  std::string buf;
  buf.reserve(static_cast<size_t>(n) + 1);
  for (long i = 0; i < n; ++i)
    buf += static_cast<char>('a' + i % 26);
  buf += '\n';
  write_all(1, buf);
}

void ticks(long n) {
  for (long i = 1; i <= n; ++i) {
    write_all(1, "tick " + std::to_string(i) + "\n");
    if (i < n)
      sleep_ms(interval_ms);
  }
}

void grandchildren(long n) {
  for (long i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0)
      usage(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
      std::signal(SIGTERM, SIG_IGN);
      write_all(1, "grandchild " + std::to_string(getpid()) + "\n");
      sleep_ms(300 * 1000); // bounded: never outlives a broken test run by much
      _exit(0);
    }
  }
}

void print_pid() {
  write_all(1, "pid " + std::to_string(getpid()) + " pgid " +
                   std::to_string(getpgrp()) + "\n");
}

void print_cwd() {
  char buf[4096];
  if (getcwd(buf, sizeof buf) == nullptr)
    usage("getcwd failed");
  write_all(1, std::string("cwd ") + buf + "\n");
}

void print_env(const char* name) {
  const char* v = std::getenv(name);
  write_all(1, v ? std::string(name) + "=" + v + "\n"
                 : std::string(name) + " unset\n");
}

void echo_stdin() {
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    write_all(1, buf, static_cast<size_t>(n));
  }
  write_all(1, "stdin-eof\n");
}

void kill_self(long sig) {
  std::signal(static_cast<int>(sig), SIG_DFL);
  std::raise(static_cast<int>(sig));
  _exit(128 + static_cast<int>(sig)); // only if the signal did not end us
}

} // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto arg = [&]() -> const char* {
      if (i + 1 >= argc)
        usage(flag + " needs an argument");
      return argv[++i];
    };
    auto num = [&]() { return to_number(flag.c_str(), arg()); };

    if (flag == "--width") {
      width = static_cast<int>(num());
    } else if (flag == "--tag") {
      tag = arg();
    } else if (flag == "--interval-ms") {
      interval_ms = num();
    } else if (flag == "--lines") {
      long n = num();
      if (i + 2 < argc && std::string(argv[i + 1]) == "--width") {
        ++i;
        width = static_cast<int>(num());
      }
      lines(n);
    } else if (flag == "--flood") {
      flood(num());
    } else if (flag == "--stderr-lines") {
      stderr_lines(num());
    } else if (flag == "--text") {
      write_all(1, std::string(arg()) + "\n");
    } else if (flag == "--invalid-utf8") {
      invalid_utf8();
    } else if (flag == "--all-bytes") {
      all_bytes();
    } else if (flag == "--long-line") {
      long_line(num());
    } else if (flag == "--ticks") {
      ticks(num());
    } else if (flag == "--sleep-ms") {
      sleep_ms(num());
    } else if (flag == "--ignore-term") {
      std::signal(SIGTERM, SIG_IGN);
    } else if (flag == "--grandchildren") {
      grandchildren(num());
    } else if (flag == "--print-pid") {
      print_pid();
    } else if (flag == "--print-cwd") {
      print_cwd();
    } else if (flag == "--getenv") {
      print_env(arg());
    } else if (flag == "--echo-stdin") {
      echo_stdin();
    } else if (flag == "--exit") {
      _exit(static_cast<int>(num()));
    } else if (flag == "--kill-self") {
      kill_self(num());
    } else {
      usage("unknown flag " + flag);
    }
  }
  return 0;
}
