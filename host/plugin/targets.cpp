#include "plugin/targets.h"

namespace bentos::plugin {

HandleTable<PushTarget>& push_targets() {
  static HandleTable<PushTarget> table;
  return table;
}

HandleTable<CycleTarget>& cycle_targets() {
  static HandleTable<CycleTarget> table;
  return table;
}

}  // namespace bentos::plugin
