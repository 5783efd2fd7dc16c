// How bentosctl prints the control socket's answers for people: aligned
// tables (list, stats), a short summary (status), what a reload changed,
// and the metrics text as the daemon wrote it.
// The answers are the JSON objects of host/daemon/control_commands.h with
// "ok": true; missing fields print as "-".
//
// Writes to std::cout; main's thread only.
#pragma once

#include <nlohmann/json.hpp>

namespace bentos::ctl {

void print_list(const nlohmann::ordered_json& answer);
void print_status(const nlohmann::ordered_json& answer);
void print_stats(const nlohmann::ordered_json& answer);
void print_reload(const nlohmann::ordered_json& answer);
// The Prometheus text of a `metrics` answer, byte for byte (it ends in a
// newline); throws nlohmann::json::exception when the answer has none.
void print_metrics(const nlohmann::ordered_json& answer);

}  // namespace bentos::ctl
