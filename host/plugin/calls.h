// Requests handed to a plugin (bentos_call handles) and how their answers
// come back: the plugin completes from any thread; the completion travels
// through the device's LoopInbox and runs `deliver` on the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bentos/driver.h"
#include "patterns/completion.h"
#include "plugin/handle_table.h"
#include "plugin/loop_inbox.h"

namespace bentos::plugin {

// One call awaiting its answer. Created and delivered on the loop thread;
// the table entry is what other threads race for (take() decides).
struct PendingCall {
  std::shared_ptr<LoopInbox> inbox;
  std::function<void(patterns::Completion&&)> deliver;  // loop thread only
  std::string device;                                    // for log lines
};

HandleTable<PendingCall>& call_table();

// Any thread. Routes `answer` to the call's deliver(); returns 0, or -ESTALE
// (logged) when the call was already answered, timed out or was forgotten
// because its connection closed. A non-empty `plugin_bug` (what was wrong
// with the completion, already corrected in `answer`) is logged as a
// warning naming the call's device.
int32_t complete_call(bentos_call* call, patterns::Completion&& answer, const std::string& plugin_bug = {});

// The services table given to every plugin instance.
const bentos_host_services* host_services();

}  // namespace bentos::plugin
