package io.evalfleet.laptop.demo;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.GoldenSubsetWriter.Pair;
import io.evalfleet.common.task.EmbeddingConventions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The files the demo stages: the sentence-embedding models shipped inside jars on Maven Central
 * (copied out to real files, since the fleet reads models by URI), and the project's own golden
 * subset of sentence pairs, written as Parquet.
 */
public final class DemoAssets {
  /**
   * all-MiniLM-L6-v2 in fp32 and its dynamically quantised int8 variant, with their tokenizer, and
   * bge-small-en-v1.5 (another model of the same dimensions, CLS-pooled: {@link #BGE_CONVENTIONS}).
   */
  public enum Model {
    MINILM_FP32("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", 32),
    MINILM_INT8(
        "all-minilm-l6-v2-q", "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json", 8),
    BGE_SMALL(
        "bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json", 32);

    final String dir;
    final String onnxResource;
    final String tokenizerResource;
    public final int bits;

    Model(String dir, String onnxResource, String tokenizerResource, int bits) {
      this.dir = dir;
      this.onnxResource = onnxResource;
      this.tokenizerResource = tokenizerResource;
      this.bits = bits;
    }
  }

  /** The byte-level causal LMs made by scripts/make_causal_lm_fixtures.py, and their tokenizer. */
  public enum CausalModel {
    BYTEGPT_BASE("bytegpt-base"),
    BYTEGPT_FINETUNED("bytegpt-finetuned"),
    /**
     * The base with its logits multiplied by 1.12 (a temperature of about 0.89): sharper than the
     * base, which is already overconfident on English prose, so more NLL per token on every row, a
     * small uniform regression.
     */
    BYTEGPT_TEMPERED("bytegpt-tempered"),
    /** All-zero logits over 300 tokens: another output signature than the byte-level GPTs'. */
    UNIFORM_V300("uniform-v300");

    final String name;

    CausalModel(String name) {
      this.name = name;
    }
  }

  /** The byte-level GPTs' context length. */
  public static final int CAUSAL_CONTEXT = 128;

  /** A model copied to disk: its ONNX file and tokenizer, with digests. */
  public record ModelFiles(ArtifactRef onnx, ArtifactRef tokenizer) {}

  /**
   * bge-small-en-v1.5 as its sentence-transformers configuration says, with its retrieval query
   * instruction.
   */
  public static final EmbeddingConventions BGE_CONVENTIONS =
      new EmbeddingConventions(
          EmbeddingConventions.Pooling.CLS,
          true,
          "Represent this sentence for searching relevant passages: ",
          null,
          null);

  /** The golden subset's source, a TSV authored for this project. */
  public static final String PAIRS_RESOURCE = "/golden/sts-pairs.tsv";

  private final Path root;
  private final Storage storage = Storage.withDefaults();

  public DemoAssets(Path root) {
    this.root = root.toAbsolutePath();
  }

  public ModelFiles model(Model model) throws IOException {
    Path dir = root.resolve("models").resolve(model.dir);
    Files.createDirectories(dir);
    Path onnx = copy(model.onnxResource, dir.resolve("model.onnx"));
    Path tokenizer = copy(model.tokenizerResource, dir.resolve("tokenizer.json"));
    return new ModelFiles(ref(onnx), ref(tokenizer));
  }

  public ModelFiles causalModel(CausalModel model) throws IOException {
    Path dir = root.resolve("models").resolve(model.name);
    Files.createDirectories(dir);
    Path onnx = copy("causal-lm/" + model.name + ".onnx", dir.resolve("model.onnx"));
    Path tokenizer = copy("causal-lm/tokenizer.json", dir.resolve("tokenizer.json"));
    return new ModelFiles(ref(onnx), ref(tokenizer));
  }

  /**
   * Writes the held-out English text (one row per line) as a Parquet subset with a {@code text}
   * column.
   */
  public SubsetRef heldoutText() throws IOException {
    List<String> rows;
    try (InputStream in = resource("/causal-lm/heldout.txt")) {
      rows =
          new String(in.readAllBytes(), StandardCharsets.UTF_8)
              .lines()
              .filter(l -> !l.isBlank())
              .toList();
    }
    Path dir = root.resolve("golden");
    Files.createDirectories(dir);
    Path file = dir.resolve("heldout-text-v1.parquet");
    GoldenSubsetWriter.writeTexts(new org.apache.hadoop.fs.Path(file.toUri()), rows, 512);
    return new SubsetRef(
        file.toUri().toString(),
        storage.sha256(file.toUri().toString()),
        "heldout-text-v1",
        Map.of());
  }

