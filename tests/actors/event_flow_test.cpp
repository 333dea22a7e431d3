#define BOOST_TEST_MODULE actors_event_flow
#include <boost/test/unit_test.hpp>

#include <boost/json.hpp>

#include "actors/event_flow.hpp"

// The flow of a session's events without any actor: retention, windows,
// credit, resumes and read-only copies for watchers.

using namespace actorexec;
using protocol::stream_kind;

namespace {

using clock_type = event_flow::clock;

std::string encode(const retained_event& ev, std::uint64_t seq) {
  if (ev.kind == event_kind::gap)
    return protocol::encode_stream_gap(ev.stream, ev.gap_bytes, ev.gap_frames,
                                       seq);
  if (ev.kind == event_kind::completed)
    return protocol::encode_completed(*ev.detail->completion, seq);
  return protocol::encode_process_event("process.paused", "paused", ev.pid,
                                        ev.pid, seq);
}

struct fixture {
  std::shared_ptr<settings> cfg = std::make_shared<settings>();
  std::shared_ptr<server_stats> stats = std::make_shared<server_stats>();
  std::optional<event_flow> flow;
  clock_type::time_point now{};

  fixture() {
    cfg->max_buffer_bytes = 4096;
    cfg->max_buffer_frames = 100;
    cfg->replay_window_bytes = 1000;
  }

  event_flow&
  make(protocol::overflow_policy policy = protocol::overflow_policy::block) {
    flow.emplace(cfg, stats);
    flow->start_process(policy);
    flow->process_started();
    return *flow;
  }

  /// The child wrote `n` lines of `width` bytes (newline included).
  void lines(std::size_t n, std::size_t width = 10,
             stream_kind s = stream_kind::out) {
    output_batch b;
    b.stream = s;
    for (std::size_t i = 0; i < n; ++i) {
      protocol::output_piece p;
      p.data = std::string(width - 1, 'x') + "\n";
      b.pieces.push_back(std::move(p));
      b.raw_bytes += width;
    }
    flow->on_output(b);
  }

  /// Every batch the window lets go now, as parsed frames.
  std::vector<boost::json::object> drain(std::uint64_t* bytes = nullptr) {
    std::vector<boost::json::object> out;
    while (auto b = flow->next_batch(encode)) {
      std::string_view text = b->text;
      for (auto size : b->sizes) {
        out.push_back(boost::json::parse(text.substr(0, size)).as_object());
        text.remove_prefix(size);
        if (bytes)
          *bytes += size;
      }
    }
    return out;
  }

