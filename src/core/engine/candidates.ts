/**
 * A source as the selection sees it: options, reachability and its statistics' selection
 * and tracking data at a given time.
 *
 * @module
 */
import { refIdFromAddress } from "../../ntp/packet.ts";
import type { SelectionCandidate } from "../select/mod.ts";
import type { Source } from "../source/source.ts";
import type { Instant } from "../../base/time.ts";

/** The selection candidate for source `s` at cooked time `now`. */
export function selectionCandidate(s: Source, now: Instant): SelectionCandidate {
  const p = s.params;
  return {
    id: s.id,
    noselect: p.noselect,
    prefer: p.prefer,
    trust: p.trust,
    require: p.require,
    reachability: s.reachability,
    unreachableRun: s.unreachableRun,
    maxUnreach: p.maxUnreach,
    selection: s.stats.selectionData(now),
    tracking: s.stats.trackingData(),
    isNtp: s.type !== "refclock",
    // chrony logs "192.0.2.1 (ntp.example.net)" when the source has a name.
    name: s.name !== null && s.name !== s.addressText
      ? `${s.addressText} (${s.name})`
      : s.addressText,
    reachabilitySize: s.reachabilitySize,
    pollsSinceGoodSample: s.pollsSinceGoodSample,
    refId: s.refId ?? refIdFromAddress(s.addressText) ?? 0,
  };
}
