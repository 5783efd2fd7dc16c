// The llm-stream scenario's setting: the mock provider
// (tests/support/mock_llm/mock_llm.py, run by python3) and a
// bentos-driver-host of the scenario's own serving two devices, `llm` (the
// llm plugin, provider openai, base_url the mock) and `kv` (kv.so), so the
// kv numbers are taken on the host that streams.
//
// The mock and the host inherit the bench's placement (--placement; by
// default everything on CPU 0: what a chunk costs in software, the same
// for the host path and the direct baseline). For the kv numbers the mock
// moves to the last CPU: it stands for a remote server there, and its
// Python must not take the CPU the host's loop needs.
//
// Owned by the scenario; one thread.
#pragma once

#include <memory>
#include <string>

#include "host_process.h"
#include "mock_llm.h"
#include "scenarios.h"

namespace bentos::bench {

class LlmRig {
 public:
  // Why llm-stream cannot run with `t` here ("" when it can): no python3
  // in PATH, no mock script, the llm plugin not built.
  static std::string missing(const Target& t);

  // Starts the mock, then the host; `streams` is the most calls the
  // scenario runs at once.
  bool start(const Target& t, uint64_t streams, std::string& error);
  // Moves every thread of the mock to the machine's last CPU (threads it
  // starts later follow its main thread); false with one CPU.
  bool mock_to_last_cpu() const;
  // True when the host exited 0 on SIGTERM.
  bool stop() { return host_.stop(); }

  const test::MockLlm& mock() const { return *mock_; }
  std::string llm_socket() const { return host_.socket("llm"); }
  std::string kv_socket() const { return host_.socket("kv"); }
  std::string host_log() const { return host_.log_text(); }

 private:
  std::unique_ptr<test::MockLlm> mock_;
  HostProcess host_;
};

}  // namespace bentos::bench