  static std::uint64_t seq_of(const boost::json::object& f) {
    return f.at("params").at("seq").to_number<std::uint64_t>();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_event_flow, fixture)

BOOST_AUTO_TEST_CASE(block_stops_credit_when_full_and_an_ack_restores_it) {
  auto& f = make();
  auto first = f.take_credit(now);
  BOOST_TEST(first > 0u);
  BOOST_TEST(f.outstanding_credit() == first);
  f.on_ack(0); // explicit mode: nothing leaves without an ack
  lines(100);  // the frame bound
  BOOST_TEST(f.take_credit(now) == 0u);
  auto frames = drain();
  BOOST_REQUIRE_EQUAL(frames.size(), 100u);
  f.on_written(1u << 20);
  // Written, not acked: still full.
  BOOST_TEST(f.take_credit(now + std::chrono::milliseconds{5}) == 0u);
  f.on_ack(seq_of(frames.back()));
  BOOST_TEST(f.buffered_events() == 0u);
  BOOST_TEST(f.take_credit(now + std::chrono::milliseconds{9}) > 0u);
  // The full buffer held the child for the 9 ms in between.
  BOOST_TEST(f.blocked_ns() == 9000000u);
}

BOOST_AUTO_TEST_CASE(implicit_mode_releases_beyond_the_replay_window) {
  auto& f = make();
  lines(50, 100);
  std::uint64_t bytes = 0;
  auto frames = drain(&bytes);
  BOOST_REQUIRE_EQUAL(frames.size(), 50u);
  f.on_written(bytes);
  // About 1000 bytes of frames stay for a resume; the rest is released.
  BOOST_TEST(f.buffered_events() < 50u);
  BOOST_TEST(f.buffered_events() > 0u);
  BOOST_TEST(f.buffered_events() <= 1000u / 100u + 1u);
}

BOOST_AUTO_TEST_CASE(drop_oldest_puts_a_gap_where_the_output_was) {
  auto& f = make(protocol::overflow_policy::drop_oldest);
  lines(150); // 50 over the frame bound, none sent yet
  BOOST_TEST(f.dropped_bytes() > 0u);
  BOOST_TEST(f.buffered_events() <= 100u);
  auto frames = drain();
  BOOST_REQUIRE(!frames.empty());
  BOOST_TEST(frames.front().at("method").as_string() == "stream.gap");
  auto& gap = frames.front().at("params");
  BOOST_TEST(gap.at("dropped_bytes").to_number<std::uint64_t>() ==
             f.dropped_bytes());
  auto kept = frames.size() - 1;
  BOOST_TEST(gap.at("dropped_frames").to_number<std::uint64_t>() + kept ==
             150u);
  BOOST_TEST(stats->dropped_bytes_total.load() == f.dropped_bytes());
}

BOOST_AUTO_TEST_CASE(the_window_holds_back_until_bytes_are_written) {
  cfg->connection_window_bytes = 2000;
  cfg->guaranteed_window_bytes = 2000;
  cfg->window_budget_bytes = 0;
  auto& f = make();
  f.on_ack(0);
  lines(60, 50);
  std::uint64_t bytes = 0;
  auto first = drain(&bytes);
  BOOST_TEST(!first.empty());
  BOOST_TEST(first.size() < 60u);
  BOOST_TEST(drain().empty()); // nothing more until the socket wrote
  f.on_written(bytes);
  auto second = drain();
  BOOST_REQUIRE(!second.empty());
  BOOST_TEST(seq_of(second.front()) == seq_of(first.back()) + 1);
}

BOOST_AUTO_TEST_CASE(a_resume_replays_what_was_not_acked_byte_for_byte) {
  auto& f = make();
  f.on_ack(0);
  lines(10);
  std::vector<std::string> sent;
  while (auto b = f.next_batch(encode)) {
    std::string_view text = b->text;
    for (auto size : b->sizes) {
      sent.emplace_back(text.substr(0, size));
      text.remove_prefix(size);
    }
  }
  BOOST_REQUIRE_EQUAL(sent.size(), 10u);
  f.on_detach();
  BOOST_TEST(!f.on_attach(4).has_value()); // nothing it missed
  std::vector<std::string> again;
  while (auto b = f.next_batch(encode)) {
    std::string_view text = b->text;
    for (auto size : b->sizes) {
      again.emplace_back(text.substr(0, size));
      text.remove_prefix(size);
    }
  }
  BOOST_TEST(again == std::vector<std::string>(sent.begin() + 4, sent.end()));
  BOOST_TEST(f.acked_seq() == 4u);
}

BOOST_AUTO_TEST_CASE(a_resume_from_before_the_log_says_what_it_missed) {
  auto& f = make();
  lines(40, 100); // implicit mode: written events leave past the window
  std::uint64_t bytes = 0;
  drain(&bytes);
  f.on_written(bytes);
  f.on_detach();
  auto missed = f.on_attach(3);
  BOOST_REQUIRE(missed.has_value());
  BOOST_TEST(missed->exact);
  BOOST_TEST(missed->last + 1 == f.events().first_seq());
  BOOST_TEST(missed->events == missed->last - 3);
  BOOST_TEST(missed->bytes == missed->events * 100);
}

BOOST_AUTO_TEST_CASE(a_watcher_copies_without_moving_anything) {
  auto& f = make();
  f.on_ack(0);
  lines(20);
  auto frames = drain();
  BOOST_REQUIRE_EQUAL(frames.size(), 20u);
  auto before = f.events().send_index();
  frame_batch copy;
  auto c = f.copy_from(6, 1u << 20, copy);
  BOOST_TEST(!c.gap.has_value());
  BOOST_TEST(c.next_seq == 21u);
  BOOST_REQUIRE_EQUAL(copy.sizes.size(), 15u);
  std::string_view text = copy.text;
  auto first = boost::json::parse(text.substr(0, copy.sizes[0])).as_object();
  BOOST_TEST(seq_of(first) == 6u);
  BOOST_TEST(f.events().send_index() == before);
  BOOST_TEST(f.last_seq() == 20u);
  // In pages: at least one frame each, the next seq to read from.
  frame_batch page;
  auto p = f.copy_from(6, 1, page);
  BOOST_TEST(page.sizes.size() == 1u);
  BOOST_TEST(p.next_seq == 7u);
  // Acked events are gone: a watcher behind them is told what it missed.
  f.on_ack(10);
  frame_batch late;
  auto l = f.copy_from(3, 1u << 20, late);
  BOOST_REQUIRE(l.gap.has_value());
  BOOST_TEST(l.gap->events == 8u); // seqs 3 to 10
  BOOST_TEST(l.gap->last == 10u);
  BOOST_TEST(l.gap->bytes == 80u);
  BOOST_TEST(late.sizes.size() == 10u);
}

BOOST_AUTO_TEST_CASE(process_events_keep_their_process_pid) {
  auto& f = make();
  retained_event paused;
  paused.kind = event_kind::paused;
  paused.pid = 111;
  f.push_event(paused);
  // Sent only now, after another process would have started.
  auto frames = drain();
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  BOOST_TEST(frames[0].at("params").at("pid").as_int64() == 111);
}

BOOST_AUTO_TEST_SUITE_END()
