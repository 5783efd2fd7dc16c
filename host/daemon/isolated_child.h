// The child mode of bentos-driver-host (`bentos-driver-host --isolated-child`,
// started only by the host itself; isolation/isolated_device.h): reads its
// setup from the channel (fd 4), confines itself (limits, user, no new
// privileges), loads its one device's plugin into a Host of its own and
// serves the listening socket it inherited (fd 3), answering the parent's
// control-protocol requests on the channel. It stops on SIGTERM and when
// the channel closes (the parent is gone).
//
// Runs on the child's main thread; nothing here outlives the call.
#pragma once

namespace bentos::daemon {

// argv[1] is isolation::kChildModeArgument. Returns the exit status:
// 0 after a clean stop, 78 when the device could not start (the reason is
// on the channel and in the log), 70 on a broken setup.
int run_isolated_child(int argc, char** argv);

}  // namespace bentos::daemon
