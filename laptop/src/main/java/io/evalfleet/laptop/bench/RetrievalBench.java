package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.RetrievalStep;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.process.ProcessMemory;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.plan.RetrievalPlanner;
import io.evalfleet.dispatcher.plan.Shard;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.EmbeddedKafka;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.subset.SubsetReader;
import io.evalfleet.worker.WorkerRole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A retrieval run's two steps on one worker through Kafka, on a synthetic corpus: corpus jobs embed
 * every doc and write the embeddings, then query jobs embed the queries and rank the whole corpus
 * by exact cosine. Prints docs embedded per second, queries scored per second, the embeddings' size
 * and the worker's memory, and, side by side in the same process, the same embedding code on a
 * sample of the docs without jobs or files.
 */
@Command(
    name = "retrieval",
    header = "Times one worker's docs embedded/s and queries scored/s on a retrieval subset.",
    description =
        "Docs embedded/s and queries scored/s of one worker on a synthetic retrieval subset (all-MiniLM-L6-v2), with the worker's memory; beside it, the embedding loop alone on a sample of the docs.")
public final class RetrievalBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--docs",
      defaultValue = "20000",
      description = "Corpus size. Default: ${DEFAULT-VALUE}.")
  int docs;

  @Option(
      names = "--queries",
      defaultValue = "500",
      description = "Queries. Default: ${DEFAULT-VALUE}.")
  int queries;

  @Option(
      names = "--shard-rows",
      defaultValue = "1024",
      description = "Rows per job. Default: ${DEFAULT-VALUE}.")
  int shardRows;

  @Option(
      names = "--sample",
      defaultValue = "2000",
      description = "Docs embedded by the loop alone. Default: ${DEFAULT-VALUE}.")
  int sample;

  @Option(
      names = "--threads",
      defaultValue = "2",
      description = "ONNX Runtime intra-op threads. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(
      names = "--work-dir",
      defaultValue = ".evalfleet/bench",
      description = "Models, subsets and cache. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-retrieval"));
    Storage storage = Storage.withDefaults();
    DemoAssets.ModelFiles model = new DemoAssets(workDir).model(DemoAssets.Model.MINILM_FP32);
    Path file =
        workDir.toAbsolutePath().resolve("golden").resolve("bench-retrieval-" + docs + ".parquet");
    Files.createDirectories(file.getParent());
    List<String> docTexts = corpus(docs, new Random(7));
    writeSubset(file, docTexts, new Random(11));
    SubsetRef subset =
        new SubsetRef(
            file.toUri().toString(), storage.sha256(file.toUri().toString()), null, Map.of());
    GoldenSubsetFile footer = GoldenSubsetFile.readFooter(storage, subset.uri());
    RetrievalPlanner.Plan plan =
        new RetrievalPlanner(shardRows)
            .plan(storage, subset.uri(), footer.schema(), "role", footer.rowCount());
    Path embeddings = workDir.toAbsolutePath().resolve("retrieval-embeddings-" + System.nanoTime());

    double alone;
    try (ModelSessions sessions =
            new ModelSessions(
                new ArtifactCache(storage, workDir.resolve("cache"), Long.MAX_VALUE), threads);
        var tokenizer = sessions.tokenizer(model.tokenizer(), 256);
        var lease = sessions.lease(model.onnx())) {
      EmbeddingScorer embedder = new EmbeddingScorer(sessions, new SubsetReader(storage), 32, 256);
      List<String> texts = docTexts.subList(0, Math.min(sample, docTexts.size()));
      embedder.embed(
          lease.model(),
          tokenizer.tokenizer(),
          EmbeddingConventions.DEFAULTS,
          texts.subList(0, Math.min(64, texts.size())));
      long start = System.nanoTime();
      embedder.embed(lease.model(), tokenizer.tokenizer(), EmbeddingConventions.DEFAULTS, texts);
      alone = texts.size() / ((System.nanoTime() - start) / 1e9);
    }

    double corpusSeconds;
    double querySeconds;
    try (EmbeddedKafka kafka = EmbeddedKafka.start(6)) {
      FleetConfig config =
          FleetConfig.defaults()
              .with(
                  Map.of(
                      FleetConfig.BOOTSTRAP_SERVERS.key(),
                      kafka.bootstrapServers(),
                      FleetConfig.INTRA_OP_THREADS.key(),
                      Integer.toString(threads),
                      FleetConfig.WORKER_CONCURRENCY.key(),
                      "1",
                      FleetConfig.EXECUTION_PROVIDER.key(),
                      "cpu"));
      try (WorkerRole worker =
              new WorkerRole(config, "bench-worker", workDir.resolve("cache")).start();
          KafkaProducer<String, byte[]> producer = KafkaClients.producer(config, "bench");
          KafkaConsumer<String, byte[]> results =
              FleetJobs.readerAtEnd(config, "bench-results", Topics.RESULTS)) {
        long start = System.nanoTime();
        FleetJobs.run(
            producer, results, jobs(model, subset, plan, embeddings, 0, plan.queriesFrom()));
        corpusSeconds = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        FleetJobs.run(
            producer,
            results,
            jobs(model, subset, plan, embeddings, plan.queriesFrom(), plan.shards().size()));
        querySeconds = (System.nanoTime() - start) / 1e9;
      }
    }
    long bytes;
    try (var files = Files.walk(embeddings)) {
      bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    System.out.printf(
        Locale.ROOT,
        "corpus %,d docs in %d corpus jobs, %,d queries in %d query jobs, all-MiniLM-L6-v2 (384"
            + " dimensions), %d intra-op threads%n",
        plan.docs(),
        plan.queriesFrom(),
        plan.queries(),
        plan.shards().size() - plan.queriesFrom(),
        threads);
    System.out.printf(
        Locale.ROOT,
        "embedding loop alone (no jobs, no files), %,d docs: %8.1f docs/s%n",
        Math.min(sample, docs),
        alone);
    System.out.printf(
        Locale.ROOT,
        "worker, corpus jobs (embed + write):          %8.1f docs/s   (%.1f s)%n",
        plan.docs() / corpusSeconds,
        corpusSeconds);
    System.out.printf(
        Locale.ROOT,
        "ratio corpus jobs / loop alone:               %8.3f%n",
        plan.docs() / corpusSeconds / alone);
    System.out.printf(
        Locale.ROOT,
        "worker, query jobs (embed + exact top-k over the corpus): %.1f queries/s (%.1f s)%n",
        plan.queries() / querySeconds,
        querySeconds);
    System.out.printf(
        Locale.ROOT,
        "embeddings written: %.1f MiB; %s%n",
        bytes / 1048576.0,
        ProcessMemory.summary());
    return 0;
  }

  private List<ScoringJob> jobs(
      DemoAssets.ModelFiles model,
      SubsetRef subset,
      RetrievalPlanner.Plan plan,
      Path embeddings,
      int from,
      int to) {
    String run = "bench-retrieval-" + System.nanoTime();
    List<ScoringJob> jobs = new ArrayList<>();
    for (Shard shard : plan.shards().subList(from, to)) {
      RetrievalStep step =
          new RetrievalStep(
              shard.index() < plan.queriesFrom()
                  ? RetrievalStep.Phase.CORPUS
                  : RetrievalStep.Phase.QUERIES,
              embeddings.toUri().toString(),
              null,
              List.of(10));
      jobs.add(
          ScoringJob.builder()
              .jobId(ScoringJob.jobId(run, shard.index()))
              .runId(run)
              .eventId(run)
              .model("bench")
              .version("v")
              .task(Task.RETRIEVAL)
              .artifact(model.onnx())
              .tokenizer(model.tokenizer())
              .goldenSubset(subset)
              .shardIndex(shard.index())
              .shardCount(plan.shards().size())
              .rowStart(shard.start())
              .rowCount(shard.count())
              .metrics(Task.RETRIEVAL.spec().rowValues())
              .attempt(1)
              .deadline(Instant.now().plusSeconds(3600))
              .retrieval(step)
              .build());
    }
    return jobs;
  }

  /**
   * Sentences of 8 to 40 English words drawn from the words of the demo's sentence pairs, the
   * frequent ones more often (real words tokenise as real text does: about a token each).
   */
  static List<String> corpus(int docs, Random random) throws IOException {
    Map<String, Integer> counts = new HashMap<>();
    for (var pair : DemoAssets.readPairs()) {
      for (String text : List.of(pair.textA(), pair.textB())) {
        for (String word : text.toLowerCase(Locale.ROOT).split("[^a-z']+")) {
          if (!word.isEmpty()) {
            counts.merge(word, 1, Integer::sum);
          }
        }
      }
    }
    List<String> vocabulary =
        counts.entrySet().stream()
            .sorted(
                Map.Entry.<String, Integer>comparingByValue()
                    .reversed()
                    .thenComparing(Map.Entry.comparingByKey()))
            .map(Map.Entry::getKey)
            .toList();
    List<String> texts = new ArrayList<>(docs);
    for (int d = 0; d < docs; d++) {
      int words = 8 + random.nextInt(33);
      StringBuilder text = new StringBuilder();
      for (int w = 0; w < words; w++) {
        int rank = (int) Math.floor(Math.pow(vocabulary.size(), random.nextDouble())) - 1;
        text.append(w == 0 ? "" : " ")
            .append(vocabulary.get(Math.max(0, Math.min(vocabulary.size() - 1, rank))));
      }
      texts.add(text.append('.').toString());
    }
    return texts;
  }

  /**
   * The docs, then queries made of a few words of one doc each (that doc judged relevant), then the
   * judgements.
   */
  private void writeSubset(Path file, List<String> docTexts, Random random) throws IOException {
    Map<String, String> docMap = new LinkedHashMap<>();
    for (int d = 0; d < docTexts.size(); d++) {
      docMap.put("d" + d, docTexts.get(d));
    }
    Map<String, String> queryMap = new LinkedHashMap<>();
    List<GoldenSubsetWriter.Judgement> qrels = new ArrayList<>();
    for (int q = 0; q < queries; q++) {
      int doc = random.nextInt(docTexts.size());
      String[] words = docTexts.get(doc).split(" ");
      int from = random.nextInt(Math.max(1, words.length - 5));
      queryMap.put(
          "q" + q,
          String.join(" ", Arrays.copyOfRange(words, from, Math.min(words.length, from + 5))));
      qrels.add(new GoldenSubsetWriter.Judgement("q" + q, "d" + doc, 1));
    }
    GoldenSubsetWriter.writeRetrieval(
        new org.apache.hadoop.fs.Path(file.toUri()),
        new GoldenSubsetWriter.Retrieval(docMap, queryMap, qrels),
        4 << 20);
  }
}
