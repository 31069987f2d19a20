package io.evalfleet.common.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.EmbeddingConventions.Pooling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The conventions a sentence-transformers model folder ships with its weights: the pooling its
 * {@code Pooling} module's {@code config.json} sets ({@code pooling_mode_cls_token}, {@code
 * pooling_mode_mean_tokens}, {@code pooling_mode_max_tokens}, {@code pooling_mode_lasttoken}),
 * whether {@code modules.json} ends in a {@code Normalize} module, and the prompt prefixes of
 * {@code config_sentence_transformers.json} ({@code prompts.query} before a query or a pair's first
 * text, {@code prompts.document}, {@code passage} or {@code corpus} before a document or a pair's
 * second text). Scoring a model under other conventions measures another model: bge's CLS pooling
 * read as mean pooling moves its cosines by up to 0.10.
 *
 * @param folder the folder holding {@code modules.json}
 * @param pooling the pooling its Pooling module sets; null when it has none (an already pooled
 *     output)
 * @param normalize whether its modules end in Normalize
 * @param queryPrompt the prefix before a query or a pair's first text, "" for none
 * @param documentPrompt the prefix before a document or a pair's second text, "" for none
 * @param sources where each of the above was read, by field name, for messages
 */
public record SentenceTransformersFolder(
    Path folder,
    Pooling pooling,
    boolean normalize,
    String queryPrompt,
    String documentPrompt,
    Map<String, String> sources) {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String MODULES = "modules.json";
  private static final String POOLING_MODULE = "sentence_transformers.models.Pooling";
  private static final String NORMALIZE_MODULE = "sentence_transformers.models.Normalize";
  private static final Map<String, Pooling> MODES =
      Map.of(
          "pooling_mode_cls_token",
          Pooling.CLS,
          "pooling_mode_mean_tokens",
          Pooling.MEAN,
          "pooling_mode_max_tokens",
          Pooling.MAX,
          "pooling_mode_lasttoken",
          Pooling.LAST_TOKEN);
  private static final List<String> UNSUPPORTED_MODES =
      List.of("pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens");

  /**
   * The ONNX file of a model given as a folder ({@code model.onnx}, else {@code onnx/model.onnx},
   * as sentence-transformers and optimum write them) or as the file itself.
   *
   * @throws InputException when a folder holds neither
   */
  public static Path modelFile(Path folderOrFile) throws InputException {
    if (!Files.isDirectory(folderOrFile)) {
      return folderOrFile;
    }
    for (Path candidate :
        List.of(
            folderOrFile.resolve("model.onnx"),
            folderOrFile.resolve("onnx").resolve("model.onnx"))) {
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new InputException(
        "folder "
            + folderOrFile
            + " holds no model.onnx (looked for model.onnx and"
            + " onnx/model.onnx); name the ONNX file");
  }

  /**
   * The sentence-transformers configuration of a model given as its folder or as an ONNX file in it
   * ({@code modules.json} in the folder, beside the file, or one level up, for {@code
   * onnx/model.onnx}); empty when there is none.
   *
   * @throws InputException when the configuration is unreadable or sets a pooling evalfleet does
   *     not compute
   */
  public static Optional<SentenceTransformersFolder> find(Path folderOrFile) throws InputException {
    Path absolute = folderOrFile.toAbsolutePath().normalize();
    List<Path> candidates = new ArrayList<>();
    if (Files.isDirectory(absolute)) {
      candidates.add(absolute);
    } else if (absolute.getParent() != null) {
      candidates.add(absolute.getParent());
      if (absolute.getParent().getParent() != null) {
        candidates.add(absolute.getParent().getParent());
      }
    }
    for (Path dir : candidates) {
      if (Files.isRegularFile(dir.resolve(MODULES))) {
        return Optional.of(read(dir));
      }
    }
    return Optional.empty();
  }

  /** Reads the configuration of a folder that holds {@code modules.json}. */
  public static SentenceTransformersFolder read(Path folder) throws InputException {
    Map<String, String> sources = new LinkedHashMap<>();
    JsonNode modules = json(folder.resolve(MODULES));
    if (!modules.isArray()) {
      throw new InputException(folder.resolve(MODULES) + " is not a list of modules");
    }
    Pooling pooling = null;
    boolean normalize = false;
    for (JsonNode module : modules) {
      String type = module.path("type").asText();
      if (type.equals(POOLING_MODULE)) {
        Path config = folder.resolve(module.path("path").asText()).resolve("config.json");
        pooling = pooling(config);
        sources.put("pooling", folder.relativize(config).toString());
      } else if (type.equals(NORMALIZE_MODULE)) {
        normalize = true;
      }
    }
    sources.put(
        "normalize",
        normalize ? "a Normalize module in " + MODULES : "no Normalize module in " + MODULES);
    String query = "";
    String document = "";
    Path st = folder.resolve("config_sentence_transformers.json");
    if (Files.isRegularFile(st)) {
      JsonNode prompts = json(st).path("prompts");
      query = prompts.path("query").asText("");
      for (String name : List.of("document", "passage", "corpus")) {
        if (document.isEmpty()) {
          document = prompts.path(name).asText("");
        }
      }
      if (!query.isEmpty() || !document.isEmpty()) {
        sources.put("prompts", "prompts in " + folder.relativize(st));
      }
    }
    return new SentenceTransformersFolder(
        folder, pooling, normalize, query, document, Map.copyOf(sources));
  }

  /** The event's embedding conventions as the folder ships them. */
  public EmbeddingConventions conventions() {
    return new EmbeddingConventions(pooling, normalize, queryPrompt, documentPrompt, null);
  }

  /**
   * One line naming each convention and the file it comes from, e.g. {@code pooling cls
   * (1_Pooling/config.json), normalized (a Normalize module in modules.json), no prefix}.
   */
  public String describe() {
    String prompts =
        queryPrompt.isEmpty() && documentPrompt.isEmpty()
            ? "no prefix"
            : "prefixes \""
                + queryPrompt
                + "\"/\""
                + documentPrompt
                + "\" ("
                + sources.get("prompts")
                + ")";
    return (pooling == null
            ? "no pooling module"
            : "pooling " + pooling.wireName() + " (" + sources.get("pooling") + ")")
        + ", "
        + (normalize ? "normalized" : "not normalized")
        + " ("
        + sources.get("normalize")
        + "), "
        + prompts;
  }

  /**
   * Where {@code asked} (a user's explicit conventions) contradicts what the folder ships, one
   * sentence each; empty when it does not.
   */
  public List<String> contradictions(
      EmbeddingConventions asked, boolean poolingAsked, boolean normalizeAsked) {
    List<String> out = new ArrayList<>();
    if (poolingAsked && pooling != null && asked.pooling() != pooling) {
      out.add(
          "--pooling "
              + asked.pooling().wireName()
              + " contradicts the model's own sentence-transformers"
              + " configuration ("
              + sources.get("pooling")
              + " pools by "
              + pooling.wireName()
              + "); scoring with "
              + asked.pooling().wireName()
              + " as asked measures another model than the one that ships");
    }
    if (normalizeAsked && asked.normalize() != normalize) {
      out.add(
          (asked.normalize() ? "normalizing" : "--no-normalize")
              + " contradicts the model's own configuration ("
              + sources.get("normalize")
              + ")");
    }
    return out;
  }

  private static Pooling pooling(Path config) throws InputException {
    JsonNode node = json(config);
    List<Pooling> set = new ArrayList<>();
    for (String unsupported : UNSUPPORTED_MODES) {
      if (node.path(unsupported).asBoolean(false)) {
        throw new InputException(
            config
                + " sets "
                + unsupported
                + ", a pooling evalfleet does not compute (it"
                + " computes "
                + MODES.keySet().stream().sorted().toList()
                + ")");
      }
    }
    for (Map.Entry<String, Pooling> mode : MODES.entrySet()) {
      if (node.path(mode.getKey()).asBoolean(false)) {
        set.add(mode.getValue());
      }
    }
    if (set.size() != 1) {
      throw new InputException(
          config
              + " sets "
              + (set.isEmpty()
                  ? "no pooling mode"
                  : set.size() + " pooling modes (their vectors concatenated)")
              + "; evalfleet computes exactly one of "
              + MODES.keySet().stream().sorted().toList());
    }
    return set.get(0);
  }

  private static JsonNode json(Path file) throws InputException {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new InputException(file + " cannot be read as JSON: " + e.getMessage(), e);
    }
  }
}