  /**
   * Writes {@code rows} rows of English text as a Parquet subset with a {@code text} column: each a
   * stretch of 32 to 160 bytes of the held-out text, from a seeded offset, cut at spaces; row
   * groups of about 16 KB, so that a row of a seeded order is found by decoding one small group.
   */
  public SubsetRef englishRows(int rows) throws IOException {
    String text;
    try (InputStream in = resource("/causal-lm/heldout.txt")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace('\n', ' ');
    }
    java.util.Random random = new java.util.Random(42);
    List<String> texts = new ArrayList<>(rows);
    while (texts.size() < rows) {
      int length = 32 + random.nextInt(129);
      int start = random.nextInt(text.length() - length);
      int from = text.indexOf(' ', start);
      int to = text.lastIndexOf(' ', start + length);
      if (from >= 0 && to > from + 8) {
        texts.add(text.substring(from + 1, to));
      }
    }
    Path dir = root.resolve("golden");
    Files.createDirectories(dir);
    Path file = dir.resolve("english-" + rows + ".parquet");
    GoldenSubsetWriter.writeTexts(new org.apache.hadoop.fs.Path(file.toUri()), texts, 16 * 1024);
    return new SubsetRef(
        file.toUri().toString(),
        storage.sha256(file.toUri().toString()),
        "english-" + rows,
        Map.of());
  }

  /** Writes the sentence-pair subset as Parquet (several row groups) and returns its reference. */
  public SubsetRef goldenSubset() throws IOException {
    Path dir = root.resolve("golden");
    Files.createDirectories(dir);
    Path file = dir.resolve("sts-pairs-v1.parquet");
    GoldenSubsetWriter.writePairs(
        new org.apache.hadoop.fs.Path(file.toUri()), readPairs(), 4 * 1024);
    return new SubsetRef(
        file.toUri().toString(), storage.sha256(file.toUri().toString()), "sts-pairs-v1", Map.of());
  }

  /**
   * A retrieval subset made from the sentence pairs: each distinct first text is a query, each
   * distinct second text a doc, and each pair a judgement graded from its similarity score (5 → 3,
   * 4 → 2, 3 → 1, below → 0): 48 queries, 192 docs, 240 judgements.
   */
  public SubsetRef retrievalSubset() throws IOException {
    Map<String, String> docs = new LinkedHashMap<>();
    Map<String, String> queries = new LinkedHashMap<>();
    Map<String, String> docIds = new HashMap<>();
    Map<String, String> queryIds = new HashMap<>();
    List<GoldenSubsetWriter.Judgement> judgements = new ArrayList<>();
    for (Pair pair : readPairs()) {
      String query = queryIds.computeIfAbsent(pair.textA(), t -> "q" + queryIds.size());
      queries.putIfAbsent(query, pair.textA());
      String doc = docIds.computeIfAbsent(pair.textB(), t -> "d" + docIds.size());
      docs.putIfAbsent(doc, pair.textB());
      judgements.add(
          new GoldenSubsetWriter.Judgement(
              query, doc, (int) Math.max(0, Math.round(pair.gold()) - 2)));
    }
    Path dir = root.resolve("golden");
    Files.createDirectories(dir);
    Path file = dir.resolve("sts-retrieval-v1.parquet");
    GoldenSubsetWriter.writeRetrieval(
        new org.apache.hadoop.fs.Path(file.toUri()),
        new GoldenSubsetWriter.Retrieval(docs, queries, judgements),
        16 * 1024);
    return new SubsetRef(
        file.toUri().toString(),
        storage.sha256(file.toUri().toString()),
        "sts-retrieval-v1",
        Map.of());
  }

  public static List<Pair> readPairs() throws IOException {
    try (InputStream in = resource(PAIRS_RESOURCE);
        BufferedReader reader =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      List<Pair> pairs = new ArrayList<>();
      String header = reader.readLine();
      if (!"id\ttext_a\ttext_b\tgold".equals(header)) {
        throw new IOException(PAIRS_RESOURCE + " has an unexpected header: " + header);
      }
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t", -1);
        if (f.length != 4) {
          throw new IOException(
              PAIRS_RESOURCE + ": expected 4 fields, got " + f.length + " in: " + line);
        }
        pairs.add(new Pair(Long.parseLong(f[0]), f[1], f[2], Double.parseDouble(f[3])));
      }
      return pairs;
    }
  }

  private ArtifactRef ref(Path file) throws IOException {
    String uri = file.toUri().toString();
    return new ArtifactRef(uri, storage.sha256(uri));
  }

  private static Path copy(String resource, Path target) throws IOException {
    try (InputStream in = resource("/" + resource)) {
      long expected = -1;
      if (Files.exists(target)) {
        expected = Files.size(target);
      }
      Path tmp =
          Files.createTempFile(target.getParent(), target.getFileName().toString(), ".partial");
      try {
        long copied = Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        if (copied != expected) {
          Files.move(
              tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
      return target;
    }
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = DemoAssets.class.getResourceAsStream(name);
    if (in == null) {
      throw new IOException("resource " + name + " is not on the classpath");
    }
    return in;
  }
}
