package io.evalfleet.dispatcher.topology;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.contract.StagedWeightEvent;
import java.io.IOException;

/**
 * The fields of a staged event that its flag carries, in one place: {@link #of} for a valid event,
 * {@link #ofRejected} for a record that is not one, read best-effort from its JSON. A new event
 * field that the flag should carry is added to both here.
 */
final class FlagFromEvent {
  private FlagFromEvent() {}

  /** A flag builder holding what the flag of {@code event} carries from it. */
  static DriftFlag.Builder of(StagedWeightEvent event) {
    return DriftFlag.builder()
        .eventId(event.eventId())
        .model(event.model())
        .version(event.version())
        .changeKind(event.changeKind())
        .review(event.review());
  }

  /**
   * A flag builder holding what can be read of a rejected record: its model (from the JSON, else
   * {@code key}), its review, when it names a valid one, so a rejected event still reaches its pull
   * request, its change kind, when it names a valid one, and its version, when it names one.
   * Anything unreadable is left unset.
   *
   * @param tree the record read as JSON; null when it is not JSON or too large to read
   */
  static DriftFlag.Builder ofRejected(String eventId, JsonNode tree, String key) {
    DriftFlag.Builder flag = DriftFlag.builder().eventId(eventId).model(modelOfRejected(tree, key));
    if (tree != null && tree.path("review").isObject()) {
      try {
        flag.review(Json.mapper().treeToValue(tree.get("review"), ReviewRef.class));
      } catch (IOException | RuntimeException e) {
        // no valid review: the flag reaches no pull request
      }
    }
    if (tree != null && tree.path("change_kind").isTextual()) {
      ChangeKind.parse(tree.get("change_kind").asText()).ifPresent(flag::changeKind);
    }
    // A pipeline that waits for its version's flag finds it by version, whatever else was wrong.
    if (tree != null
        && tree.path("version").isTextual()
        && !tree.get("version").asText().isBlank()) {
      flag.version(tree.get("version").asText());
    }
    return flag;
  }

  /**
   * The model a rejected record names: its JSON's {@code model}, else the record's key, else none.
   */
  static String modelOfRejected(JsonNode tree, String key) {
    if (tree != null && tree.path("model").isTextual()) {
      return tree.path("model").asText();
    }
    return key == null || key.isEmpty() ? null : key;
  }
}
